"""Scenario grading: each kind of answer, the guard rails, the verdict rule, calibration, the dev set."""

from __future__ import annotations

import pytest
from test_quiz_kit import GAN_SCENARIO, fake_embed, make_bank

from tutor.quiz.grading import (
    DEFAULT_THRESHOLDS,
    ScenarioAnswer,
    ScenarioFeatures,
    ScenarioGrader,
    decide,
    grade_multiple_choice,
    needed_points,
    scenario_feedback,
)
from tutor.quiz.grading_eval import Expected, Sample, Scored, calibrate, report, split


def grader() -> ScenarioGrader:
    return ScenarioGrader(fake_embed)


def grade(model_type: str, explanation: str):
    return grader().grade(GAN_SCENARIO, ScenarioAnswer(model_type, explanation))


def test_excellent_answer_is_correct_with_every_key_point() -> None:
    g = grade("gan", "A generator network creates synthetic fake frames of the face. A discriminator network tries to "
                     "tell real data from generated data. The two networks are trained adversarially, competing until "
                     "the fakes look real.")
    assert (g.verdict, g.key_points_met, g.score) == ("correct", (0, 1, 2), 1.0)


def test_partial_answer_meets_some_key_points() -> None:
    g = grade("gan", "A generator network creates synthetic fake frames of the actor.")
    assert g.verdict == "partial"
    assert g.key_points_met == (0,) and g.key_points_missed == (1, 2)
    assert 0.4 < g.score < 1.0


def test_wrong_type_is_incorrect_even_with_a_sound_explanation() -> None:
    g = grade("vae", GAN_SCENARIO.model_answer)
    assert g.verdict == "incorrect" and g.score == 0.0 and not g.type_ok
    assert len(g.key_points_met) == 3  # the explanation itself is still recognised


def test_right_type_wrong_reason_earns_nothing() -> None:
    g = grade("gan", "Because it reads the video one frame after another and remembers the earlier scenes in order.")
    assert (g.verdict, g.score, g.key_points_met) == ("incorrect", 0.0, ())


@pytest.mark.parametrize(
    "explanation, flag",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("gan gan", "empty"),
        ("asdkj qwpoe zzxcv mnbvq lkjhg poiuy", "gibberish"),
        ("generator generator generator discriminator discriminator fake fake", "gibberish"),
        ("I think the weather was lovely on our holiday and the food was very good indeed.", "off_topic"),
        (GAN_SCENARIO.scenario, "copied"),
        (GAN_SCENARIO.scenario.upper().replace(".", "!"), "copied"),
    ],
)
def test_guard_rails_give_no_points(explanation: str, flag: str) -> None:
    g = grade("gan", explanation)
    assert flag in g.flags
    assert (g.verdict, g.score, g.key_points_met) == ("incorrect", 0.0, ())
    feedback, _ = scenario_feedback(GAN_SCENARIO, ScenarioAnswer("gan", explanation), g)
    assert feedback  # the learner is told why


def test_copied_sentences_are_ignored_but_own_reasoning_counts() -> None:
    own = "A generator network creates synthetic fake frames. A discriminator network tries to tell real data " \
          "from generated data."
    g = grade("gan", GAN_SCENARIO.scenario + " " + own)
    assert "copied" not in g.flags
    assert g.key_points_met == (0, 1)
    assert g.features.copied_share == pytest.approx(1 / 3)  # one copied sentence of three


