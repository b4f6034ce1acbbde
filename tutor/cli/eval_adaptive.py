"""`tutor eval adaptive`: adaptive vs fixed-order vs random item selection on simulated learners.

Each simulated learner knows some concepts (consistently with the prerequisite
graph), slips now and then (5-15%, mean 10%) and guesses otherwise (25% on four
options). Every policy quizzes the same learners through the real engine, quiz
after quiz (10 items each, three quizzes a sitting, a day between sittings, so
due reviews come back as in the app). The figure is how many items it takes
until the learner model's verdict is right for every concept (mastered at
P(known) >= 0.95, not mastered at <= 0.05 or below a failed prerequisite;
undecided counts as wrong) for a share of the learners. Learners are pooled over
several seeds (each its own population), and the 95% ratio is also given per
seed, to show its spread.
"""

from __future__ import annotations

import json

import click

GOAL_RATIO = 0.6
GOAL_SHARE = 0.95


def _cell(value: int | None) -> str:
    return "-" if value is None else str(value)


def _ratio(adaptive: int | None, fixed: int | None) -> float | None:
    return round(adaptive / fixed, 3) if adaptive is not None and fixed else None


def _goal(rows, per_seed: list[float | None]) -> dict:
    """Adaptive's items at 95% over fixed order's, with what can honestly be said when one never gets there."""
    by = {r.policy: r for r in rows}
    adaptive, fixed = by["adaptive"].items_to[GOAL_SHARE], by["fixed"].items_to[GOAL_SHARE]
    ratio = _ratio(adaptive, fixed)
    out: dict = {"share": GOAL_SHARE, "adaptive": adaptive, "fixed": fixed, "ratio": ratio,
                 "ratio_per_seed": per_seed}
    if ratio is not None:
        out["met"] = ratio <= GOAL_RATIO
        out["note"] = f"adaptive needs {ratio:.0%} of fixed order's items"
    elif adaptive is not None:
        out["met"] = True
        out["note"] = "fixed order never classifies 95% of learners within the budget"
    else:
        out["met"] = False
        out["note"] = "adaptive does not classify 95% of learners within the budget"
    if "adaptive-uncapped" in by:
        out["variant_ratio"] = _ratio(by["adaptive-uncapped"].items_to[GOAL_SHARE], fixed)
    return out


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the figures.")
@click.option("--learners", default=500, show_default=True, type=click.IntRange(10, 10_000),
              help="Simulated learners per seed (each policy quizzes the same ones).")
@click.option("--seed", default=1, show_default=True, type=int, help="First seed of the populations and answers.")
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(1, 50),
              help="Number of seeds (populations) pooled: seed, seed+1, ...")
@click.option("--budget", default=3.0, show_default=True, type=click.FloatRange(0.1, 10.0),
              help="Items each learner may answer, as a multiple of the bank's size.")
@click.option("--quizzes-per-sitting", "per_sitting", default=3, show_default=True, type=click.IntRange(1, 1000),
              help="Quizzes of 10 items taken one after the other before a day's break.")
@click.option("--kind", type=click.Choice(["multiple_choice", "scenario"]), default="multiple_choice",
              show_default=True, help="Only this kind of item (scenarios load the grading model).")
@click.option("--synthetic-items", default=0, show_default=True, type=click.IntRange(0, 50),
              help="Also measure a synthetic bank with this many single-concept items per concept (0: skip).")
@click.option("--variant", is_flag=True,
              help="Also measure adaptive-uncapped (not the app's policy): due reviews may fill a whole "
                   "quiz instead of half of it.")
