"""`tutor search`: the course sections that answer a question, and whether the course covers it.

``--json`` prints one object per query::

    {"query": "...", "in_scope": true, "scope_score": 0.97,
     "hits": [{"section_id": "gan", "title": "...", "score": 0.81, "dense": 0.62, "lexical": 7.9, "text": "..."}]}

``score`` ranks the hits (fused dense + lexical), ``dense`` is the cosine
similarity, ``lexical`` the BM25 score, ``scope_score`` the calibrated
probability that the course covers the query (``in_scope`` = above threshold).
With ``-`` as the query, one query per stdin line, one JSON line (or block) each;
the model loads once.
"""

from __future__ import annotations

import json
import sys
import textwrap

import click


def _render(result) -> str:
    if not result.hits:
        return f"{result.query!r}: nothing to search for (empty query)."
    verdict = "covered by the course" if result.in_scope else "NOT covered by the course"
    lines = [f"{result.query!r}: {verdict} (scope {result.scope_score:.2f})"]
    for n, hit in enumerate(result.hits, start=1):
        lines.append(f"{n:2d}. {hit.title} [{hit.section_id}]  score {hit.score:.3f}")
        snippet = hit.text if len(hit.text) <= 220 else hit.text[:217].rstrip() + "..."
        lines.append(textwrap.indent(textwrap.fill(snippet, width=96), "      "))
    return "\n".join(lines)


@click.command()
@click.argument("query")
@click.option("--k", "k", default=5, show_default=True, type=click.IntRange(1, 50), help="How many sections.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one line per query).")
@click.option("--course", "course", type=click.Path(), default=None, help="Course folder (default: shipped course).")
@click.option("--adapter", default=None, help="Embedder adapter folder, or 'none' for the base model.")
def search(query: str, k: int, as_json: bool, course: str | None, adapter: str | None) -> None:
    """Search the course for the passages that answer QUERY ('-' reads queries from stdin).

    \b
    --json prints, per query, one line:
      {"query": ..., "in_scope": true|false, "scope_score": 0..1,
       "hits": [{"section_id", "title", "score", "dense", "lexical", "text"}, ...]}
    score ranks the hits (dense + BM25 fused); scope_score is the calibrated
    probability that the course covers the query.
    """
    from tutor.retrieval.errors import RetrievalError
    from tutor.retrieval.service import open_retriever

    try:
        retriever = open_retriever(course, adapter)
        queries = (line.rstrip("\n") for line in sys.stdin) if query == "-" else iter([query])
        for q in queries:
            if query == "-" and not q.strip():
                continue
            result = retriever.search(q, k=k)
            if as_json:
                click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
            else:
                click.echo(_render(result))
            sys.stdout.flush()
    except RetrievalError as exc:
        raise click.ClickException(str(exc)) from exc
