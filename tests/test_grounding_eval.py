"""The groundedness check measured against hand labels: reading the labels, scoring, agreement, per-group figures."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tutor.llm.errors import LLMError
from tutor.llm.grounding_eval import (
    LabelledSentence,
    ScoredSentence,
    agreement,
    by_group,
    load_labels,
    score_items,
)
from tutor.llm.testing import HashEmbedder

EVIDENCE = [
    "GANs consist of two neural networks: a generator and a discriminator. "
    "The generator creates synthetic data, while the discriminator tells real from fake data."
]

LABELS = """
items:
  - id: g1
    source: adapter/intermediate/q1
    question: what does the discriminator do in a gan?
    evidence: ["%s"]
    sentence: The generator creates synthetic data while the discriminator tells real from fake data.
    label: supported
  - id: g2
    source: adapter/intermediate/q1
    question: what does the discriminator do in a gan?
    evidence: ["%s"]
    sentence: Ian Goodfellow invented them in Montreal during 2014 over beers.
    label: unsupported
    wrong: false
    note: names, place and date are not in the evidence
""" % (EVIDENCE[0], EVIDENCE[0])


def item(i: int, label: str, source: str = "adapter/intermediate/q1", wrong: bool = False) -> LabelledSentence:
    return LabelledSentence(id=f"g{i}", source=source, question="q", evidence=["e"], sentence=f"s{i}", label=label,
                            wrong=wrong)


def test_labels_load_and_the_check_scores_each_sentence_against_its_evidence(tmp_path) -> None:
    path = tmp_path / "grounding.yaml"
    path.write_text(LABELS)
    items = load_labels(path)
    scored = {s.item.id: s.score for s in score_items(items, HashEmbedder().encode)}
    assert scored["g1"] >= 0.65 > scored["g2"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("items: [", "cannot read"),
        ("items:\n  - id: g1\n    source: a/b/q\n    question: q\n    evidence: [e]\n    sentence: s\n    label: maybe\n",
         "label"),
        ("items:\n" + "  - {id: g1, source: a/b/q, question: q, evidence: [e], sentence: s, label: supported}\n" * 2,
         "used twice"),
        ("items:\n  - {id: g1, source: a/b/q, question: q, evidence: [], sentence: s, label: supported}\n", "evidence"),
    ],
)
def test_malformed_labels_get_a_message_naming_the_file(tmp_path, text, message) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(LLMError, match=message) as err:
        load_labels(path)
    assert "bad.yaml" in str(err.value)


def test_agreement_counts_flags_against_labels() -> None:
    scored = [
        ScoredSentence(item(1, "unsupported", wrong=True), 0.30),  # flagged, right
        ScoredSentence(item(2, "unsupported"), 0.90),  # missed
        ScoredSentence(item(3, "supported"), 0.50),  # false flag
        ScoredSentence(item(4, "supported"), 0.80),
        ScoredSentence(item(5, "no-claim"), 0.95),  # fine to say: not flagged is right
    ]
    a = agreement(scored, threshold=0.65)
    assert (a.n, a.unsupported, a.flagged, a.wrong) == (5, 2, 2, 1)
    assert a.agreement == pytest.approx(3 / 5)
    assert a.flag_precision == pytest.approx(0.5) and a.flag_recall == pytest.approx(0.5)
    assert a.balanced_accuracy == pytest.approx((0.5 + 2 / 3) / 2, abs=1e-4)
    assert a.wrong_caught == pytest.approx(1.0)
    assert agreement(scored, threshold=0.2).flagged == 0
    only_fine = agreement([ScoredSentence(item(1, "supported"), 0.3)])
    assert only_fine.balanced_accuracy is None and only_fine.flag_recall is None  # nothing unsupported to find


def test_groups_average_per_answer_as_the_pipeline_does() -> None:
    scored = [
        ScoredSentence(item(1, "unsupported", "adapter/beginner/q1"), 0.9),
        ScoredSentence(item(2, "supported", "adapter/beginner/q1"), 0.9),
        ScoredSentence(item(3, "supported", "adapter/beginner/q2"), 0.1),
        ScoredSentence(item(4, "supported", "base/beginner/q1"), 0.9),
    ]
    groups = {g.group: g for g in by_group(scored, threshold=0.65)}
    beginner = groups["adapter/beginner"]
    assert (beginner.answers, beginner.sentences) == (2, 3)
    assert beginner.grounded_by_labels == pytest.approx((0.5 + 1.0) / 2)
    assert beginner.grounded_by_check == pytest.approx((1.0 + 0.0) / 2)
    assert groups["base/beginner"].grounded_by_labels == 1.0


def test_eval_grounding_command_prints_figures_and_refuses_a_bad_file(tmp_path, monkeypatch) -> None:
    import tutor.retrieval as retrieval
    from tutor.cli.main import cli

    class Loaded:
        encode = staticmethod(HashEmbedder().encode)

    monkeypatch.setattr(retrieval, "load_embedder", lambda *a, **k: Loaded())
    good = tmp_path / "grounding.yaml"
    good.write_text(LABELS)
    out = CliRunner().invoke(cli, ["eval", "grounding", "--labels", str(good), "--json"])
    assert out.exit_code == 0, out.output
    figures = json.loads(out.output)
    assert figures["shipped_threshold"]["n"] == 2 and figures["shipped_threshold"]["agreement"] == 1.0
    assert [g["group"] for g in figures["groups"]] == ["adapter/intermediate"]
    table = CliRunner().invoke(cli, ["eval", "grounding", "--labels", str(good)])
    assert "balanced accuracy" in table.output and "adapter/intermediate" in table.output
    bad = tmp_path / "broken.yaml"
    bad.write_text("items: [")
    out = CliRunner().invoke(cli, ["eval", "grounding", "--labels", str(bad)])
    assert out.exit_code == 1 and "broken.yaml" in out.output and "Traceback" not in out.output


def test_cross_validation_chooses_on_one_half_of_the_questions_and_measures_on_the_other() -> None:
    from tutor.llm.grounding_eval import cross_validate

    # unsupported sentences score 0.50-0.55, supported 0.60-0.70: 0.65 flags half the supported ones,
    # a threshold of 0.60 separates them on either half
    scored = []
    for q in range(8):
        src = f"adapter/intermediate/q{q}"
        scored.append(ScoredSentence(item(3 * q, "unsupported", src), 0.50 + 0.005 * q))
        scored.append(ScoredSentence(item(3 * q + 1, "supported", src), 0.62))
        scored.append(ScoredSentence(item(3 * q + 2, "supported", src), 0.70))
    cv = cross_validate(scored, shipped=0.65)
    assert cv is not None and cv.folds == (0.6, 0.6)
    assert cv.chosen_balanced_accuracy == 1.0 and cv.shipped_balanced_accuracy == 0.75
    assert cross_validate([ScoredSentence(item(1, "supported", "a/b/q1"), 0.9)]) is None
