"""Example questions as section keys (`tutor.retrieval.keys`), with the fake bag-of-words embedder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from test_retrieval import FakeEmbedder, make_course
from tutor.retrieval import Retriever
from tutor.retrieval.keys import QuestionKey, default_question_keys, keys_for_split, keys_for_sections

# A student's wording that shares no word with the GAN section but one with the VAE section
# ("latent"), so without keys the VAE section wins.
QUERY = "forger and cop game, the latent one"
KEY = QuestionKey("the forger and the cop game", "gan")


def test_a_matching_example_question_lifts_its_section_first(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    plain = Retriever.build(course, embedder=FakeEmbedder(), cache_dir=tmp_path / "c1", question_keys=())
    keyed = Retriever.build(course, embedder=FakeEmbedder(), cache_dir=tmp_path / "c2", question_keys=(KEY,))
    assert plain.search(QUERY).hits[0].section_id != "gan"
    assert keyed.search(QUERY).hits[0].section_id == "gan"
    # the switch in the fusion turns the keys off again, on the same index
    scores = keyed.scores(QUERY)
    order, _ = keyed.rank(scores, replace(keyed.config.fusion, question_keys=False))
    assert keyed.sections[int(order[0])].id != "gan"


def test_keys_do_not_change_the_scope_decision(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    plain = Retriever.build(course, embedder=FakeEmbedder(), cache_dir=tmp_path / "c1", question_keys=())
    keyed = Retriever.build(course, embedder=FakeEmbedder(), cache_dir=tmp_path / "c2",
                            question_keys=(QuestionKey("who won the world cup", "gan"),))
    a, b = plain.search("who won the world cup"), keyed.search("who won the world cup")
    assert (a.in_scope, a.scope_score) == (b.in_scope, b.scope_score)
    assert keyed.scores("who won the world cup").features == plain.scores("who won the world cup").features


def test_keys_are_cached_with_the_index_and_a_new_key_rebuilds(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    cache = tmp_path / "cache"
    Retriever.build(course, embedder=FakeEmbedder(), cache_dir=cache, question_keys=(KEY,))
    again = FakeEmbedder()
    r = Retriever.build(course, embedder=again, cache_dir=cache, question_keys=(KEY,))
    assert r.stats.cache_hit and again.calls == 0
    assert r.search(QUERY).hits[0].section_id == "gan"
    changed = FakeEmbedder()
    r2 = Retriever.build(course, embedder=changed, cache_dir=cache,
                         question_keys=(KEY, QuestionKey("decoder question", "vae")))
    assert not r2.stats.cache_hit and changed.calls == 1
    assert len(r2.question_keys) == 2
    assert len(list(cache.glob("*.npz"))) == 1


def test_keys_of_unknown_sections_are_dropped(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    r = Retriever.build(course, embedder=FakeEmbedder(), cache_dir=tmp_path / "c",
                        question_keys=(KEY, QuestionKey("what is an lstm", "lstm")))
    assert [k.section_id for k in r.question_keys] == ["gan"]
    assert np.isneginf(r.scores("latent space").keys).sum() == len(r.sections) - 1
    pairs = [("  what is a GAN ", ["gan", "vae"]), ("what is a gan", ["gan"]), ("x", ["nope"]), ("", ["gan"])]
    assert keys_for_sections(pairs, {"gan", "vae"}) == (QuestionKey("what is a GAN", "gan"),)


def _files(tmp_path: Path, train_section: str) -> tuple[Path, Path]:
    train = tmp_path / "train.yaml"
    train.write_text(f"in_scope:\n  - {{question: forger and cop, sections: [{train_section}]}}\n")
    dev = tmp_path / "q.yaml"
    dev.write_text(
        "in_scope:\n"
        "  - {id: q1, question: what is the latent space, sections: [vae], split: dev}\n"
        "  - {id: q2, question: what does the generator do, sections: [gan], split: heldout}\n"
        "out_of_scope: []\n"
    )
    return train, dev


def test_default_keys_take_training_and_dev_questions_never_heldout(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    train, dev = _files(tmp_path, "gan")
    keys = default_question_keys(course, ("dev", "heldout"), trainset_path=train, devset_path=dev)
    assert [k.question for k in keys] == ["forger and cop", "what is the latent space"]
    # a split is measured without its own questions as keys
    dev_keys = default_question_keys(course, (), trainset_path=train, devset_path=dev)
    assert [k.question for k in dev_keys] == ["forger and cop"]
    assert len(keys_for_split(course, "dev", devset_path=dev)) < len(keys_for_split(course, "heldout", devset_path=dev))


def test_question_files_of_another_course_give_no_keys(tmp_path: Path) -> None:
    course = make_course(tmp_path / "course")
    train, dev = _files(tmp_path, "lstm")  # a section this course does not have
    keys = default_question_keys(course, ("dev",), trainset_path=train, devset_path=dev)
    assert [k.question for k in keys] == ["what is the latent space"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("in_scope: [ {question: ")
    assert default_question_keys(course, ("dev",), trainset_path=broken, devset_path=broken) == ()


def test_keys_only_reorder_the_three_best_sections(tmp_path: Path, monkeypatch) -> None:
    import tutor.retrieval.retriever as retriever_module

    course = make_course(tmp_path / "course")
    query = "temperature latent discriminator"  # one word of three sections, none of the use-cases table
    key = QuestionKey(query, "use-cases")
    r = Retriever.build(course, embedder=FakeEmbedder(), cache_dir=tmp_path / "c", question_keys=(key,))
    hits = r.search(query, k=4).hits
    assert [h.section_id for h in hits][-1] == "use-cases"  # a perfect key cannot pull it into the top three
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    monkeypatch.setattr(retriever_module, "KEY_RERANK_TOP", 4)
    assert r.search(query, k=4).hits[0].section_id == "use-cases"
