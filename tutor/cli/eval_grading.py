"""`tutor eval grading`: agreement of scenario grading with the dev set's human verdicts.

The dev set is split by item: the shipped thresholds were calibrated on the
calibration items, and the table shows the held-out items apart, plus a 2-fold
cross-validation by item (calibrate on one half, measure on the other, both
ways), so the figure that speaks for unseen scenarios is visible.
``--calibrate`` runs the threshold search again and prints what it finds.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

GOAL = 0.9


def _row(name: str, r) -> str:
    return (f"{name:<13} {r.n:>7}  {r.agreement:>9.3f}  {r.key_point_precision:>12.3f}  "
            f"{r.key_point_recall:>9.3f}  {r.key_point_f1:>5.3f}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the figures.")
@click.option("--calibrate", is_flag=True, help="Search the thresholds again on the calibration items.")
@click.option("--devset", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Grading dev set (default: evals/<course>/grading.yaml).")
@click.option("--course", default=None, help="Course folder (default: shipped course).")
@click.option("--bank", default=None, help="Question bank folder (default: the course's bank).")
@click.option("--show-errors", is_flag=True, help="List every sample graded differently from the dev set.")
def eval_grading(as_json: bool, calibrate: bool, devset: Path | None, course: str | None, bank: str | None,
                 show_errors: bool) -> None:
    """Agreement of exercise grading with expected verdicts (goal >= 0.9), and the confusion table."""
    from tutor.quiz import grading_eval as ge
    from tutor.quiz.engine import course_vocabulary
    from tutor.quiz.errors import QuizError
    from tutor.quiz.grading import DEFAULT_THRESHOLDS, ScenarioGrader
    from tutor.quiz.service import load_content

    try:
        loaded_course, loaded_bank = load_content(course, bank)
        samples = ge.load_devset(loaded_bank, devset)
        from tutor.quiz.embedding import load_grading_embedder

        grader = ScenarioGrader(load_grading_embedder(), DEFAULT_THRESHOLDS,
                                course_vocabulary(loaded_course, loaded_bank))
        scored = ge.featurise(grader, loaded_bank, samples)
    except QuizError as exc:
        raise click.ClickException(str(exc)) from None

    cal_samples, held_samples = ge.split(samples)
    cal_ids = {s.id for s in cal_samples}
    cal = [s for s in scored if s.sample.id in cal_ids]
    held = [s for s in scored if s.sample.id not in cal_ids]
    thresholds = DEFAULT_THRESHOLDS
    found = None
    if calibrate:
        found, _ = ge.calibrate(cal, DEFAULT_THRESHOLDS)
        thresholds = found
    reports = {"calibration": ge.report(cal, thresholds), "held_out": ge.report(held, thresholds),
               "all": ge.report(scored, thresholds)}
    # 2-fold cross-validation by item: each half graded with thresholds searched on the other half
    fold_a, _ = ge.calibrate(cal, DEFAULT_THRESHOLDS)
    fold_b, _ = ge.calibrate(held, DEFAULT_THRESHOLDS)
    cv_right = (ge.report(held, fold_a).agreement * len(held) + ge.report(cal, fold_b).agreement * len(cal))
    cross_validated = cv_right / len(scored)
    overall = reports["all"]
    figures = {
        "samples": len(scored),
        "items": len({s.item for s in samples}),
        "calibration_items": sorted({s.item for s in cal_samples}),
        "agreement": round(overall.agreement, 4),
        "held_out_agreement": round(reports["held_out"].agreement, 4),
        "cross_validated_agreement": round(cross_validated, 4),
        "goal": GOAL,
        "goal_met": overall.agreement >= GOAL and reports["held_out"].agreement >= GOAL,
        "splits": {name: r.to_dict() for name, r in reports.items()},
        "confusion": overall.confusion,
        "by_kind": {k: round(v, 4) for k, v in sorted(overall.by_kind.items())},
        "thresholds": thresholds.to_dict(),
        "thresholds_source": "calibrated now (--calibrate)" if calibrate else "shipped",
    }
    if as_json:
        click.echo(json.dumps(figures))
        return

    click.echo(f"Scenario grading vs the dev set: {len(scored)} samples on {figures['items']} scenario items "
               f"({'thresholds searched now' if calibrate else 'shipped thresholds'}).")
    click.echo("")
    click.echo(f"{'split':<13} {'samples':>7}  {'agreement':>9}  {'kp precision':>12}  {'kp recall':>9}  {'kp F1':>5}")
    for name, label in (("calibration", "calibration"), ("held_out", "held-out"), ("all", "all")):
        click.echo(_row(label, reports[name]))
    click.echo(f"{'2-fold CV':<13} {len(scored):>7}  {cross_validated:>9.3f}   (by item: thresholds searched on "
               "the other half)")
    click.echo("")
    click.echo("Confusion, all samples (rows: expected verdict, columns: graded verdict)")
    click.echo(f"{'':<11}" + "".join(f"{v:>11}" for v in ("correct", "partial", "incorrect")))
    for expected, row in overall.confusion.items():
        click.echo(f"{expected:<11}" + "".join(f"{row[v]:>11}" for v in ("correct", "partial", "incorrect")))
    click.echo("")
    click.echo("Agreement by sample kind: " + ", ".join(
        f"{k} {v:.2f}" for k, v in sorted(overall.by_kind.items())))
    verdict = "met" if figures["goal_met"] else "NOT met"
    click.echo(f"Goal: agreement >= {GOAL} on all samples and on the held-out items: {verdict}.")
    if found is not None:
        click.echo("")
        click.echo("Thresholds found on the calibration items: " + ", ".join(
            f"{k}={getattr(found, k):.2f}" for k in ge.GRID))
        click.echo("(to ship them, set these defaults in tutor/quiz/grading.py: Thresholds)")
    if show_errors and overall.misgraded:
        click.echo("")
        click.echo("Graded differently from the dev set:")
        for m in overall.misgraded:
            click.echo(f"  {m['id']} ({m['kind']}): expected {m['expected']}, graded {m['got']}; key points met "
                       f"{m['met']} vs expected {m['expected_met']}" + (f"; flags {m['flags']}" if m['flags'] else ""))
