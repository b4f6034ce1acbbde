"""The single `tutor` entry point: the app with no arguments, engine commands otherwise."""

from __future__ import annotations

import sys

import click

from tutor.cli.lazy import LazyGroup

EVAL_COMMANDS = {
    "retrieval": ("tutor.cli.eval_retrieval:eval_retrieval", "Recall@k, MRR and scope accuracy on the dev set."),
    "answers": ("tutor.cli.eval_answers:eval_answers", "Key-fact accuracy, groundedness and scope of tutor answers."),
    "grading": ("tutor.cli.eval_grading:eval_grading", "Agreement of exercise grading with expected verdicts."),
    "grounding": ("tutor.cli.eval_grounding:eval_grounding", "Agreement of the groundedness check with labelled sentences."),
    "adaptive": ("tutor.cli.eval_adaptive:eval_adaptive", "Adaptive vs fixed vs random item selection on simulated learners."),
}

BENCH_COMMANDS = {
    "store": ("tutor.cli.bench_store:bench_store", "Insert rate and query times of the progress store."),
    "retrieval": ("tutor.cli.bench_retrieval:bench_retrieval", "Index build time and query latency."),
    "llm": ("tutor.cli.bench_llm:bench_llm", "Model load time, time to first token and decode speed."),
    "app": ("tutor.cli.bench_app:bench_app", "Time to first paint and until the tutor is ready."),
    "reports": ("tutor.cli.bench_reports:bench_reports", "Instructor report times on a large class."),
}

COMMANDS = {
    "content": ("tutor.cli.content:content", "Validate or show a course folder."),
    "db": ("tutor.cli.db:db", "Upgrade, inspect, back up, export and import the progress database."),
    "search": ("tutor.cli.search:search", "Search the course for the passages that answer a question."),
    "ask": ("tutor.cli.ask:ask", "Ask the tutor a question; the answer cites the lesson."),
    "train": ("tutor.cli.train:train", "Fine-tune the tutor model with LoRA on this course."),
    "train-embedder": ("tutor.cli.train_embedder:train_embedder", "Fine-tune the retrieval embedder on this course."),
    "quiz": ("tutor.cli.quiz:quiz", "Take an adaptive quiz in the plain terminal."),
    "progress": ("tutor.cli.progress:progress", "Show a learner's mastery and due reviews."),
    "learner": ("tutor.cli.learner:learner", "Learner-model maintenance (fit knowledge-tracing parameters)."),
    "instructor": ("tutor.cli.instructor:instructor", "Instructor access (set the passphrase)."),
    "report": ("tutor.cli.report:report", "Instructor reports: class, learner, items, gaps."),
    "app": ("tutor.cli.app:app_command", "Open the terminal app (the default with no command)."),
}


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="tutor")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """tutor: a local-first terminal tutor and adaptive quiz engine.

    Run with no command to open the app.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(cli.get_command(ctx, "app"))


@cli.group(cls=LazyGroup, lazy=EVAL_COMMANDS)
def eval() -> None:  # noqa: A001 - the command is called `eval`
    """Quality figures over the data sets kept in the repo."""


@cli.group(cls=LazyGroup, lazy=BENCH_COMMANDS)
def bench() -> None:
    """Speed and memory figures."""


def main() -> None:
    """Console-script entry: turn Ctrl+C into a quiet exit instead of a traceback."""
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("\nInterrupted.", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
