"""The answer pipeline with a tiny model, a fake retriever and a bag-of-words embedder."""

from __future__ import annotations

import json
import threading

import pytest

torch = pytest.importorskip("torch")

from tutor.llm.answer import AnswerResult, Profile, Tutor, TutorConfig  # noqa: E402
from tutor.llm.errors import LLMError  # noqa: E402
from tutor.llm.testing import FakeRetriever, HashEmbedder, tiny_llama, tiny_tokenizer  # noqa: E402

SECTIONS = {
    "gan": ("Generative Adversarial Networks", "A gan has two neural networks. The generator create fake data. The discriminator knows real data."),
    "vae": ("Variational Autoencoders", "A vae has an encoder and a decoder. The latent space is simple."),
    "lstm": ("LSTM", "An lstm has gates. The gates keep memory."),
}
OFF_TOPIC = "who won the world cup"


class Spy:
    """Step model that emits a script of token ids, records prompts, and can refuse to be called."""

    def __init__(self, script: list[int], vocab: int, forbid: bool = False) -> None:
        self.script, self.vocab, self.forbid = script, vocab, forbid
        self.max_positions = 4096
        self.prompts: list[list[int]] = []
        self.n = 0

    def _next(self):
        if self.forbid:
            raise AssertionError("the model must not be called")
        logits = torch.zeros(self.vocab)
        logits[self.script[min(self.n, len(self.script) - 1)]] = 5.0
        self.n += 1
        return logits

    def prefill(self, ids):
        self.prompts.append(list(ids))
        self.n = 0
        return self._next()

    def step(self, token):
        return self._next()


class FakeCourse:
    title = "Advanced Generative AI: Models and Architecture"

    def concept(self, cid):
        names = {"lstm": "Long short-term memory", "gan": "GANs"}
        if cid not in names:
            raise KeyError(cid)
        from types import SimpleNamespace

        return SimpleNamespace(name=names[cid])

    def section(self, sid):
        from types import SimpleNamespace

        title, text = SECTIONS[sid]
        return SimpleNamespace(id=sid, title=title, text=text)


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def model(tok):
    return tiny_llama(vocab_size=len(tok))


def make_tutor(tok, model, step=None, **config):
    return Tutor(
        retriever=FakeRetriever(dict(SECTIONS), out_of_scope={OFF_TOPIC}),
        model=model,
        tokenizer=tok,
        encode=HashEmbedder().encode,
        config=TutorConfig(**config),
        course=FakeCourse(),
        model_id="tiny",
        context_tokens=1024,
        step_model=step,
    )


