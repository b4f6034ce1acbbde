"""Fine-tune MiniLM on this course: a small LoRA adapter trained on generated (question, section) pairs.

Why LoRA: the adapter is ~1.3 MB instead of a 90 MB model copy, it ships in
the repo (adapters/embedder/) and is merged into the weights at load time.

Why a hand-written loop rather than SentenceTransformerTrainer with
MultipleNegativesRankingLoss: a course has a few dozen sections, so every step
can score each question against *all* sections (a softmax over the course,
which is exactly the retrieval task) while encoding each section once per step
— cheaper on a CPU than in-batch negatives, which re-encode a passage for every
pair. Sections also relevant to a question (but not its target) are masked out
rather than treated as negatives. For courses past `max_candidates` sections,
each step samples the batch's targets plus random others. (The trainer would
also need the `datasets` package for a few hundred pairs.)

By default the passages get no gradient: they are re-encoded (without
autograd) every few steps and only the questions are backpropagated — a
question is ~15 word pieces, a passage ~180, so a step costs ~8x less on a CPU,
while the shared LoRA weights still move both sides (the refresh keeps them
consistent, as in ANCE-style training with a periodically refreshed index).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tutor.retrieval.devset import DevSet
from tutor.retrieval.embedder import ADAPTER_CONFIG, BASE_MODEL_ID, load_sentence_transformer
from tutor.retrieval.pairs import TrainingPair, check_no_heldout, generate_pairs, passage_text

LORA_TARGETS = r".*encoder.*\.(query|key|value|dense)$"  # attention and MLP of every layer, not the pooler


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 3  # dev recall@1 stopped rising after the third (measured; see card.md)
    batch_size: int = 64  # questions per step; every step also encodes the candidate sections
    max_candidates: int = 64
    lr: float = 3e-4
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.1
    scale: float = 20.0  # cosine -> logit scale of the ranking loss
    warmup: float = 0.1
    anchor_max_length: int = 64
    passage_max_length: int = 256
    seed: int = 13
    threads: int = 1  # torch threads; more only helps on an otherwise idle machine
    passage_grad: bool = False  # backprop through the passages too (≈8x slower per step on a CPU)
    refresh_every: int = 4  # steps between re-encoding the passages when they get no gradient
    student_questions: bool = True  # add adapters/data/embedder-questions.yaml (trainset.py)


@dataclass
class TrainResult:
    config: TrainConfig
    pairs: int
    pair_sources: dict[str, int]
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)  # per step
    epoch_dev_recall_at_1: list[float] = field(default_factory=list)  # dense, dev split; [0] = before training
    trainable_parameters: int = 0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["config"] = asdict(self.config)
        return out


def _encode(bert, tokenizer, texts: list[str], max_length: int):
    """Mean-pooled, L2-normalised embeddings with gradients (the same pooling MiniLM uses)."""
    import torch

    features = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    hidden = bert(**features).last_hidden_state
    mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def _dense_recall_at_1(bert, tokenizer, sections, devset: DevSet | None) -> float:
    """Quick dense-only top-1 on the dev split (sections as one title-prefixed passage each).

    When some dev questions are set aside from training (split "cv-out", a cross-fitting fold),
    only those are scored: the honest per-epoch curve. Otherwise the (trained-on) dev split.
    """
    import torch

    if devset is None:
        return float("nan")
    questions = [q for q in devset.in_scope if q.split == "cv-out"]
    questions = questions or [q for q in devset.in_scope if q.split == "dev"]
    if not questions:
        return float("nan")
    was_training = bert.training
    bert.eval()
    with torch.inference_mode():
        passages = _encode(bert, tokenizer, [passage_text(s) for s in sections], 256)
        queries = _encode(bert, tokenizer, [q.question for q in questions], 64)
    if was_training:
        bert.train()
    top = (queries @ passages.T).argmax(dim=1).tolist()
    return sum(1 for q, i in zip(questions, top) if sections[i].id in q.sections) / len(questions)


def train_adapter(
    course,
    devset: DevSet | None,
    out_dir: Path,
    config: TrainConfig | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> TrainResult:
    """Train the course adapter and save it (adapter_config.json + adapter_model.safetensors) in out_dir."""
    import torch
    from peft import LoraConfig, get_peft_model

    config = config or TrainConfig()
    started = time.perf_counter()
    if config.threads:
        torch.set_num_threads(config.threads)
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    sections = list(course.sections())
    by_id = {s.id: s for s in sections}
    trainset = None
    if config.student_questions:
        from tutor.retrieval.trainset import load_trainset

        trainset = load_trainset(section_ids=set(by_id))
    pairs: list[TrainingPair] = generate_pairs(course, devset, seed=config.seed, trainset=trainset)
    check_no_heldout(pairs, devset)
    log(f"{len(pairs)} training pairs: {dict(Counter(p.source for p in pairs))}")

    st = load_sentence_transformer()
    tokenizer = st.tokenizer
    lora = LoraConfig(
        r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout, target_modules=LORA_TARGETS
    )
    model = get_peft_model(st[0].auto_model, lora)
    trainable = [p for p in model.parameters() if p.requires_grad]
    result = TrainResult(
        config=config,
        pairs=len(pairs),
        pair_sources=dict(Counter(p.source for p in pairs)),
        steps=0,
        seconds=0.0,
        trainable_parameters=sum(p.numel() for p in trainable),
    )
    result.epoch_dev_recall_at_1.append(_dense_recall_at_1(model, tokenizer, sections, devset))
    log(f"dev recall@1 (dense) before training: {result.epoch_dev_recall_at_1[0]:.3f}")

    rng = random.Random(config.seed)
    plan = []
    for _ in range(config.epochs):
        order = pairs[:]
        rng.shuffle(order)
        plan.append([order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)])
    total = sum(len(epoch) for epoch in plan)
    optimizer = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=0.01)
    warmup = max(1, int(total * config.warmup))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
    )
    texts = [passage_text(s) for s in sections]
    index_of = {s.id: i for i, s in enumerate(sections)}
    model.train()
    cached = None  # passage embeddings without gradient, refreshed every few steps
    for epoch, epoch_batches in enumerate(plan, start=1):
        for batch in epoch_batches:
            candidates = _candidates(batch, index_of, len(sections), config.max_candidates, rng)
            column = {c: j for j, c in enumerate(candidates)}
            if config.passage_grad:
                passages = _encode(model, tokenizer, [texts[c] for c in candidates], config.passage_max_length)
            else:
                if cached is None or result.steps % config.refresh_every == 0:
                    model.eval()  # no dropout: the cache stands for the passages as they will be indexed
                    with torch.no_grad():
                        cached = _encode(model, tokenizer, texts, config.passage_max_length)
                    model.train()
                passages = cached[candidates]
            anchors = _encode(model, tokenizer, [p.anchor for p in batch], config.anchor_max_length)
            logits = config.scale * anchors @ passages.T
            mask = torch.zeros_like(logits, dtype=torch.bool)
            for i, p in enumerate(batch):
                for sid in p.relevant - {p.section_id}:
                    if index_of.get(sid) in column:
                        mask[i, column[index_of[sid]]] = True
            logits = logits.masked_fill(mask, float("-inf"))
            target = torch.tensor([column[index_of[p.section_id]] for p in batch])
            loss = torch.nn.functional.cross_entropy(logits, target)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            scheduler.step()
            result.losses.append(float(loss.detach()))
            result.steps += 1
            if result.steps % 5 == 0:
                log(f"step {result.steps}/{total}: loss {result.losses[-1]:.3f}")
        recall = _dense_recall_at_1(model, tokenizer, sections, devset)
        result.epoch_dev_recall_at_1.append(recall)
        recent = result.losses[-len(epoch_batches) :]
        log(f"epoch {epoch}/{config.epochs}: loss {sum(recent) / len(recent):.3f}, dev recall@1 (dense) {recall:.3f}")

    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    _portable_config(out_dir / ADAPTER_CONFIG)
    readme = out_dir / "README.md"  # peft's generic model card; ours is card.md
    if readme.exists():
        readme.unlink()
    result.seconds = time.perf_counter() - started
    return result


def _candidates(
    batch: list[TrainingPair], index_of: dict[str, int], n_sections: int, limit: int, rng: random.Random
) -> list[int]:
    """Section indices scored this step: all of them for a small course, else targets + random others."""
    if n_sections <= limit:
        return list(range(n_sections))
    chosen = list(dict.fromkeys(index_of[p.section_id] for p in batch))
    others = [i for i in range(n_sections) if i not in set(chosen)]
    rng.shuffle(others)
    return chosen + others[: max(0, limit - len(chosen))]


def _portable_config(path: Path) -> None:
    """Name the base model by its hub id, not this machine's site-packages path."""
    data = json.loads(path.read_text())
    data["base_model_name_or_path"] = BASE_MODEL_ID
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
