"""The hand-written embedder training questions (adapters/data/embedder-questions.yaml).

They are only worth something if they never leak the heldout split: a training
question that paraphrases a heldout one closely would make the heldout figures
a measure of memory. These tests fail on an exact or near duplicate (stemmed
term overlap), on a question pointing at a section that does not exist, and
when the set shrinks below what the fine-tune was measured with.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from tutor.retrieval.devset import DevSet, InScopeQuestion, OutOfScopeQuestion
from tutor.retrieval.errors import RetrievalError
from tutor.retrieval.trainset import (
    NEAR_DUPLICATE_JACCARD,
    TrainQuestion,
    TrainSet,
    default_trainset_path,
    load_trainset,
    near_duplicates,
    term_overlap,
)

ROOT = Path(__file__).resolve().parents[1]
DEVSET = ROOT / "evals" / "genai-models" / "questions.yaml"
MIN_TRAIN_QUESTIONS = 250
MIN_PER_SECTION = 3
MIN_NEAR_TOPIC = 30
DEV_NEAR_DUPLICATE = 0.5


@pytest.fixture(scope="module")
def trainset() -> TrainSet:
    return load_trainset()


def _split(name: str) -> list[str]:
    data = yaml.safe_load(DEVSET.read_text(encoding="utf-8"))
    return [q["question"] for q in data["in_scope"] + data["out_of_scope"] if q.get("split") == name]


@pytest.fixture(scope="module")
def heldout() -> list[str]:
    return _split("heldout")


def test_trainset_ships_in_adapters_data(trainset: TrainSet) -> None:
    assert trainset.path == default_trainset_path()
    assert len(trainset.in_scope) >= MIN_TRAIN_QUESTIONS
    assert sum(q.kind == "near-topic" for q in trainset.out_of_scope) >= MIN_NEAR_TOPIC
    texts = [" ".join(q.question.lower().split()) for q in trainset.in_scope + trainset.out_of_scope]
    dupes = [t for t, n in Counter(texts).items() if n > 1]
    assert not dupes, f"repeated training questions: {dupes[:3]}"


def test_every_section_has_several_questions(trainset: TrainSet) -> None:
    from tutor.content import load_course

    ids = {s.id for s in load_course().sections()}
    load_trainset(section_ids=ids)  # raises on an unknown section id
    per_section = Counter(q.sections[0] for q in trainset.in_scope)
    thin = sorted(s for s in ids if per_section[s] < MIN_PER_SECTION)
    assert not thin, f"sections with fewer than {MIN_PER_SECTION} training questions: {thin}"


def test_no_training_question_is_close_to_a_heldout_question(trainset: TrainSet, heldout: list[str]) -> None:
    assert len(heldout) >= 30  # the heldout split is really there to compare against
    questions = [q.question for q in trainset.in_scope] + [q.question for q in trainset.out_of_scope]
    close = near_duplicates(questions, heldout)
    assert not close, "training questions too close to heldout ones:\n" + "\n".join(
        f"  {o:.2f}  {q!r} ~ {h!r}" for q, h, o in close
    )


def test_no_training_question_repeats_a_dev_question(trainset: TrainSet) -> None:
    """Cross-fitting scores each dev question with an adapter trained without it, and every method
    choice is measured on dev: a training question that restates a dev one would leak it back in.
    (Looser than the heldout guard: dev questions are trained on by the final adapter anyway.)"""
    questions = [q.question for q in trainset.in_scope] + [q.question for q in trainset.out_of_scope]
    close = near_duplicates(questions, _split("dev"), DEV_NEAR_DUPLICATE)
    assert not close, "training questions restating dev ones:\n" + "\n".join(
        f"  {o:.2f}  {q!r} ~ {h!r}" for q, h, o in close
    )


def test_near_duplicate_check_flags_paraphrases_not_topics() -> None:
    assert term_overlap("gated recurrent unit explained", "gated recurrent unit - what are the gates for") >= (
        NEAR_DUPLICATE_JACCARD
    )
    assert near_duplicates(["What is a GAN?"], ["what is a  gan?"])  # same text, any overlap
    assert not near_duplicates(["how are deepfakes made"], ["what is a gan", "what does the decoder do"])
    assert term_overlap("", "anything") == 0.0


def test_loader_rejects_unknown_sections_and_missing_fields(tmp_path: Path) -> None:
    bad = tmp_path / "q.yaml"
    bad.write_text("in_scope:\n  - {question: 'what is a gan', sections: [no-such-section]}\n")
    with pytest.raises(RetrievalError, match="unknown section 'no-such-section'"):
        load_trainset(bad, section_ids={"gan"})
    bad.write_text("in_scope:\n  - {question: 'what is a gan'}\n")
    with pytest.raises(RetrievalError, match="entry 1 is missing"):
        load_trainset(bad)
    with pytest.raises(RetrievalError, match="no training questions"):
        load_trainset(tmp_path / "absent.yaml")


def test_student_pairs_are_added_and_heldout_paraphrases_refused() -> None:
    from tutor.content import load_course
    from tutor.retrieval.pairs import check_no_heldout, generate_pairs

    course = load_course()
    devset = DevSet(
        in_scope=(InScopeQuestion("h1", "why are the gates of a gated recurrent unit there", ("gru",), "heldout"),),
        out_of_scope=(OutOfScopeQuestion("o1", "capital of france", "off-topic", "heldout"),),
    )
    ok = TrainSet((TrainQuestion("how does a vae sample new images", ("vae", "vae-image-compression")),), ())
    pairs = generate_pairs(course, devset, trainset=ok)
    student = [p for p in pairs if p.source == "student"]
    assert {p.section_id for p in student} == {"vae", "vae-image-compression"}
    assert all(p.relevant >= {"vae", "vae-image-compression"} for p in student)
    check_no_heldout(pairs, devset)  # nothing close: no error
    close = TrainSet((TrainQuestion("gated recurrent unit gates, why are they there", ("gru",)),), ())
    with pytest.raises(RetrievalError, match="too close to heldout"):
        check_no_heldout(generate_pairs(course, devset, trainset=close), devset)
