"""LoRA fine-tuning of the tutor model: loss on the answer tokens only, on CPU by default.

Why this shape:
- The prompt (lesson passages, learner profile, conversation, question) is context the model must read,
  not text it should learn to write, so its labels are -100 and only the answer (plus the end-of-turn
  token, so the model learns to stop) carries loss.
- Batches are grouped by length: on two CPU cores padding is the main waste.
- An adapter is saved after every epoch (``epoch-N/``) so a run cut short still leaves something usable.

`tutor/cli/train.py` is the command; `tutor/llm/train_data.py` builds the examples.
"""

from __future__ import annotations

import json
import math
import platform
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

IGNORE_INDEX = -100
ATTENTION_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP_MODULES = ("gate_proj", "up_proj", "down_proj")


class TrainError(Exception):
    """Training cannot start or continue (bad settings, missing data); the message says why."""


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one LoRA run; written verbatim into the adapter card."""

    epochs: float = 2.0
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    lr: float = 4e-4
    batch_size: int = 4
    max_len: int = 512
    warmup_ratio: float = 0.06
    weight_decay: float = 0.0
    target_modules: tuple[str, ...] = ATTENTION_MODULES
    layers_from: int = 0  # adapt only layers >= this (backward then stops there: cheaper on CPU)
    bf16: bool | None = None  # autocast matmuls to bf16; None = where the hardware does it natively
    dev_limit: int = 16  # dev examples scored for the dev loss
    save_steps: int = 0  # also save out_dir/checkpoint every this many steps (0 = only per epoch)
    seed: int = 13
    threads: int = 2
    save_every_epoch: bool = True

    def validate(self) -> None:
        if self.epochs <= 0:
            raise TrainError(f"epochs must be positive (got {self.epochs})")
        if self.rank < 1:
            raise TrainError(f"rank must be at least 1 (got {self.rank})")
        if not 0 < self.lr < 1:
            raise TrainError(f"learning rate must be between 0 and 1 (got {self.lr})")
        if self.batch_size < 1:
            raise TrainError(f"batch size must be at least 1 (got {self.batch_size})")
        if self.max_len < 16:
            raise TrainError(f"max length must be at least 16 tokens (got {self.max_len})")


@dataclass(frozen=True)
class TokenizedExample:
    input_ids: list[int]
    labels: list[int]


@dataclass
class TrainResult:
    """What happened during a run: the card is written from this."""

    steps: int
    epochs: float
    seconds: float
    train_examples: int
    dev_examples: int
    losses: list[float] = field(default_factory=list)  # per optimizer step
    dev_loss: list[float] = field(default_factory=list)  # after each epoch (first = before training)
    device: str = "cpu"
    hardware: str = ""
    dropped: int = 0  # examples longer than max_len, left out
    bf16: bool = False
    trainable_params: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["first_loss"] = round(sum(self.losses[:10]) / max(1, len(self.losses[:10])), 4) if self.losses else None
        d["last_loss"] = round(sum(self.losses[-10:]) / max(1, len(self.losses[-10:])), 4) if self.losses else None
        d["losses"] = [round(x, 4) for x in self.losses]
        d["dev_loss"] = [round(x, 4) for x in self.dev_loss]
        return d


def tokenize_example(tokenizer: Any, prompt: str, target: str, max_len: int) -> TokenizedExample | None:
    """Prompt tokens masked with -100, answer tokens + EOS as labels; None when it does not fit max_len.

    The prompt must already end where the assistant's answer starts (the chat template's generation
    prompt), exactly as at run time.
    """
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    eos = tokenizer.eos_token_id
    if eos is not None:
        answer_ids = answer_ids + [eos]
    if not answer_ids or len(prompt_ids) + len(answer_ids) > max_len:
        return None
    return TokenizedExample(
        input_ids=prompt_ids + answer_ids,
        labels=[IGNORE_INDEX] * len(prompt_ids) + answer_ids,
    )


def collate(batch: Sequence[TokenizedExample], pad_id: int) -> dict[str, Any]:
    """Right-pad a batch; padding is masked out of attention and loss."""
    import torch

    width = max(len(ex.input_ids) for ex in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, ex in enumerate(batch):
        n = len(ex.input_ids)
        ids[row, :n] = torch.tensor(ex.input_ids)
        labels[row, :n] = torch.tensor(ex.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def length_grouped_batches(lengths: Sequence[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of indices with similar lengths (sort within shuffled chunks of 16 batches)."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 16
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    rng.shuffle(batches)
    return batches


def add_lora(model: Any, config: TrainConfig) -> Any:
    """Wrap a causal LM with fresh LoRA matrices on ``config.target_modules``; base weights frozen."""
    from peft import LoraConfig, get_peft_model

    layers = None
    if config.layers_from > 0:
        n_layers = int(getattr(model.config, "num_hidden_layers", 0))
        if config.layers_from >= n_layers:
            raise TrainError(f"layers_from {config.layers_from} leaves none of the {n_layers} layers to adapt")
        layers = list(range(config.layers_from, n_layers))
    lora = LoraConfig(
        r=config.rank,
        lora_alpha=config.alpha,
        lora_dropout=config.dropout,
        target_modules=list(config.target_modules),
        layers_to_transform=layers,
        bias="none",
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, lora)


def masked_loss(model: Any, batch: dict[str, Any]) -> Any:
    """Mean cross-entropy over the answer tokens of a batch (labels -100 elsewhere).

    Only the positions from the earliest answer token on go through the output layer
    (``logits_to_keep``): with a 49k-token vocabulary the logits of the long prompt are a large,
    useless share of the work. Equal to the model's own loss (checked in the tests).
    """
    import torch.nn.functional as F

    labels = batch["labels"]
    width = labels.shape[1]
    answer = labels != IGNORE_INDEX
    if not bool(answer.any()):
        raise TrainError("a batch has no answer tokens")
    first = int(answer.float().argmax(dim=1)[answer.any(dim=1)].min())
    keep = min(width, width - first + 1)  # position first-1 predicts the first answer token
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=keep)
    logits = out.logits[:, :-1, :]
    targets = labels[:, width - keep + 1 :]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1), ignore_index=IGNORE_INDEX)


def bf16_available() -> bool:
    """Whether this machine computes bf16 matmuls natively (AMX / AVX512-BF16 CPUs, recent GPUs)."""
    import torch

    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    try:
        from tutor.llm.runtime import choose_dtype_name

        return choose_dtype_name(env="") == "bfloat16"
    except Exception:  # pragma: no cover - runtime helper missing
        return False


def _autocast(device: str, enabled: bool) -> Any:
    import contextlib

    import torch

    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda" if device == "cuda" else "cpu", dtype=torch.bfloat16)


def evaluate_loss(model: Any, examples: Sequence[TokenizedExample], pad_id: int, batch_size: int = 8) -> float:
    """Answer-token loss averaged over examples (no dropout, no gradients), on the model's device."""
    device = str(next(model.parameters()).device)
    return _dev_loss_device(model, examples, pad_id, TrainConfig(batch_size=max(1, batch_size // 2)), device)


def hardware_description() -> str:
    """One line naming the machine the run used, for the card."""
    import os

    import torch

    if torch.cuda.is_available():
        return f"GPU {torch.cuda.get_device_name(0)}"
    cpu = platform.processor() or platform.machine()
    return f"CPU {cpu}, {torch.get_num_threads()} threads of {os.cpu_count()} cores"


def train_lora(
    model: Any,
    tokenizer: Any,
    train: Sequence[tuple[str, str]],
    dev: Sequence[tuple[str, str]],
    config: TrainConfig,
    *,
    out_dir: Path | None = None,
    progress: Callable[[int, int, float], None] | None = None,
    max_steps: int | None = None,
) -> tuple[Any, TrainResult]:
    """Train LoRA on (prompt, target) pairs; returns the peft model and what happened.

    ``progress(step, total_steps, loss)`` is called after each optimizer step. With ``out_dir``, an
    adapter is saved to ``out_dir/epoch-N`` after each full epoch when ``config.save_every_epoch``.
    """
    import torch

    config.validate()
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    if not torch.cuda.is_available():
        torch.set_num_threads(max(1, config.threads))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    use_bf16 = bf16_available() if config.bf16 is None else config.bf16

    tok_train = [tokenize_example(tokenizer, p, t, config.max_len) for p, t in train]
    dropped = sum(1 for x in tok_train if x is None)
    train_set = [x for x in tok_train if x is not None]
    dev_set = [x for x in (tokenize_example(tokenizer, p, t, config.max_len) for p, t in dev) if x is not None]
    dev_set = dev_set[: config.dev_limit]
    if not train_set:
        raise TrainError("no training example fits the maximum length; raise --max-len or shorten the prompts")

    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if not hasattr(model, "peft_config"):
        model = add_lora(model, config)
    model.to(device)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    trainable = sum(p.numel() for p in params)
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)

    rng = random.Random(config.seed)
    lengths = [len(x.input_ids) for x in train_set]
    steps_per_epoch = math.ceil(len(train_set) / config.batch_size)
    total = max(1, round(steps_per_epoch * config.epochs))
    if max_steps is not None:
        total = min(total, max_steps)
    warmup = max(1, int(total * config.warmup_ratio))

    def lr_at(step: int) -> float:  # linear warmup, cosine decay to 10 %
        if step < warmup:
            return config.lr * (step + 1) / warmup
        frac = (step - warmup) / max(1, total - warmup)
        return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))

    def to_device(batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v.to(device) for k, v in batch.items()}

    result = TrainResult(
        bf16=use_bf16,
        steps=0,
        epochs=0.0,
        seconds=0.0,
        train_examples=len(train_set),
        dev_examples=len(dev_set),
        device=device,
        hardware=hardware_description(),
        dropped=dropped,
        trainable_params=trainable,
    )
    if dev_set:
        result.dev_loss.append(_dev_loss_device(model, dev_set, pad_id, config, device, use_bf16))
    started = time.perf_counter()
    step = 0
    epoch = 0
    while step < total:
        epoch += 1
        for batch_idx in length_grouped_batches(lengths, config.batch_size, rng):
            if step >= total:
                break
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            batch = to_device(collate([train_set[i] for i in batch_idx], pad_id))
            with _autocast(device, use_bf16):
                loss = masked_loss(model, batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            result.losses.append(float(loss.detach()))
            if out_dir is not None and config.save_steps and step % config.save_steps == 0:
                model.save_pretrained(str(Path(out_dir) / "checkpoint"))
                (Path(out_dir) / "checkpoint" / "step.json").write_text(
                    json.dumps({"step": step, "of": total, "losses": [round(x, 4) for x in result.losses]}) + "\n"
                )
            if progress is not None:
                progress(step, total, result.losses[-1])
        else:
            # a full epoch ended
            if dev_set:
                result.dev_loss.append(_dev_loss_device(model, dev_set, pad_id, config, device, use_bf16))
            if out_dir is not None and config.save_every_epoch:
                model.save_pretrained(str(Path(out_dir) / f"epoch-{epoch}"))
    result.steps = step
    result.epochs = round(step / steps_per_epoch, 3)
    result.seconds = round(time.perf_counter() - started, 1)
    model.eval()
    return model, result


def _dev_loss_device(
    model: Any, dev_set: Sequence[TokenizedExample], pad_id: int, config: TrainConfig, device: str, bf16: bool = False
) -> float:
    import torch

    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(dev_set), config.batch_size * 2):
            part = dev_set[start : start + config.batch_size * 2]
            batch = {k: v.to(device) for k, v in collate(part, pad_id).items()}
            with _autocast(device, bf16):
                total += float(masked_loss(model, batch)) * len(part)
            count += len(part)
    if was_training:
        model.train()
    return total / max(1, count)


