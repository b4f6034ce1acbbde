"""The LoRA training-data builder: splits, budget, leaks, faithfulness screens (no models: fake retriever)."""

from __future__ import annotations

import pytest

from tutor.llm import train_data as td


@pytest.fixture(scope="module")
def course():
    from tutor.content import load_course

    return load_course()


@pytest.fixture(scope="module")
def bank(course):
    from tutor.quiz.bank import load_bank

    return load_bank(course)


def fake_source(course) -> td.PassageSource:
    """Word-overlap retrieval over the real sections: deterministic and instant."""
    sections = td.course_passages(course)
    words = {sid: td._content_words(p.title + " " + p.text) for sid, p in sections.items()}

    def search(query: str, k: int) -> list[str]:
        q = td._content_words(query)
        return sorted(sections, key=lambda s: (-len(q & words[s]), s))[:k]

    return td.PassageSource(sections, search, "fake")


def fake_render(ex: td.RawExample) -> tuple[str, str]:
    text = "\n".join(f"{p.title}: {p.text}" for p in ex.passages)
    prompt = f"{ex.level}/{ex.style}\n{text}\nQ: {ex.question}\nA:"
    return prompt, text + " " + ex.question + " " + " ".join(t for _, t in ex.history)


def count_words(text: str) -> int:
    return len(text.split())


BUDGET = 700  # words, standing in for tokens


@pytest.fixture(scope="module")
def dataset(course, bank) -> td.Dataset:
    return td.build_dataset(fake_render, fake_source(course), bank.items, count_tokens=count_words, max_len=BUDGET)


def test_enough_examples_of_every_kind(dataset: td.Dataset) -> None:
    counts = dataset.counts()
    assert counts["train"] + counts["dev"] >= 600
    for kind in ("explain", "compare", "followup", "quiz-feedback", "hint", "scenario", "off-topic", "near-topic", "lacking", "no-evidence"):
        assert counts["kinds"].get(kind, 0) > 0, kind
    assert 0.2 <= counts["unanswerable_share"] <= 0.35


def test_split_is_by_question(dataset: td.Dataset) -> None:
    train_q = {td.norm_question(e.question) for e in dataset.train}
    dev_q = {td.norm_question(e.question) for e in dataset.dev}
    assert dev_q, "no dev examples"
    assert not (train_q & dev_q)


def test_every_example_fits_the_budget(dataset: td.Dataset) -> None:
    assert all(0 < e.tokens <= BUDGET for e in dataset.train + dataset.dev)


def test_no_heldout_question_is_used(dataset: td.Dataset) -> None:
    heldout = td.heldout_questions()
    assert len(heldout) > 20
    held_norm = {td.norm_question(h) for h in heldout}
    for e in dataset.train + dataset.dev:
        q = e.question
        assert td.norm_question(q) not in held_norm
        assert all(td.question_overlap(q, h) < td.HELDOUT_MAX_OVERLAP for h in heldout), q


def test_heldout_screen_catches_a_paraphrase() -> None:
    ex = td.RawExample(id="x", kind="explain", question="what are the two main parts of a VAE?", target="t")
    kept, dropped = td.drop_near_heldout([ex], ["what are the two main parts of a vae"], embed=None)
    assert kept == [] and dropped[0]["overlap"] >= td.HELDOUT_MAX_OVERLAP


def test_gold_sections_are_in_the_prompt(dataset: td.Dataset) -> None:
    for e in dataset.train + dataset.dev:
        if e.answerable and e.gold:
            assert e.gold[0] == e.sections[0], e.id  # the supporting section is the one shown in full
            assert set(e.gold[:3]) <= set(e.sections), e.id


def test_unanswerable_targets_decline_and_answerable_ones_do_not(dataset: td.Dataset) -> None:
    from tutor.llm.compare import declines

    for e in dataset.train + dataset.dev:
        if e.kind in ("off-topic", "near-topic", "lacking", "no-evidence"):
            assert declines(e.target), e.target
        elif e.kind in ("explain", "compare", "followup"):
            assert not declines(e.target), e.target


def test_no_evidence_prompts_lack_the_gold_sections(dataset: td.Dataset) -> None:
    checked = 0
    for e in dataset.train + dataset.dev:
        if e.kind == "no-evidence":
            checked += 1
            topic = e.id.split(":")[1]
            golds = {g for t in td._load_yaml(td.data_dir() / "explain.yaml")["topics"] if t["id"] == topic for g in t["sections"]}
            assert not golds & set(e.sections), e.id
    assert checked > 0


def test_hints_never_give_the_key(dataset: td.Dataset, bank) -> None:
    by_id = {it.id: it for it in bank.items}
    hints = [e for e in dataset.train + dataset.dev if e.kind == "hint"]
    assert hints
    for e in hints:
        item = by_id[e.id.split(":", 1)[1]]
        right = next(o for o in item.options if o.key == item.answer)
        assert right.text.lower()[:40] not in e.target.lower()
        assert f"answer is {item.answer}" not in e.target


def test_faithfulness_screen_flags_added_facts() -> None:
    support = "GANs consist of two neural networks: a generator and a discriminator."
    assert td.unsupported_words("A GAN has a generator and a discriminator.", support) == []
    assert "latent" in td.unsupported_words("A GAN encodes data into a latent space.", support)


