"""Bayesian Knowledge Tracing: updates against hand-computed values, parameter files, and the EM fit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tutor.learner.bkt import BKTParamError, BKTParams, p_correct, posterior, update
from tutor.learner.fit import fit_bkt, fit_param_set
from tutor.learner.params import ConceptFit, ParamSet, ParamsFileError, load_params, save_params
from tutor.store.records import AttemptRecord

P = BKTParams(p_init=0.2, p_learn=0.15, p_slip=0.1, p_guess=0.25)


def test_update_after_a_right_answer_matches_hand_computation() -> None:
    # P(K|right) = 0.2*0.9 / (0.2*0.9 + 0.8*0.25) = 0.18 / 0.38; then + (1 - post) * 0.15
    post = 0.18 / 0.38
    assert posterior(0.2, 1.0, P) == pytest.approx(post)
    assert update(0.2, True, P) == pytest.approx(post + (1 - post) * 0.15)
    assert update(0.2, True, P) == pytest.approx(0.552631578, abs=1e-8)


def test_update_after_a_wrong_answer_matches_hand_computation() -> None:
    # P(K|wrong) = 0.2*0.1 / (0.2*0.1 + 0.8*0.75) = 0.02 / 0.62
    post = 0.02 / 0.62
    assert update(0.2, False, P) == pytest.approx(post + (1 - post) * 0.15)
    assert update(0.2, False, P) == pytest.approx(0.177419354, abs=1e-8)


def test_three_right_answers_reach_mastery_and_a_slip_does_not_erase_it() -> None:
    p = 0.2
    for _ in range(3):
        p = update(p, True, P)
    assert p == pytest.approx(0.9577, abs=1e-3)
    assert p >= 0.95
    assert 0.5 < update(p, False, P) < p


def test_partial_credit_is_the_mixture_of_both_posteriors() -> None:
    right, wrong = posterior(0.4, 1.0, P), posterior(0.4, 0.0, P)
    assert posterior(0.4, 0.5, P) == pytest.approx(0.5 * right + 0.5 * wrong)


def test_items_on_several_concepts_blame_each_concept_less() -> None:
    single = posterior(0.6, 0.0, P)
    # the other concept is only 50% likely known: a wrong answer says less about this one
    shared = posterior(0.6, 0.0, P, others_known=0.5)
    right_if_known = 0.5 * 0.9 + 0.5 * 0.25
    assert shared == pytest.approx(0.6 * (1 - right_if_known) / (0.6 * (1 - right_if_known) + 0.4 * 0.75))
    assert single < shared < 0.6
    assert posterior(0.6, 1.0, P, others_known=1.0) == pytest.approx(posterior(0.6, 1.0, P))


def test_p_correct() -> None:
    assert p_correct(0.5, P) == pytest.approx(0.5 * 0.9 + 0.5 * 0.25)


@pytest.mark.parametrize("bad", [dict(p_init=0.0), dict(p_slip=1.0), dict(p_guess=0.7, p_slip=0.4)])
def test_degenerate_parameters_are_refused(bad) -> None:
    with pytest.raises(BKTParamError):
        BKTParams(**bad)


def _simulate(params: BKTParams, learners: int, seed: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(learners):
        known = rng.random() < params.p_init
        seq = []
        for _ in range(int(rng.integers(4, 12))):
            seq.append(int(rng.random() > params.p_slip) if known else int(rng.random() < params.p_guess))
            known = known or rng.random() < params.p_learn
        out.append(seq)
    return out


def test_em_fit_recovers_the_parameters_that_generated_the_answers() -> None:
    truth = BKTParams(p_init=0.3, p_learn=0.2, p_slip=0.08, p_guess=0.22)
    fitted = fit_bkt(_simulate(truth, 600, seed=3)).params
    assert fitted.p_init == pytest.approx(truth.p_init, abs=0.07)
    assert fitted.p_learn == pytest.approx(truth.p_learn, abs=0.07)
    assert fitted.p_slip == pytest.approx(truth.p_slip, abs=0.04)
    assert fitted.p_guess == pytest.approx(truth.p_guess, abs=0.05)


def _attempt(learner: int, concept: str, correct: bool, n: int) -> AttemptRecord:
    from datetime import datetime, timezone

    return AttemptRecord(id=n, learner_id=learner, session_id=None, item_id="x", course_id="c", bank_version="v",
                         answer="A", correct=correct, score=float(correct), rubric_met=(), feedback="", hints_used=0,
                         seconds=0.0, concepts=(concept,), created=datetime.now(timezone.utc))


def test_fit_param_set_fits_rich_concepts_and_keeps_defaults_for_thin_ones() -> None:
    truth = BKTParams(p_init=0.4, p_learn=0.1, p_slip=0.05, p_guess=0.2)
    attempts = []
    for learner, seq in enumerate(_simulate(truth, 60, seed=1)):
        attempts += [_attempt(learner, "rich", bool(c), len(attempts)) for c in seq]
    attempts += [_attempt(0, "thin", True, 10_000)]
    params = fit_param_set(attempts, ["rich", "thin", "none"], min_attempts=100, min_learners=10)
    assert params.concepts["rich"].source == "fitted"
    assert params.concepts["rich"].learners == 60
    assert params.concepts["thin"].source == "default"
    assert params.concepts["thin"].attempts == 1
    assert params.for_concept("none") == params.default
    assert params.for_concept("rich") != params.default


def test_parameter_file_round_trip_and_corrupt_file(tmp_path) -> None:
    path = tmp_path / "bkt.json"
    params = ParamSet(concepts={"gan": ConceptFit(BKTParams(0.3, 0.1, 0.05, 0.2), "fitted", 120, 12, -50.0)})
    save_params("c", params, path)
    loaded = load_params("c", path)
    assert loaded.for_concept("gan") == BKTParams(0.3, 0.1, 0.05, 0.2)
    assert loaded.concepts["gan"].attempts == 120
    assert load_params("c", tmp_path / "missing.json").for_concept("gan") == BKTParams()
    path.write_text(json.dumps({"concepts": {"gan": {"params": {"p_init": 2}}}}))
    with pytest.raises(ParamsFileError, match="tutor learner fit"):
        load_params("c", path)


def test_a_verdict_needs_evidence_both_ways() -> None:
    from tutor.learner.bkt import decision

    assert decision(0.95) is True and decision(0.999) is True
    assert decision(0.05) is False and decision(0.01) is False
    # the prior (0.2) and a half-way estimate are no verdict: "not mastered yet" is not "not mastered"
    assert decision(0.2) is None and decision(0.94) is None and decision(0.051) is None


def test_a_failed_prerequisite_decides_its_dependants() -> None:
    from tutor.learner.bkt import decisions

    prereqs = {"a": (), "b": ("a",), "c": ("b",), "d": ()}
    got = decisions({"a": 0.03, "b": 0.2, "c": 0.6, "d": 0.2}, prereqs)
    assert got == {"a": False, "b": False, "c": False, "d": None}  # c through b, transitively
    got = decisions({"a": 0.97, "b": 0.2, "c": 0.96, "d": 0.01}, prereqs)
    assert got == {"a": True, "b": None, "c": True, "d": False}  # an undecided prerequisite bounds nothing


def test_without_learning_wrong_answers_can_settle_not_mastered() -> None:
    # with the default learning rate (0.15) p_known never falls below 0.15, so "not mastered" could never
    # be a verdict; with (almost) no learning, one wrong answer from the prior does it
    from tutor.learner.bkt import NOT_MASTERED_THRESHOLD

    p = 0.2
    for _ in range(10):
        p = update(p, False, P)
    assert p > 0.15 > NOT_MASTERED_THRESHOLD
    static = BKTParams(p_init=0.2, p_learn=1e-4, p_slip=0.1, p_guess=0.25)
    assert update(0.2, False, static) < NOT_MASTERED_THRESHOLD
