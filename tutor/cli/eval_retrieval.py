"""`tutor eval retrieval`: recall@1/3/5 and MRR (ranx) and scope accuracy on the dev set.

Rows: lexical (BM25) alone, then for the base MiniLM and — when the course
adapter is shipped — the fine-tuned one: dense alone, reciprocal-rank fusion
and the convex fusion retrieval uses. Scope: in-scope questions kept,
off-topic and near-topic questions declined, for each embedder.
"""

from __future__ import annotations

import json

import click


def _table(report: dict) -> str:
    lines = [
        f"Retrieval on the {report['split']} split: {report['n_in_scope']} in-scope, "
        f"{report['n_off_topic']} off-topic, {report['n_near_topic']} near-topic questions; "
        f"{report.get('question_keys', 0)} example questions as section keys",
        "",
        f"{'embedder':<10} {'method':<24} {'R@1':>6} {'R@3':>6} {'R@5':>6} {'MRR':>6} {'first@1':>8}",
    ]
    for name, emb in report["embedders"].items():
        for method, m in emb["ranking"].items():
            label = "-" if method == "lexical" else name
            lines.append(
                f"{label:<10} {method:<24} {m['recall_at_1']:6.3f} {m['recall_at_3']:6.3f} "
                f"{m['recall_at_5']:6.3f} {m['mrr']:6.3f} {m['first_at_1']:8.3f}"
            )
    lines += ["", f"{'embedder':<10} {'in-scope kept':>14} {'off-topic decl.':>16} {'near-topic decl.':>17} "
              f"{'all out decl.':>14} {'Brier':>6} {'thr':>5}"]
    for name, emb in report["embedders"].items():
        s = emb["scope"]
        lines.append(
            f"{name:<10} {s['in_scope_kept']:14.3f} {s['off_topic_declined']:16.3f} {s['near_topic_declined']:17.3f} "
            f"{s['out_of_scope_declined']:14.3f} {s['brier']:6.3f} {s['threshold']:5.2f}"
        )
    lines += ["", f"{'embedder':<10} {'key fact in best 2 sentences':>29} {'in first 2 sentences':>21}"]
    for name, emb in report["embedders"].items():
        e = emb["evidence"]
        lines.append(f"{name:<10} {e['key_fact_in_best_2']:29.3f} {e['key_fact_in_first_2']:21.3f}")
    met = report["goals_met"]
    lines += ["", f"Goals ({report['shipped']}, fused): " + ", ".join(
        f"{goal} {'met' if ok else 'NOT met'}" for goal, ok in met.items())]
    shipped = report["embedders"].get(report["shipped"])
    if shipped:
        misses = shipped.get("misses", [])
        if misses:
            lines += ["", f"Top-1 misses of the shipped retriever ({report['shipped']}, fused):"]
            for m in misses:
                lines.append(f"  {m['id']}: {m['question'][:70]!r} -> {m['got']} (want {', '.join(m['expected'])})")
    return "\n".join(lines)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the figures.")
@click.option("--split", type=click.Choice(["heldout", "dev", "all"]), default="heldout", show_default=True)
@click.option("--course", type=click.Path(), default=None, help="Course folder (default: shipped course).")
@click.option("--questions", type=click.Path(), default=None, help="Dev set YAML (default: evals/<course>/questions.yaml).")
def eval_retrieval(as_json: bool, split: str, course: str | None, questions: str | None) -> None:
    """Recall@k, MRR and scope accuracy on the dev set (dense, lexical, fused; base vs fine-tuned)."""
    from tutor.retrieval.errors import RetrievalError
    from tutor.retrieval.report import retrieval_report

    try:
        report = retrieval_report(split=split, course_path=course, questions=questions)
    except RetrievalError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report))
    else:
        click.echo(_table(report))
