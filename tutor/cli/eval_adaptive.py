"""`tutor eval adaptive`: adaptive vs fixed-order vs random item selection on simulated learners.

Each simulated learner knows some concepts (consistently with the prerequisite
graph), slips now and then and guesses otherwise. Every policy quizzes the same
learners through the real engine; the figure is how many items it takes until
the engine's BKT classifies every concept correctly (mastered exactly when
known) for a given share of the learners. Two banks are measured: the shipped
one (the product as it is) and a synthetic bank with the same concepts and
enough single-concept items each (the policy itself, apart from thin spots of
the shipped bank).
"""

from __future__ import annotations

import json

import click

GOAL_RATIO = 0.6
GOAL_SHARE = 0.95


def _cell(value: int | None) -> str:
    return "-" if value is None else str(value)


def _goal(rows) -> dict:
    """Adaptive's items at 95% over fixed order's, with what can honestly be said when one never gets there."""
    by = {r.policy: r for r in rows}
    adaptive, fixed = by["adaptive"].items_to[GOAL_SHARE], by["fixed"].items_to[GOAL_SHARE]
    out: dict = {"share": GOAL_SHARE, "adaptive": adaptive, "fixed": fixed, "ratio": None}
    if adaptive is not None and fixed is not None:
        out["ratio"] = round(adaptive / fixed, 3) if fixed else None
        out["met"] = fixed > 0 and adaptive / fixed <= GOAL_RATIO
        out["note"] = f"adaptive needs {adaptive / fixed:.0%} of fixed order's items" if fixed else "fixed needs 0 items"
    elif adaptive is not None:
        out["met"] = True
        out["note"] = "fixed order never classifies 95% of learners within the whole bank"
    else:
        out["met"] = False
        out["note"] = "adaptive does not classify 95% of learners"
    # the highest share both reach, for a comparison that exists
    common = [s for s in sorted(by["adaptive"].items_to, reverse=True)
              if by["adaptive"].items_to[s] is not None and by["fixed"].items_to[s] is not None]
    if common:
        s = common[0]
        a, f = by["adaptive"].items_to[s], by["fixed"].items_to[s]
        out["best_common_share"] = s
        out["ratio_at_best_common_share"] = round(a / f, 3) if f else None
    return out


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the figures.")
@click.option("--learners", default=200, show_default=True, type=click.IntRange(10, 10_000),
              help="Simulated learners per policy.")
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the population and the answers.")
@click.option("--kind", type=click.Choice(["multiple_choice", "scenario"]), default=None,
              help="Only this kind of item (default both; scenarios load the grading model).")
@click.option("--synthetic-items", default=8, show_default=True, type=click.IntRange(0, 50),
              help="Items per concept of the synthetic bank (0: skip it).")
@click.option("--course", default=None, help="Course folder (default: shipped course).")
@click.option("--bank", default=None, help="Question bank folder (default: the course's bank).")
def eval_adaptive(as_json: bool, learners: int, seed: int, kind: str | None, synthetic_items: int,
                  course: str | None, bank: str | None) -> None:
    """Adaptive vs fixed vs random item selection on simulated learners (goal: adaptive <= 60% of fixed)."""
    from tutor.learner.simulate import SHARES, compare, sample_learners, synthetic_bank
    from tutor.quiz.errors import QuizError
    from tutor.quiz.service import load_content

    try:
        loaded_course, loaded_bank = load_content(course, bank)
    except QuizError as exc:
        raise click.ClickException(str(exc)) from None
    population = sample_learners(loaded_course, learners, seed=seed)
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
        rows = compare(loaded_course, which, population, grader=grader, kind=only, seed=seed)
        items = [i for i in which.items if only is None or i.kind == only]
        results[name] = {
            "items": len(items),
            "multiple_choice": sum(i.kind == "multiple_choice" for i in items),
            "scenarios": sum(i.kind == "scenario" for i in items),
            "policies": rows,
            "goal": _goal(rows),
        }
    known = [sum(learner.knows.values()) for learner in population]
    figures = {
        "learners": learners,
        "seed": seed,
        "concepts": len(loaded_course.concepts),
        "known_concepts_mean": round(sum(known) / len(known), 2),
        "goal": {"share": GOAL_SHARE, "max_ratio": GOAL_RATIO},
        "banks": {
            name: {**{k: v for k, v in r.items() if k != "policies"},
                   "policies": [row.to_dict() for row in r["policies"]]}
            for name, r in results.items()
        },
    }
    if as_json:
        click.echo(json.dumps(figures))
        return

    click.echo(f"Item selection on {learners} simulated learners ({len(loaded_course.concepts)} concepts, "
               f"{figures['known_concepts_mean']} known on average; slip 3-15%, random guesses).")
    click.echo("Items until every concept is classified correctly (mastered exactly when known), "
               "for a share of the learners; '-' = never, within the bank.")
    for name, r in results.items():
        click.echo("")
        label = ("Shipped bank" if name == "shipped"
                 else f"Synthetic bank ({synthetic_items} single-concept quick checks per concept)")
        click.echo(f"{label}: {r['items']} items ({r['multiple_choice']} quick checks, {r['scenarios']} scenarios)")
        click.echo(f"{'policy':<10}" + "".join(f"{f'{int(s * 100)}%':>6}" for s in SHARES)
                   + f"{'ever classified':>17}{'items asked':>13}")
        for row in r["policies"]:
            click.echo(f"{row.policy:<10}" + "".join(f"{_cell(row.items_to[s]):>6}" for s in SHARES)
                       + f"{row.classified_ever:>16.0%} {row.mean_items:>12.1f}")
        goal = r["goal"]
        verdict = "met" if goal["met"] else "NOT met"
        line = f"Goal (adaptive <= {GOAL_RATIO:.0%} of fixed order's items at 95%): {verdict} - {goal['note']}."
        if "best_common_share" in goal and goal["best_common_share"] != GOAL_SHARE:
            line += (f" At {goal['best_common_share']:.0%}, the highest share both reach, adaptive needs "
                     f"{goal['ratio_at_best_common_share']:.0%} of fixed order's items.")
        click.echo(line)
        worst = list(r["policies"][0].wrong_at_end.items())[:5]
        if worst:
            click.echo("Concepts adaptive most often leaves misclassified (learners): "
                       + ", ".join(f"{c} {n}" for c, n in worst)
                       + (" - too few items that test them alone" if name == "shipped" else ""))