def test_verdict_rule_of_the_dev_set() -> None:
    assert [needed_points(n, 2 / 3) for n in (1, 2, 3, 4, 5, 6)] == [1, 2, 2, 3, 4, 4]

    def features(type_ok: bool, sims: tuple[float, ...]) -> ScenarioFeatures:
        return ScenarioFeatures("gan" if type_ok else "vae", type_ok, 10, 1.0, 0.4, 0.0, 0.0, sims,
                                tuple(0.0 for _ in sims))

    t = DEFAULT_THRESHOLDS
    hi, lo = 0.9, 0.3
    assert decide(features(True, (hi, hi, lo, lo)), t).verdict == "partial"  # 2 of 4 < 3 needed
    assert decide(features(True, (hi, hi, hi, lo)), t).verdict == "correct"
    assert decide(features(True, (lo, lo, lo, hi)), t).verdict == "partial"
    assert decide(features(True, (0.3, 0.3, 0.3, 0.3)), t).verdict == "incorrect"
    assert decide(features(False, (hi, hi, hi, hi)), t).verdict == "incorrect"


def test_multiple_choice_grading() -> None:
    item = make_bank().item("b2")
    assert grade_multiple_choice(item, "B")[0] is True
    correct, feedback, explanation = grade_multiple_choice(item, "A")
    assert not correct and feedback == "Wrong: because of a." and explanation.startswith("B. the second basic fact")
    with pytest.raises(ValueError):
        grade_multiple_choice(item, "Z")


def test_embeddings_are_cached() -> None:
    calls = []

    def counting(texts):
        calls.append(list(texts))
        return fake_embed(texts)

    g = ScenarioGrader(counting)
    for _ in range(3):
        g.grade(GAN_SCENARIO, ScenarioAnswer("gan", GAN_SCENARIO.model_answer))
    assert len(calls) == 2  # the answer's units and the key points, once each


def _sample(i: int, item: str, verdict: str, met: list[int]) -> Sample:
    return Sample(id=f"s{i}", item=item, kind="k", model_type="gan", explanation="x",
                  expected=Expected(verdict=verdict, key_points_met=met))


def test_calibration_finds_a_threshold_that_separates_the_classes() -> None:
    # one key point; right answers score 0.8, wrong ones 0.5: only point_sim in (0.5, 0.8] agrees fully
    scored = []
    for i in range(20):
        good = i % 2 == 0
        f = ScenarioFeatures("gan", True, 10, 1.0, 0.4, 0.0, 0.0, (0.8 if good else 0.5,), (0.0,))
        scored.append(Scored(_sample(i, f"it{i % 4}", "correct" if good else "incorrect", [0] if good else []), f))
    thresholds, r = calibrate(scored, DEFAULT_THRESHOLDS)
    assert r.agreement == 1.0 and r.key_point_f1 == 1.0
    assert 0.5 < thresholds.point_sim <= 0.8
    bad = report(scored, DEFAULT_THRESHOLDS.__class__(point_sim=0.9, point_sim_low=0.9))
    assert bad.agreement == 0.5 and bad.confusion["correct"]["incorrect"] == 10
    cal, held = split([s.sample for s in scored])
    assert {s.item for s in cal}.isdisjoint({s.item for s in held})


@pytest.mark.integration
def test_dev_set_agreement_with_minilm(course) -> None:
    """The shipped thresholds on the real embedder: the goal of >= 0.9 agreement, guard rails always."""
    from tutor.quiz.bank import load_bank
    from tutor.quiz.embedding import load_grading_embedder
    from tutor.quiz.engine import course_vocabulary
    from tutor.quiz.grading_eval import featurise, load_devset

    bank = load_bank(course)
    real = ScenarioGrader(load_grading_embedder(), DEFAULT_THRESHOLDS, course_vocabulary(course, bank))
    scored = featurise(real, bank, load_devset(bank))
    r = report(scored, DEFAULT_THRESHOLDS)
    assert r.agreement >= 0.9, r.misgraded
    for kind in ("empty", "gibberish", "off-topic", "copy-of-scenario", "wrong-type", "excellent"):
        assert r.by_kind[kind] == 1.0, (kind, r.misgraded)
    # every scenario's own model answer earns "correct"
    for item in bank.items:
        if item.kind == "scenario":
            assert real.grade(item, ScenarioAnswer(item.accepted[0], item.model_answer)).verdict == "correct", item.id