@click.option("--course", default=None, help="Course folder (default: shipped course).")
@click.option("--bank", default=None, help="Question bank folder (default: the course's bank).")
def eval_adaptive(as_json: bool, learners: int, seed: int, seeds: int, budget: float, per_sitting: int,
                  kind: str | None, synthetic_items: int, variant: bool, course: str | None,
                  bank: str | None) -> None:
    """Adaptive vs fixed vs random item selection on simulated learners (goal: adaptive <= 60% of fixed)."""
    from tutor.learner.simulate import (
        MC_GUESS, QUIZ_LENGTH, SHARES, SLIP_RANGE, compare_traces, figures, items_to_classify,
        sample_learners, synthetic_bank,
    )
    from tutor.quiz.errors import QuizError
    from tutor.quiz.service import load_content

    try:
        loaded_course, loaded_bank = load_content(course, bank)
    except QuizError as exc:
        raise click.ClickException(str(exc)) from None
    populations = [(s, sample_learners(loaded_course, learners, seed=s)) for s in range(seed, seed + seeds)]
    grader = None
    if kind != "multiple_choice" and any(i.kind == "scenario" for i in loaded_bank.items):
        from tutor.quiz.embedding import load_grading_embedder
        from tutor.quiz.engine import course_vocabulary
        from tutor.quiz.grading import ScenarioGrader

        grader = ScenarioGrader(load_grading_embedder(), vocabulary=course_vocabulary(loaded_course, loaded_bank))

    banks = [("shipped", loaded_bank, kind)]
    if synthetic_items:
        banks.append(("synthetic", synthetic_bank(loaded_course, synthetic_items), None))
    results = {}
    for name, which, only in banks:
        items = [i for i in which.items if only is None or i.kind == only]
        if not items:
            raise click.ClickException(f"the {name} bank has no {only or 'items'}")
        max_items = max(1, round(budget * len(items)))
        pooled: dict[str, list] = {}
        per_seed: list[float | None] = []
        for s, population in populations:
            traces = compare_traces(loaded_course, which, population, grader=grader, kind=only, seed=s,
                                    max_items=max_items, per_sitting=per_sitting, variant=variant)
            per_seed.append(_ratio(items_to_classify(traces["adaptive"], GOAL_SHARE),
                                   items_to_classify(traces["fixed"], GOAL_SHARE)))
            for policy, t in traces.items():
                pooled.setdefault(policy, []).extend(t)
        rows = [figures(policy, t) for policy, t in pooled.items()]
        results[name] = {
            "items": len(items),
            "multiple_choice": sum(i.kind == "multiple_choice" for i in items),
            "scenarios": sum(i.kind == "scenario" for i in items),
            "budget_items": max_items,
            "policies": rows,
            "goal": _goal(rows, per_seed),
        }
    everyone = [learner for _, population in populations for learner in population]
    known = [sum(learner.knows.values()) for learner in everyone]
    slips = [learner.slip for learner in everyone]
    figures_out = {
        "learners": len(everyone),
        "seeds": [s for s, _ in populations],
        "concepts": len(loaded_course.concepts),
        "known_concepts_mean": round(sum(known) / len(known), 2),
        "slip_range": list(SLIP_RANGE),
        "slip_mean": round(sum(slips) / len(slips), 3),
        "guess": MC_GUESS,
        "quiz_length": QUIZ_LENGTH,
        "quizzes_per_sitting": per_sitting,
        "classification": {"mastered": "p_known >= 0.95", "not_mastered": "p_known <= 0.05 or a prerequisite's",
                           "undecided": "counts as not classified"},
        "goal": {"share": GOAL_SHARE, "max_ratio": GOAL_RATIO},
        "banks": {
            name: {**{k: v for k, v in r.items() if k != "policies"},
                   "policies": [row.to_dict() for row in r["policies"]]}
            for name, r in results.items()
        },
    }
    if as_json:
        click.echo(json.dumps(figures_out))
        return

    click.echo(f"Item selection on {len(everyone)} simulated learners (seeds {seed}..{seed + seeds - 1}, "
               f"{len(loaded_course.concepts)} concepts, {figures_out['known_concepts_mean']} known on average); "
               f"slip {SLIP_RANGE[0]:.0%}-{SLIP_RANGE[1]:.0%} (mean {figures_out['slip_mean']:.1%}), "
               f"guess {MC_GUESS:.0%}.")
    click.echo(f"Quizzes of {QUIZ_LENGTH} items, {per_sitting} per sitting, a day between sittings; due reviews "
               "first, up to half of each quiz (adaptive).")
    click.echo("Items until every concept is classified correctly (mastered: P(known) >= 0.95; not mastered: "
               "<= 0.05 or a prerequisite is; undecided = not classified), for a share of the learners; "
               "'-' = not within the budget.")
    for name, r in results.items():
        click.echo("")
        label = ("Shipped bank" if name == "shipped"
                 else f"Synthetic bank ({synthetic_items} single-concept quick checks per concept)")
        click.echo(f"{label}: {r['items']} items ({r['multiple_choice']} quick checks, {r['scenarios']} scenarios); "
                   f"budget {r['budget_items']} items per learner")
        click.echo(f"{'policy':<18}" + "".join(f"{f'{int(s * 100)}%':>6}" for s in SHARES)
                   + f"{'classified':>12}{'items asked':>13}")
        for row in r["policies"]:
            click.echo(f"{row.policy:<18}" + "".join(f"{_cell(row.items_to[s]):>6}" for s in SHARES)
                       + f"{row.classified_ever:>12.1%}{row.mean_items:>13.1f}")
        goal = r["goal"]
        verdict = "met" if goal["met"] else "NOT met"

        spread = ", ".join("-" if v is None else f"{v:.2f}" for v in goal["ratio_per_seed"])
        click.echo(f"Goal (adaptive <= {GOAL_RATIO:.0%} of fixed order's items at 95%): {verdict} - {goal['note']}"
                   f" (ratio per seed: {spread}).")
        if "variant_ratio" in goal:
            uncapped = goal["variant_ratio"]
            click.echo(f"adaptive-uncapped (not the app's policy: due reviews may fill a whole quiz) at 95%: "
                       f"{'-' if uncapped is None else f'{uncapped:.0%}'} of fixed order's items.")
        worst = list(r["policies"][0].wrong_at_end.items())[:5]
        if worst:
            click.echo("Concepts adaptive leaves misclassified or undecided (learners): "
                       + ", ".join(f"{c} {n}" for c, n in worst))
