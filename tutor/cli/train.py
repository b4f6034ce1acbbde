"""`tutor train`: fine-tune the tutor model with LoRA on this course's authored tutoring data.

The defaults are the shipped adapter's configuration (adapters/tutor-lora/card.md): about 28 minutes on 2 CPU cores.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--epochs", type=float, default=2.0, show_default=True, help="Passes over the training examples.")
@click.option("--rank", type=int, default=8, show_default=True, help="LoRA rank.")
@click.option("--lr", type=float, default=8e-4, show_default=True, help="Peak learning rate.")
@click.option("--max-len", type=int, default=800, show_default=True, help="Longest example in tokens (longer ones are left out).")
@click.option("--batch-size", type=int, default=4, show_default=True)
@click.option("--mlp/--no-mlp", default=True, help="Also adapt the MLP projections (not only q/k/v/o).")
@click.option("--max-steps", type=int, default=None, help="Stop after this many optimizer steps (smoke runs).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Adapter folder (default: adapters/tutor-lora, the one the tutor loads).")
@click.option("--course", type=click.Path(path_type=Path), default=None, help="Course folder (default: shipped course).")
@click.option("--data-only", is_flag=True, help="Build and check the examples, print the counts, do not train.")
@click.option("--layers-from", type=int, default=10, show_default=True,
              help="Adapt only transformer layers from this index up (backward stops there: cheaper on CPU).")
@click.option("--train-size", type=int, default=480, show_default=True,
              help="Train on a weighted subset of this many examples.")
@click.option("--save-steps", type=int, default=0, help="Also save a checkpoint every N steps (0 = per epoch only).")
@click.option("--answer-seed", type=click.Choice(["key", "key+opener"]), default="key", show_default=True,
              help="How run-time answers start: the key lesson sentences (key) or those plus a style opener.")
@click.option("--weight", "weights", multiple=True, metavar="KIND=W",
              help="Sampling weight of an example kind (0 leaves it out; defaults in tutor/llm/train_data.py), e.g. --weight lacking=0.5.")
@click.option("--repeat", "repeats", multiple=True, metavar="LEVEL=N",
              help="Show the examples of a learner level N times per epoch, e.g. --repeat beginner=2.")
def train(
    epochs: float,
    rank: int,
    lr: float,
    max_len: int,
    batch_size: int,
    mlp: bool,
    max_steps: int | None,
    out: Path | None,
    course: Path | None,
    data_only: bool,
    layers_from: int,
    train_size: int | None,
    save_steps: int,
    answer_seed: str,
    weights: tuple[str, ...],
    repeats: tuple[str, ...],
) -> None:
    """Fine-tune the tutor model with LoRA on this course (CPU by default, GPU when present)."""
    from tutor.llm.train import TrainError, run_training

    kind_weights: dict[str, float] = {}
    for item in weights:
        kind, _, value = item.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not kind.strip() or not weight >= 0:
            raise click.BadParameter(f"expected KIND=WEIGHT with a weight >= 0 (got {item!r})", param_hint="--weight")
        kind_weights[kind.strip()] = weight
    level_repeats: dict[str, int] = {}
    for item in repeats:
        level, _, value = item.partition("=")
        if not level.strip() or not value.strip().isdigit() or int(value) < 1:
            raise click.BadParameter(f"expected LEVEL=N with a whole N >= 1 (got {item!r})", param_hint="--repeat")
        level_repeats[level.strip()] = int(value)
    try:
        run_training(
            epochs=epochs,
            rank=rank,
            lr=lr,
            max_len=max_len,
            batch_size=batch_size,
            mlp=mlp,
            max_steps=max_steps,
            out=out,
            course=course,
            data_only=data_only,
            layers_from=layers_from,
            train_size=train_size,
            save_steps=save_steps,
            answer_seed=answer_seed,
            kind_weights=kind_weights or None,
            level_repeats=level_repeats or None,
            echo=click.echo,
        )
    except TrainError as exc:
        raise click.ClickException(str(exc)) from exc
