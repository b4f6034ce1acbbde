"""`tutor quiz`: an adaptive quiz in the plain terminal, or driven by JSON lines.

The plain mode is written for screen readers: one line at a time, numbered
options, no colour, no cursor tricks, every prompt says what it accepts.
``--json-lines`` prints one JSON object per event (start, item, hint, result,
error, summary) and reads one JSON object per answer from stdin::

    {"answer": "B"}                                    multiple choice (key or number)
    {"model_type": "gan", "explanation": "..."}        scenario
    {"hint": true}                                     the next hint level
    {"quit": true}                                     end the quiz (end of input does too)

Every answer is saved the moment it is graded, so stopping (q, Ctrl+C, a
crash) never loses what was answered.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime

import click

WIDTH = 88


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _emit(event: str, **fields) -> None:
    click.echo(json.dumps({"event": event, **_jsonable(fields)}, ensure_ascii=False))
    sys.stdout.flush()


def _item_fields(item, number: int, length: int, course) -> dict:
    """What a client may see of an unanswered item: never its key, accepted types or key points."""
    from tutor.quiz.model import MultipleChoice
    from tutor.quiz.model_types import LABELS

    names = []
    for cid in item.concepts:
        try:
            names.append(course.concept(cid).name)
        except KeyError:
            names.append(cid)
    base = {"number": number, "length": length, "id": item.id, "kind": item.kind, "concepts": list(item.concepts),
            "concept_names": names, "difficulty": item.difficulty}
    if isinstance(item, MultipleChoice):
        return {**base, "stem": item.stem, "options": [{"key": o.key, "text": o.text} for o in item.options]}
    return {**base, "scenario": item.scenario, "model_types": [{"id": k, "label": v} for k, v in LABELS.items()]}


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(" ".join(text.split()), width=WIDTH, initial_indent=indent, subsequent_indent=indent)


def _pct(p: float) -> str:
    return f"{round(p * 100)}%"


@click.command()
@click.option("--learner", required=True, help="Learner name (created on first use).")
@click.option("--concept", "concepts", multiple=True, metavar="ID", help="Only these concepts (repeatable).")
@click.option("--objective", default=None, metavar="ID", help="Only the concepts of this objective.")
@click.option("--length", default=10, show_default=True, type=click.IntRange(1, 500), help="Most questions.")
@click.option("--kind", type=click.Choice(["multiple_choice", "scenario"]), default=None,
              help="Only quick checks or only scenario exercises.")
@click.option("--db", "db_url", metavar="URL", default=None, help="Database URL (default: TUTOR_DB_URL or data folder).")
@click.option("--course", default=None, help="Course folder (default: shipped course).")
@click.option("--bank", default=None, help="Question bank folder (default: the course's bank).")
@click.option("--json-lines", "json_lines", is_flag=True, help="Read answers as JSON lines, write events as JSON lines.")
def quiz(learner: str, concepts: tuple[str, ...], objective: str | None, length: int, kind: str | None,
         db_url: str | None, course: str | None, bank: str | None, json_lines: bool) -> None:
    """Take an adaptive quiz in the plain terminal (numbered options, h for a hint, q to stop)."""
    from tutor.quiz.engine import QuizEngine
    from tutor.quiz.errors import QuizError
    from tutor.quiz.service import load_content, load_learner_params, open_store

    if not learner.strip():
        raise click.ClickException("the learner name must not be empty")
    try:
        loaded_course, loaded_bank = load_content(course, bank)
        params = load_learner_params(loaded_course.id)
        store = open_store(db_url)
    except QuizError as exc:
        raise click.ClickException(str(exc)) from None
    session = None
    try:
        record = store.get_or_create_learner(learner.strip())
        engine = QuizEngine(store, loaded_course, loaded_bank, params=params)
        session = engine.start(record.id, concepts=list(concepts) or None, objective=objective, length=length,
                               kind=kind)
        if json_lines:
            _run_json(session, loaded_course)
        else:
            _run_plain(session, loaded_course, record.name)
    except QuizError as exc:
        if json_lines:
            _emit("error", message=str(exc))
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # a store failure mid-quiz: what was answered is already saved
        from tutor.store import StoreError

        if isinstance(exc, StoreError):
            raise click.ClickException(str(exc)) from None
        raise
    finally:
        if session is not None and not session.finished:
            try:
                session.end()
            except Exception:  # noqa: BLE001 - closing must not hide the original problem
                pass
        store.close()


# ---------------------------------------------------------------------- JSON lines
def _lines() -> Iterator[str]:
    for line in sys.stdin:
        if line.strip():
            yield line


def _run_json(session, course) -> None:
    from tutor.quiz.engine import ScenarioAnswer
    from tutor.quiz.errors import QuizError
    from tutor.quiz.model import MultipleChoice

    answered, length = session.progress
    _emit("start", learner_id=session.learner_id, length=length, concepts=list(session.targeted),
          mastery=session.mastery)
    inputs = _lines()
    quit_ = False
    while not quit_ and (item := session.next_item()) is not None:
        _emit("item", **_item_fields(item, session.progress[0] + 1, session.length, course))
        while True:
            line = next(inputs, None)
            if line is None:
                quit_ = True
                break
            try:
                message = json.loads(line)
                if not isinstance(message, dict):
                    raise ValueError("expected a JSON object")
            except ValueError as exc:
                _emit("error", message=f"not a JSON object: {exc}")
                continue
            try:
                if message.get("quit"):
                    quit_ = True
                    break
                if message.get("hint"):
                    hint = session.hint()
                    _emit("hint", item_id=item.id, level=hint.level, text=hint.text)
                    continue
                if isinstance(item, MultipleChoice):
                    answer = message.get("answer")
                    if not isinstance(answer, (str, int)):
                        raise QuizError('answer a multiple-choice item with {"answer": "A"}')
                    answer = str(answer)
                    if answer.isdigit() and 1 <= int(answer) <= len(item.options):
                        answer = item.options[int(answer) - 1].key
                    result = session.submit(answer)
                else:
                    model_type = message.get("model_type")
                    explanation = message.get("explanation", "")
                    if not isinstance(model_type, str) or not isinstance(explanation, str):
                        raise QuizError('answer a scenario with {"model_type": "...", "explanation": "..."}')
                    result = session.submit(ScenarioAnswer(model_type, explanation))
                _emit("result", **asdict(result))
                break
            except QuizError as exc:
                _emit("error", message=str(exc))
    summary = session.end()
    _emit("summary", **asdict(summary))


# ---------------------------------------------------------------------- plain terminal
def _ask(prompt: str) -> str | None:
    """One line from the learner; None at end of input."""
    click.echo(prompt, nl=False)
    line = sys.stdin.readline()
    if not line:
        click.echo("")
        return None
    return line.strip()


def _concept_names(course, ids) -> str:
    names = []
    for cid in ids:
        try:
            names.append(course.concept(cid).name)
        except KeyError:
            names.append(cid)
    return ", ".join(names)


def _run_plain(session, course, name: str) -> None:
    from tutor.quiz.engine import ScenarioAnswer
    from tutor.quiz.errors import QuizError
    from tutor.quiz.model import MultipleChoice
    from tutor.quiz.model_types import LABELS, parse_model_type

    click.echo(f"Quiz for {name}: up to {session.length} questions on {len(session.targeted)} concept(s).")
    click.echo("Type the number of your answer. h gives a hint, q stops the quiz. Your answers are saved as you go.")
    types = list(LABELS)
    stop = False
    while not stop and (item := session.next_item()) is not None:
        number = session.progress[0] + 1
        click.echo("")
        what = "Question" if isinstance(item, MultipleChoice) else "Scenario"
        click.echo(f"{what} {number} of up to {session.length}. Topic: {_concept_names(course, item.concepts)}. "
                   f"Difficulty {item.difficulty} of 5.")
        result = None
        if isinstance(item, MultipleChoice):
            click.echo(_wrap(item.stem))
            for n, option in enumerate(item.options, start=1):
                click.echo(textwrap.fill(f"{n}. ({option.key}) {option.text}", width=WIDTH,
                                         initial_indent="  ", subsequent_indent="     "))
            while result is None:
                reply = _ask(f"Your answer, 1 to {len(item.options)} (h hint, q quit): ")
                if reply is None or reply.lower() in {"q", "quit"}:
                    stop = True
                    break
                if reply.lower() in {"h", "hint"}:
                    _show_hint(session)
                    continue
                key = None
                if reply.isdigit() and 1 <= int(reply) <= len(item.options):
                    key = item.options[int(reply) - 1].key
                elif reply.upper() in {o.key for o in item.options}:
                    key = reply.upper()
                if key is None:
                    click.echo(f"Please type a number from 1 to {len(item.options)}, h or q.")
                    continue
                result = session.submit(key)
        else:
            click.echo(_wrap(item.scenario))
            click.echo(_wrap("Model types: " + "; ".join(f"{n}. {LABELS[t]}" for n, t in enumerate(types, start=1))
                             + "."))
            while result is None:
                reply = _ask(f"Model type, a number 1 to {len(types)} or a name (h hint, q quit): ")
                if reply is None or reply.lower() in {"q", "quit"}:
                    stop = True
                    break
                if reply.lower() in {"h", "hint"}:
                    _show_hint(session)
                    continue
                chosen = types[int(reply) - 1] if reply.isdigit() and 1 <= int(reply) <= len(types) else parse_model_type(reply)
                if chosen is None:
                    click.echo(f"Please type a number from 1 to {len(types)} or a model type's name, h or q.")
                    continue
                click.echo(f"You chose: {LABELS[chosen]}. Now explain why it fits and how it works. "
                           "Type one or more lines; an empty line ends your explanation.")
                lines: list[str] = []
                while True:
                    line = _ask("> ")
                    if line is None or not line:
                        break
                    lines.append(line)
                try:
                    result = session.submit(ScenarioAnswer(chosen, " ".join(lines)))
                except QuizError as exc:
                    click.echo(str(exc))
        if result is not None:
            _show_result(result, course)
    summary = session.end()
    _show_summary(summary, course)


def _show_hint(session) -> None:
    hint = session.hint()
    click.echo(_wrap(f"Hint {hint.level} of 3: {hint.text}"))


def _show_result(result, course) -> None:
    verdicts = {"correct": "Correct.", "partial": "Partly right.", "incorrect": "Not quite."}
    click.echo(f"{verdicts[result.verdict]} Score {_pct(result.score)}.")
    if result.feedback:
        click.echo(_wrap(result.feedback))
    if result.kind == "multiple_choice" and not result.correct:
        click.echo(_wrap(f"The right answer: {result.explanation}"))
    elif result.kind == "scenario":
        click.echo(_wrap(result.explanation))
    for concept, after in result.mastery_after.items():
        before = result.mastery_before.get(concept, after)
        click.echo(f"Mastery of {_concept_names(course, [concept])}: {_pct(before)} -> {_pct(after)}.")


def _show_summary(summary, course) -> None:
    click.echo("")
    if not summary.answered:
        click.echo("Quiz over: no questions answered.")
    else:
        click.echo(f"Quiz over: {summary.correct} of {summary.answered} right, score {_pct(summary.score)}.")
    reasons = {"mastered": "every concept of the quiz is mastered", "length": "that was the last question",
               "exhausted": "no questions left for these concepts", "blocked": "the next concepts need a prerequisite first",
               "ended": "stopped"}
    click.echo(f"Why it ended: {reasons.get(summary.stopped, summary.stopped)}.")
    changed = [(c, b, summary.mastery_after.get(c, b)) for c, b in summary.mastery_before.items()
               if abs(summary.mastery_after.get(c, b) - b) > 1e-9]
    for concept, before, after in changed:
        click.echo(f"  {_concept_names(course, [concept])}: {_pct(before)} -> {_pct(after)}")
    if summary.review_next:
        click.echo("Review next:")
        for r in summary.review_next:
            titles = []
            for sid in r.sections:
                try:
                    titles.append(f'"{course.section(sid).title}"')
                except KeyError:
                    titles.append(sid)
            sections = ", ".join(titles) if titles else "its lesson"
            click.echo(_wrap(f"{r.name} (mastery {_pct(r.p_known)}, {r.reason}): reread {sections}.", "  "))