def test_profiles_choose_the_most_specific_target() -> None:
    topic = {"beginner": "b", "advanced": "a", "concise": "c", "beginner/analogy": "ba"}
    assert td._pick_target(topic, "beginner", "analogy") == ("ba", "beginner/analogy")
    assert td._pick_target(topic, "advanced", "concise") == ("c", "concise")
    assert td._pick_target(topic, "intermediate", "example") == ("a", "advanced")
    assert td._pick_target(topic, "advanced", "analogy") == ("a", "advanced")


def _tiny_source() -> td.PassageSource:
    sections = {
        "gan": td.PassageText("gan", "GAN", "a gan has two neural networks. the generator create fake data."),
        "vae": td.PassageText("vae", "VAE", "a vae has an encoder and a decoder. the latent space holds data."),
    }

    def best_sentences(question: str, sid: str, n: int) -> list[tuple[str, float]]:
        q = set(question.lower().split())
        sents = [s.strip() + "." for s in sections[sid].text.split(".") if s.strip()]
        return sorted(((s, len(q & set(s.lower().split())) / 10) for s in sents), key=lambda x: -x[1])[:n]

    return td.PassageSource(sections, lambda q, k: ["gan", "vae"][:k], "tiny", best_sentences, "course")


@pytest.mark.parametrize("seed", [None, "key", "key+opener"])
@pytest.mark.parametrize("level", ["beginner", "advanced"])
def test_runtime_renderer_seeds_the_answer_as_the_tutor_does(seed, level) -> None:
    """Training prompts end where the run-time model starts writing: after the seed the tutor writes."""
    from tutor.llm.prompt import BEGINNER_OPENER, OPENERS
    from tutor.llm.testing import tiny_tokenizer

    source = _tiny_source()
    render = td.runtime_renderer(tiny_tokenizer(), source, context_tokens=1024, answer_seed=seed)
    ex = td.RawExample(id="x", kind="explain", question="what does the generator create?", target="Fake data.",
                       level=level, style="example", gold=("gan",),
                       passages=(source.sections["gan"], source.sections["vae"]))
    prompt, _ = render(ex)
    head, answer = prompt.rsplit("<|im_start|>assistant\n", 1)
    assert "what does the generator create?" in head
    if seed is None:
        assert answer == ""
    else:
        assert answer.startswith("the generator create fake data.")
        if level == "beginner":  # a beginner's seed always hands over in plain words
            assert answer.endswith(BEGINNER_OPENER)
        else:
            assert answer.endswith(OPENERS["example"]) == (seed == "key+opener")


def test_a_target_after_an_opener_reads_on_from_it() -> None:
    from tutor.llm.text import after_opener

    assert after_opener("Key. In simple words,", "The retailer uses data.") == "the retailer uses data."
    assert after_opener("Key. In simple words,", "GANs compete.") == "GANs compete."  # a name keeps its capital
    assert after_opener("Key sentence.", "The retailer uses data.") == "The retailer uses data."  # no opener


def test_seeded_prompts_get_targets_that_continue_with_a_space(course, bank) -> None:
    def render(ex: td.RawExample) -> tuple[str, str]:
        prompt, support = fake_render(ex)
        return prompt + " The lesson's key sentence.", support

    seeded = td.build_dataset(render, fake_source(course), bank.items, count_tokens=count_words, max_len=BUDGET)
    plain = td.build_dataset(lambda e: (fake_render(e)[0] + "\n", fake_render(e)[1]), fake_source(course),
                             bank.items, count_tokens=count_words, max_len=BUDGET)
    assert seeded.train and all(e.target.startswith(" ") and not e.target.startswith("  ") for e in seeded.train)
    assert all(not e.target.startswith(" ") for e in plain.train)


def test_subset_weights_leave_kinds_out_and_keep_order(dataset: td.Dataset) -> None:
    train = dataset.train
    everything = td.select_subset(train, len(train), weights={})
    assert everything == list(train)
    chosen = td.select_subset(train, len(train), weights={"off-topic": 0.0, "hint": 0})
    assert chosen and {e.kind for e in chosen} == {e.kind for e in train} - {"off-topic", "hint"}
    pos = {id(e): i for i, e in enumerate(train)}
    assert [pos[id(e)] for e in chosen] == sorted(pos[id(e)] for e in chosen)  # input order kept
    # the shipped defaults train on no unanswerable example (the scope gate declines those questions)
    default = td.select_subset(train, len(train))
    assert default and all(e.answerable for e in default)
    small = td.select_subset(train, 10, weights={"explain": 100.0})
    assert len(small) == 10 and sum(e.kind == "explain" for e in small) >= 8


def test_level_repeats_weigh_a_level_up_without_leaving_anything_out(dataset: td.Dataset) -> None:
    train = list(dataset.train)
    beginners = sum(e.level == "beginner" for e in train)
    assert 0 < beginners < len(train)
    twice = td.repeat_levels(train, {"beginner": 2})
    assert len(twice) == len(train) + beginners
    assert {id(e) for e in twice} == {id(e) for e in train}
    assert all(sum(x is e for x in twice) == (2 if e.level == "beginner" else 1) for e in train[:40])
    assert td.repeat_levels(train, {}) == train
    for bad in ({"novice": 2}, {"beginner": 0}, {"beginner": 1.5}):
        with pytest.raises(td.DataError):
            td.repeat_levels(train, bad)
