"""`tutor ask`: a grounded answer to one question, streamed, ending with the lesson evidence and sources.

``--json`` prints one object: answer (the explanation only), evidence [{section_id, title, text}],
in_scope, grounded, supported, notice, sources [{section_id, title, score}], timings
{retrieval_ms, first_text_ms, ttft_ms, tokens_per_s, total_ms, ...}. With ``-`` as the
question, one question per stdin line and one JSON object (or answer) per line; the
models load once.
"""

from __future__ import annotations

import json
import sys
import textwrap
import threading

import click

LEVELS = ("beginner", "intermediate", "advanced")
STYLES = ("analogy", "example", "step-by-step", "concise")


def _footer(result) -> str:
    lines = []
    if result.notice:
        lines += ["", f"! {result.notice}"]
    if result.in_scope and result.evidence:
        lines += ["", "Evidence from the lesson:"]
        for ev in result.evidence:
            lines.append(f"  \"{ev.title}\" [{ev.section_id}]")
            lines.append(textwrap.indent(textwrap.fill(ev.text, width=92), "    > "))
    if result.sources:
        label = "Sources" if result.in_scope else "Closest sections"
        lines += ["", f"{label}: " + ", ".join(f"{s.title} [{s.section_id}] {s.score:.2f}" for s in result.sources)]
    t = result.timings
    parts = [f"retrieval {t.get('retrieval_ms', 0):.0f} ms"]
    if "ttft_ms" in t:
        parts.append(f"first token {t['ttft_ms'] / 1000:.2f} s")
        parts.append(f"{t.get('tokens_per_s', 0):.1f} tok/s")
    if result.grounded is not None:
        parts.append(f"grounded {result.grounded:.2f}")
    parts.append(f"total {t.get('total_ms', 0) / 1000:.2f} s")
    lines += ["", "[" + " · ".join(parts) + "]"]
    return "\n".join(lines)


def _answer(tutor, question: str, profile, as_json: bool) -> None:
    cancel = threading.Event()
    final = None
    streamed = False
    try:
        for event in tutor.stream(question, profile, cancel=cancel):
            if event.kind == "delta" and not as_json:
                click.echo(event.text, nl=False)
                sys.stdout.flush()
                streamed = True
            elif event.kind == "done":
                final = event.result
    except KeyboardInterrupt:
        cancel.set()
        click.echo("\n[stopped]", err=True)
        raise SystemExit(130) from None
    if final is None:  # pragma: no cover - stream always ends with done
        raise click.ClickException("the tutor gave no answer")
    if as_json:
        click.echo(json.dumps(final.to_json(), ensure_ascii=False))
    else:
        if streamed:
            click.echo()
        click.echo(_footer(final))
    sys.stdout.flush()


@click.command()
@click.argument("question")
@click.option("--level", type=click.Choice(LEVELS), default=None, help="Learner level (default: learner's, else beginner).")
@click.option("--style", type=click.Choice(STYLES), default=None, help="Explanation style (default: learner's, else example).")
@click.option("--learner", default=None, help="Read level, style and weak concepts from this learner's progress.")
@click.option("--model", "model", type=click.Path(), default=None, help="A local transformers causal-LM folder.")
@click.option("--adapter", default=None, help="LoRA adapter folder, or 'none' for the base model (default: shipped).")
@click.option("--temperature", type=click.FloatRange(0.0, 5.0), default=0.0, show_default=True, help="0 = greedy.")
@click.option("--max-tokens", type=click.IntRange(1, 1024), default=160, show_default=True, help="Longest explanation.")
@click.option("--course", type=click.Path(), default=None, help="Course folder (default: shipped course).")
@click.option("--db", "db", default=None, help="Database URL for --learner (default: the local SQLite file).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per question.")
def ask(
    question: str,
    level: str | None,
    style: str | None,
    learner: str | None,
    model: str | None,
    adapter: str | None,
    temperature: float,
    max_tokens: int,
    course: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Ask the tutor QUESTION ('-' reads one question per line from stdin)."""
    from tutor.llm.answer import Tutor, TutorConfig
    from tutor.llm.errors import LLMError
    from tutor.llm.types import Profile

    profile = Profile()
    if learner:
        from tutor.llm.learner import profile_from_store

        found = profile_from_store(learner, db)
        if found.note:
            click.echo(f"note: {found.note}", err=True)
        profile = found.profile
    profile = Profile(level=level or profile.level, style=style or profile.style, weak_concepts=profile.weak_concepts)
    try:
        tutor = Tutor.load(
            TutorConfig(course=course, model=model, adapter=adapter, temperature=temperature, max_new_tokens=max_tokens)
        )
        if question == "-":
            for line in sys.stdin:
                if line.strip():
                    _answer(tutor, line.strip(), profile, as_json)
                    if not as_json:
                        click.echo()
        else:
            _answer(tutor, question, profile, as_json)
    except LLMError as exc:
        raise click.ClickException(str(exc)) from exc