def _ids(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def test_out_of_scope_never_calls_the_model(tok, model):
    spy = Spy([5], len(tok), forbid=True)
    tutor = make_tutor(tok, model, step=spy)
    events = list(tutor.stream(OFF_TOPIC, Profile()))
    assert [e.kind for e in events] == ["evidence", "delta", "done"]
    result = events[-1].result
    assert not result.in_scope and result.evidence == [] and result.grounded is None
    assert "does not cover" in result.answer and "Generative Adversarial Networks" in result.answer
    assert [s.section_id for s in result.sources] == ["gan", "vae", "lstm"]
    assert spy.prompts == []


def test_in_scope_answer_shows_evidence_first_then_streams(tok, model):
    end = tok.convert_tokens_to_ids("<|im_end|>")
    spy = Spy(_ids(tok, "the generator create fake data .") + [end], len(tok))
    tutor = make_tutor(tok, model, step=spy)
    events = list(tutor.stream("what does the generator do?", Profile(level="beginner", style="example")))
    kinds = [e.kind for e in events]
    assert kinds[0] == "evidence" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"}
    partial = events[0].result
    assert partial.answer == "" and partial.evidence[0].section_id == "gan"
    result = events[-1].result
    assert result.in_scope and result.evidence[0].text == SECTIONS["gan"][1]
    # the explanation starts from the evidence's key sentence, then the beginner's plain-words opener
    assert result.answer.startswith("The generator create fake data.")
    assert "In simple words," in result.answer
    assert "".join(e.text for e in events if e.kind == "delta").strip() == result.answer
    assert 0.0 <= result.grounded <= 1.0
    assert {"retrieval_ms", "ttft_ms", "tokens_per_s", "total_ms"} <= set(result.timings)
    payload = json.loads(json.dumps(result.to_json()))
    assert payload["evidence"][0] == {"section_id": "gan", "title": SECTIONS["gan"][0], "text": SECTIONS["gan"][1]}
    assert payload["in_scope"] is True and payload["sources"][0]["section_id"] == "gan"


def test_an_adapter_trained_on_key_sentence_seeds_gets_no_opener(tok, model):
    end = tok.convert_tokens_to_ids("<|im_end|>")
    question, profile = "what does the generator do?", Profile(level="intermediate", style="example")
    answers, prompts = {}, {}
    for seed in ("key+opener", "key"):
        spy = Spy(_ids(tok, "two neural networks compete .") + [end], len(tok))
        tutor = make_tutor(tok, model, step=spy)
        tutor.answer_seed = seed  # what `Tutor.load` reads from the adapter's card
        answers[seed] = tutor.ask(question, profile)
        prompts[seed] = tok.decode(spy.prompts[0])
    assert "For example," in answers["key+opener"].answer
    keyed = answers["key"]
    assert "For example" not in keyed.answer and "for example" not in prompts["key"].split("assistant")[-1]
    assert keyed.answer.startswith("The generator create fake data.") and keyed.answer.endswith("two neural networks compete.")
    # the grounding check still judges only the model's own words, not the seeded lesson sentence
    assert [c for c, _ in keyed.claims] == ["two neural networks compete."]
    # an explicit config wins over the adapter's format
    forced = make_tutor(tok, model, step=Spy(_ids(tok, "two neural networks compete .") + [end], len(tok)), opener=True)
    forced.answer_seed = "key"
    assert "For example," in forced.ask(question, profile).answer
    # a beginner's answer hands over in plain words with either seed
    for seed in ("key+opener", "key"):
        plain = make_tutor(tok, model, step=Spy(_ids(tok, "two neural networks compete .") + [end], len(tok)))
        plain.answer_seed = seed
        result = plain.ask(question, Profile(level="beginner", style="example"))
        assert "In simple words, two neural networks compete." in result.answer and "For example" not in result.answer
        # the opener is the tutor's seeded text: only the model's claim is judged
        assert [c for c, _ in result.claims] == ["two neural networks compete."]


def test_prompt_holds_evidence_profile_and_weak_concepts(tok, model):
    spy = Spy([tok.convert_tokens_to_ids("<|im_end|>")], len(tok))
    tutor = make_tutor(tok, model, step=spy)
    tutor.ask("what does the generator do?", Profile(level="advanced", style="concise", weak_concepts=("lstm", "unknown-id")))
    prompt = tok.decode(spy.prompts[0])
    assert "advanced" in prompt and "short" in prompt
    assert "memory" in prompt  # "Long short-term memory", the weak concept's name
    assert "the generator create fake data" in prompt


def test_grounding_judges_only_what_the_model_wrote(tok, model):
    end = tok.convert_tokens_to_ids("<|im_end|>")
    tutor = make_tutor(tok, model, step=Spy([end], len(tok)))
    only_seed = tutor.ask("what does the generator do?")
    assert only_seed.grounded == 1.0 and only_seed.supported is True
    # words of the tiny vocabulary that the evidence never uses (unknown words would decode to nothing)
    off = make_tutor(tok, model, step=Spy(_ids(tok, "patient tutor student quiz feedback concrete everyday .") + [end], len(tok)))
    flagged = off.ask("what does the generator do?")
    assert flagged.supported is False and flagged.notice


def test_cancel_event_stops_the_answer(tok, model):
    spy = Spy(_ids(tok, "gan vae lstm gru gan vae lstm gru gan vae"), len(tok))
    tutor = make_tutor(tok, model, step=spy, max_new_tokens=100)
    cancel = threading.Event()
    final = None
    deltas = 0
    for event in tutor.stream("what does the generator do?", cancel=cancel):
        if event.kind == "delta":
            deltas += 1
            if deltas == 2:  # the seed, then the model's first token
                cancel.set()
        if event.kind == "done":
            final = event.result
    assert final.cancelled and final.timings["new_tokens"] <= 2


def test_a_second_request_stops_the_first(tok, model):
    tutor = make_tutor(tok, model, step=None, max_new_tokens=200, one_paragraph=False)
    first = tutor.stream("what does the generator do?")
    got = []
    for event in first:
        got.append(event)
        if sum(e.kind == "delta" for e in got) == 3:
            break
    second: dict[str, AnswerResult] = {}
    worker = threading.Thread(target=lambda: second.setdefault("r", tutor.ask("what is a vae?")))
    worker.start()
    for event in first:  # the first answer notices the cancel at its next token
        got.append(event)
    worker.join(timeout=60)
    assert got[-1].kind == "done" and got[-1].result.cancelled
    assert "r" in second and not second["r"].cancelled


def test_explain_stream_puts_the_learners_attempt_in_the_prompt(tok, model):
    spy = Spy([tok.convert_tokens_to_ids("<|im_end|>")], len(tok))
    tutor = make_tutor(tok, model, step=spy)
    events = list(
        tutor.explain_stream("what does the discriminator do?", ["gan"], "the generator knows real data", "the discriminator knows real data", Profile())
    )
    result = events[-1].result
    assert result.evidence[0].section_id == "gan" and result.in_scope
    prompt = tok.decode(spy.prompts[0])
    assert "the generator knows real data" in prompt and "the discriminator knows real data" in prompt
    with pytest.raises(LLMError, match="unknown section"):
        list(tutor.explain_stream("q?", ["nope"], "a", "b", Profile()))


def test_bad_input_is_a_domain_error(tok, model):
    tutor = make_tutor(tok, model, step=Spy([5], len(tok), forbid=True))
    with pytest.raises(LLMError, match="empty"):
        list(tutor.stream("   "))
    with pytest.raises(LLMError, match="level"):
        list(tutor.stream("what is a gan?", Profile(level="guru")))


def test_real_tiny_model_end_to_end(tok, model):
    tutor = make_tutor(tok, model, max_new_tokens=12, one_paragraph=False)
    result = tutor.ask("what does the generator do?", Profile(style="step-by-step"))
    assert result.answer.startswith("The generator create fake data.")
    assert "Step by step:\n1." in result.answer
    assert result.timings["new_tokens"] <= 12 and result.timings["prompt_tokens"] > 50


def test_a_section_opening_with_it_gets_its_subject_from_the_title():
    from tutor.llm.evidence import EvidenceConfig, pick_evidence
    from tutor.llm.testing import FakeHit

    hits = [FakeHit("lstm", "Components of RNN: Long Short-Term Memory", "It is a type of RNN. It keeps memory with gates.", 1.0)]

    def best(question, section_id, n):
        return [("It is a type of RNN.", 0.9), ("It keeps memory with gates.", 0.1)][:n]

    pick = pick_evidence("what is an lstm", hits, best, EvidenceConfig(key_sentences=1))
    assert pick.key_sentences == ("Long Short-Term Memory: it is a type of RNN.",)
    assert pick.evidence[0].text == hits[0].text  # the quoted evidence stays verbatim


def test_list_intro_brings_its_items():
    from tutor.llm.evidence import EvidenceConfig, pick_evidence
    from tutor.llm.testing import FakeHit

    text = "GenAI plays a crucial role in: Creativity. Automation"
    hits = [FakeHit("why", "Why", text, 1.0)]
    rows = [("GenAI plays a crucial role in:", 0.9), ("Creativity and innovation", 0.1), ("Automation and efficiency", 0.05)]

    pick = pick_evidence("why does it matter", hits, lambda q, s, n: rows[:n], EvidenceConfig(key_sentences=1))
    assert pick.key_sentence == "GenAI plays a crucial role in: Creativity and innovation; Automation and efficiency."


def test_a_beginner_gets_the_plainer_of_near_tied_lesson_sentences():
    from tutor.llm.evidence import PLAIN_POOL, EvidenceConfig, pick_evidence, prefer_plain
    from tutor.llm.testing import FakeHit

    technical = "The discriminator evaluates generated representations against authentic distributional characteristics."
    plain = "The critic checks if a picture is real or fake."
    rows = [(technical, 0.90), (plain, 0.86), ("A GAN has two parts.", 0.20)]
    hits = [FakeHit("gan", "GANs", " ".join(r[0] for r in rows), 1.0)]
    cfg = EvidenceConfig(key_sentences=3, beginner_key_sentences=1, beginner_plain_words=0.3)

    def pick(level):
        return pick_evidence("what does the discriminator do", hits, lambda q, s, n: rows[:n], cfg.for_level(level))

    assert pick("advanced").key_sentences[0] == technical and len(pick("advanced").key_sentences) == 3
    assert pick("beginner").key_sentences == (plain,)
    assert EvidenceConfig().for_level("beginner").plain_words == 0.0  # off by default (see `for_level`)
    # a clearly better sentence keeps its place, and the preference never reaches past the pool
    ranked = [(2.0, 0, 0, technical), (0.86, 0, 1, plain)]
    assert prefer_plain(ranked, 0.3)[0][3] == technical
    deep = [(1.0 - i / 100, 0, i, technical) for i in range(PLAIN_POOL)] + [(0.95, 0, 9, plain)]
    assert prefer_plain(deep, 0.3)[PLAIN_POOL][3] == plain
    assert prefer_plain(rows_as := [(0.9, 0, 0, technical), (0.86, 0, 1, plain)], 0.0) == rows_as


def test_an_opener_the_model_adds_nothing_to_is_not_left_dangling(tok, model):
    end = tok.convert_tokens_to_ids("<|im_end|>")
    tutor = make_tutor(tok, model, step=Spy([end], len(tok)))
    result = tutor.ask("what does the generator do?", Profile(level="beginner", style="example"))
    assert result.key_sentence and result.answer == result.key_sentence  # the lesson sentences, no "In simple words,"
    assert "simple words" not in result.answer


def test_a_beginner_gets_fewer_lesson_sentences_than_an_advanced_learner(tok, model):
    from tutor.llm.evidence import EvidenceConfig

    config = EvidenceConfig()
    assert config.for_level("beginner").key_sentences < config.for_level("advanced").key_sentences
    assert config.for_level("intermediate") == config
    end = tok.convert_tokens_to_ids("<|im_end|>")
    seeds = {}
    for level in ("beginner", "advanced"):
        tutor = make_tutor(tok, model, step=Spy([end], len(tok)))
        seeds[level] = tutor.ask("what does the generator do?", Profile(level=level, style="example")).key_sentence
    # all three GAN sentences for the advanced learner; the two best for the beginner
    assert seeds["advanced"].count(".") == 3 and seeds["beginner"].count(".") == 2
    assert all(part.strip(".") in seeds["advanced"] for part in seeds["beginner"].split(". "))