def save_adapter(model: Any, out_dir: Path) -> list[Path]:
    """Write adapter_model.safetensors + adapter_config.json; returns the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    files = [out_dir / "adapter_model.safetensors", out_dir / "adapter_config.json"]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise TrainError(f"saving the adapter did not write {', '.join(missing)} in {out_dir}")
    return files


def file_sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_card(out_dir: Path, card: dict[str, Any]) -> None:
    """card.json (the figures) and card.md (the same, readable); evaluation added later by compare."""
    out_dir = Path(out_dir)
    (out_dir / "card.json").write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    (out_dir / "card.md").write_text(render_card(card))


def render_card(card: dict[str, Any]) -> str:
    """The adapter card as Markdown: what it is, how it was made, how well it does."""
    hp = card.get("hyperparameters", {})
    tr = card.get("training", {})
    data = card.get("data", {})
    base = card.get("base_model", {})
    seed = (card.get("prompt") or {}).get("answer_seed", "key+opener")
    lines = [
        f"# {card.get('name', 'tutor-lora')}: LoRA adapter for the course tutor",
        "",
        card.get("summary", ""),
        "",
        "## Base model",
        f"- model: {base.get('id', '?')}",
        f"- weights file: `{base.get('file', '?')}` (sha256 `{base.get('sha256', '?')}`)",
        "",
        "## Data",
        f"- source: {data.get('source', '?')} (sha256 of the built examples `{data.get('sha256', '?')}`)",
        f"- examples: {data.get('train', '?')} train, {data.get('dev', '?')} dev (split by question)",
    ]
    for kind, n in sorted(data.get("kinds", {}).items()):
        lines.append(f"  - {kind}: {n}")
    if data.get("train_used") and data.get("train_used") != data.get("train"):
        lines.append(f"- used by this run: {data['train_used']} train examples (weighted subset)")
        if data.get("train_used_kinds"):
            lines.append(f"  - by kind: {data['train_used_kinds']}")
        if data.get("kind_weights"):
            lines.append(f"  - sampling weights (0 = left out): {data['kind_weights']}")
        if data.get("level_repeats"):
            lines.append(f"  - levels repeated per epoch: {data['level_repeats']} ({data.get('train_per_epoch')} examples per epoch)")
    for key in ("unanswerable_share", "unanswerable_share_used", "near_heldout_dropped", "unfaithful_dropped", "over_budget_dropped", "mean_tokens"):
        if key in data:
            lines.append(f"- {key.replace('_', ' ')}: {data[key]}")
    lines += [
        "",
        "## Prompt",
        f"- answer seed: {seed} (the tutor starts each answer with the evidence's key sentences"
        + (", then a style opener" if seed == "key+opener" else "")
        + "; the adapter writes what follows)",
        "",
        "## Hyper-parameters",
        *(f"- {k}: {v}" for k, v in hp.items()),
        "",
        "## Training",
        f"- hardware: {tr.get('hardware', '?')} ({tr.get('device', '?')})",
        f"- time: {tr.get('seconds', '?')} s, {tr.get('steps', '?')} steps, {tr.get('epochs', '?')} epochs",
        f"- answer-token loss: first 10 steps {tr.get('first_loss', '?')}, last 10 steps {tr.get('last_loss', '?')}",
        f"- dev loss by epoch (first = before training): {tr.get('dev_loss', '?')}",
        f"- trainable parameters: {tr.get('trainable_params', '?')}",
        "",
    ]
    evaluation = card.get("evaluation")
    lines.append("## Evaluation")
    if evaluation and evaluation.get("table_md"):
        lines.append("")
        lines.append(evaluation["table_md"])
        for note in evaluation.get("notes", []):
            lines.append(f"- {note}")
        if evaluation.get("answers_md"):
            lines += ["", "### Answers side by side", "", evaluation["answers_md"]]
    else:
        lines.append("Not evaluated yet: run `python -m tutor.llm.compare --adapter <dir>`.")
    lines.append("")
    for note in card.get("notes", []):
        lines.append(f"- {note}")
    return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------------------------------ the run
DEFAULT_ADAPTER_NAME = "tutor-lora"


def default_out_dir() -> Path:
    from tutor.config import adapters_dir

    return adapters_dir() / DEFAULT_ADAPTER_NAME


def load_base() -> tuple[Any, Any, dict[str, Any]]:
    """Tokenizer, float32 model and a description (id, file, sha256) of the base weights.

    The weights come from the answers pipeline's loader (`tutor.llm.loader.load_base`: the dequantised
    GGUF, cached as safetensors), so training and serving start from the same tensors; the card records
    the GGUF file and its hash.
    """
    import torch

    from tutor.llm.errors import LLMError
    from tutor.llm.loader import CHATML_TEMPLATE, gguf_path
    from tutor.llm.loader import load_base as load_cached_base

    try:
        path = gguf_path()
        model, tokenizer, source, _ = load_cached_base()
    except LLMError as exc:
        raise TrainError(str(exc)) from exc
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = CHATML_TEMPLATE
    model = model.to(torch.float32)
    return tokenizer, model, {
        "id": "HuggingFaceTB/SmolLM2-135M-Instruct (GGUF Q4_1, dequantised to float32)",
        "file": path.name,
        "sha256": file_sha256(path),
        "loaded_from": source,
    }


def run_training(
    *,
    epochs: float,
    rank: int,
    lr: float,
    max_len: int,
    batch_size: int = 4,
    mlp: bool = False,
    max_steps: int | None = None,
    out: Path | None = None,
    course: Path | None = None,
    data_only: bool = False,
    layers_from: int = 0,
    train_size: int | None = None,
    save_steps: int = 0,
    answer_seed: str = "key",
    kind_weights: Mapping[str, float] | None = None,
    level_repeats: Mapping[str, int] | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Build the examples, train, save the adapter and its card; returns the card dict."""
    from tutor.config import offline

    offline()
    config = TrainConfig(
        epochs=epochs,
        rank=rank,
        alpha=2 * rank,
        lr=lr,
        max_len=max_len,
        batch_size=batch_size,
        target_modules=ATTENTION_MODULES + (MLP_MODULES if mlp else ()),
        layers_from=layers_from,
        save_steps=save_steps,
    )
    config.validate()
    from tutor.llm.train_data import KINDS, DataError, repeat_levels

    unknown = sorted(set(kind_weights or {}) - set(KINDS))
    if unknown:
        raise TrainError(f"unknown example kind(s) {', '.join(unknown)}; the kinds are {', '.join(KINDS)}")
    try:
        repeat_levels([], level_repeats or {})  # a typo fails before the model loads
    except DataError as exc:
        raise TrainError(str(exc)) from exc
    out_dir = Path(out) if out is not None else default_out_dir()

    from tutor.content import load_course
    from tutor.llm import train_data
    from tutor.quiz.bank import load_bank

    try:
        course_obj = load_course(course)
        bank = load_bank(course_obj)
    except Exception as exc:  # ContentError / BankError carry the file and line
        raise TrainError(str(exc)) from exc

    echo("Loading the base model ...")
    t0 = time.perf_counter()
    tokenizer, model, base = load_base()
    echo(f"  {base.get('id')} ({time.perf_counter() - t0:.0f} s)")

    echo("Building the examples (real retriever, run-time prompt) ...")
    t0 = time.perf_counter()
    try:
        source = train_data.real_passage_source(course_obj)
        embed = _embedder_encode()
        dataset = train_data.build_dataset(
            train_data.runtime_renderer(tokenizer, source, answer_seed=answer_seed),
            source,
            bank.items,
            count_tokens=lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"]),
            max_len=max_len,
            embed=embed,
        )
    except train_data.DataError as exc:
        raise TrainError(str(exc)) from exc
    counts = dataset.counts()
    echo(f"  {counts['train']} train / {counts['dev']} dev examples in {time.perf_counter() - t0:.0f} s; "
         f"unanswerable {counts['unanswerable_share']:.0%}; kinds {counts['kinds']}")
    echo(f"  tokens: mean {dataset.report['mean_tokens']}, max {dataset.report['max_tokens']}; "
         f"left out: {dataset.report['over_budget_dropped']} over {max_len} tokens, "
         f"{len(dataset.report['near_heldout_dropped'])} questions close to heldout ones")
    built_dir = _built_dir()
    train_data.write_jsonl(dataset.train, built_dir / "train.jsonl")
    train_data.write_jsonl(dataset.dev, built_dir / "dev.jsonl")
    (built_dir / "report.json").write_text(json.dumps({"counts": counts, **dataset.report}, indent=1))
    echo(f"  written to {built_dir}")
    if len(dataset.train) < 1:
        raise TrainError("no training examples were built")
    if data_only:
        return {"data": counts}
    train_examples = list(dataset.train)
    weights = {**train_data.SUBSET_WEIGHTS, **dict(kind_weights or {})}
    n = min(train_size if train_size is not None else len(train_examples), len(train_examples))
    train_examples = train_data.select_subset(train_examples, n, seed=config.seed, weights=weights)
    if len(train_examples) != len(dataset.train):
        sub = dict(sorted(Counter(e.kind for e in train_examples).items()))
        echo(f"  training on a subset of {len(train_examples)} examples (weights {weights}): {sub}")
        counts["train_used"] = len(train_examples)
        counts["train_used_kinds"] = sub
        counts["kind_weights"] = weights
    if level_repeats:  # checked before the model loaded
        train_examples = repeat_levels(train_examples, level_repeats)
        counts["level_repeats"] = dict(level_repeats)
        counts["train_per_epoch"] = len(train_examples)
        echo(f"  levels repeated {dict(level_repeats)}: {len(train_examples)} examples per epoch")
    counts["unanswerable_share_used"] = round(sum(not e.answerable for e in train_examples) / max(1, len(train_examples)), 3)

    total_steps = max(1, round(math.ceil(len(train_examples) / config.batch_size) * config.epochs))
    if max_steps is not None:
        total_steps = min(total_steps, max_steps)
    bar = _progress_bar(total_steps)
    started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def progress(step: int, total: int, loss: float) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.3f}")

    out_dir.mkdir(parents=True, exist_ok=True)
    model, result = train_lora(
        model,
        tokenizer,
        [(e.prompt, e.target) for e in train_examples],
        [(e.prompt, e.target) for e in dataset.dev],
        config,
        out_dir=out_dir,
        progress=progress,
        max_steps=max_steps,
    )
    bar.close()
    save_adapter(model, out_dir)
    card = {
        "name": out_dir.name,
        "summary": (
            "LoRA adapter that teaches SmolLM2-135M-Instruct to explain the lesson evidence it is given. The tutor "
            "opens each answer with the key lesson sentences, and the adapter continues at the learner's level and "
            "style. It also writes quiz feedback, scenario feedback and answers to follow-ups. Out-of-scope "
            "questions never reach it: the retriever's scope gate declines them first."
        ),
        "base_model": base,
        # how the tutor must seed answers for this adapter (read back by `tutor.llm.loader.adapter_answer_seed`)
        "prompt": {"answer_seed": answer_seed},
        "data": {
            "source": "adapters/data/*.yaml + quizzes (built by tutor/llm/train_data.py)",
            "source_sha256": dataset.source_sha256,
            "sha256": dataset.sha256,
            "train": counts["train"],
            "train_used": counts.get("train_used", counts["train"]),
            "train_used_kinds": counts.get("train_used_kinds"),
            "kind_weights": counts.get("kind_weights"),
            "level_repeats": counts.get("level_repeats"),
            "train_per_epoch": counts.get("train_per_epoch", counts.get("train_used", counts["train"])),
            "dev": counts["dev"],
            "kinds": counts["kinds"],
            "unanswerable_share": counts["unanswerable_share"],
            "unanswerable_share_used": counts["unanswerable_share_used"],
            "retriever": dataset.retriever_id,
            "near_heldout_dropped": len(dataset.report["near_heldout_dropped"]),
            "over_budget_dropped": dataset.report["over_budget_dropped"],
            "mean_tokens": dataset.report["mean_tokens"],
        },
        "hyperparameters": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()},
        "training": {**result.to_dict(), "started_at": started_at},
        "evaluation": None,
        "notes": [],
    }
    card["training"].pop("losses", None)
    write_card(out_dir, card)
    (out_dir / "train_log.json").write_text(json.dumps({"losses": [round(x, 4) for x in result.losses]}) + "\n")
    echo(
        f"Done: {result.steps} steps ({result.epochs} epochs) in {result.seconds:.0f} s on {result.hardware}; "
        f"loss {card['training']['first_loss']} -> {card['training']['last_loss']}; "
        f"dev loss {[round(x, 3) for x in result.dev_loss]}"
    )
    echo(f"Adapter: {out_dir} (evaluate with `python -m tutor.llm.compare --adapter {out_dir}`)")
    return card


def _built_dir() -> Path:
    from tutor.config import paths

    d = paths().cache_dir / "train"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _embedder_encode() -> Callable[[list[str]], Any] | None:
    """MiniLM (base, no course adapter) to screen training questions against the heldout ones."""
    try:
        from tutor.retrieval import load_embedder

        return load_embedder("none").encode
    except Exception:  # the lexical screen still runs
        return None


def _progress_bar(total: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="training", unit="step", mininterval=5.0)
