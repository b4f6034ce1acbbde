"""Timing the instructor reports on a large synthetic class (``tutor bench reports``).

The store's benchmark filler (``tutor.store.bench.fill``) writes learners,
attempts and mastery; the reports also read conversations, so this adds chat
messages for a share of the learners: questions about course concepts with
the tutor's cited replies, some judged out of scope and some weakly grounded,
spread over the same 90 days as the attempts.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from tutor.reports.catalog import CourseInfo, ItemCatalog
from tutor.store.schema import ChatMessage, Learner

OFF_TOPIC = (
    "What is the capital of Australia?",
    "How do I bake sourdough bread at home?",
    "Who won the football world cup in 2018?",
    "How do quantum computers store qubits?",
    "What is the best laptop for gaming?",
    "How do reinforcement learning agents play chess?",
    "How does blockchain consensus work?",
    "How do quantum computers factor numbers?",
    "Which stocks should I buy this year?",
    "How does reinforcement learning reward shaping work?",
)
TEMPLATES = (
    "How does {name} work?",
    "Can you explain {name} with an example?",
    "Why is {name} important?",
    "What problem does {name} solve?",
)
GOAL_S = 2.0


def synthetic_catalog(seed: int = 0) -> ItemCatalog:
    """The store bench's items as the reports see a bank: one concept each, key "a"."""
    from tutor.store.bench import synthetic_items

    items = synthetic_items(seed)
    return ItemCatalog(
        kinds={i.id: "multiple_choice" for i in items},
        keys={i.id: "a" for i in items},
        concepts={i.id: (i.concept,) for i in items},
        labels={i.id: f"synthetic item on {i.concept}" for i in items},
    )


def add_conversations(
    store: Any,
    info: CourseInfo,
    *,
    share: float = 0.3,
    questions: int = 10,
    seed: int = 0,
    start: datetime | None = None,
    name_prefix: str = "learner-",
) -> int:
    """Give ``share`` of the bench learners ``questions`` exchanges with the tutor; returns messages added."""
    from tutor.store.bench import START, executemany

    start = start or START
    rng = random.Random(f"chat-{seed}")
    sections = [sid for sid, concepts in info.section_concepts.items() if concepts]
    with store.engine.connect() as conn:
        ids = list(conn.scalars(select(Learner.id).where(Learner.name.like(f"{name_prefix}%")).order_by(Learner.id)))
        chosen = [lid for lid in ids if rng.random() < share]
        rows: list[dict[str, Any]] = []
        added = 0
        for lid in chosen:
            for _ in range(questions):
                when = start + timedelta(seconds=rng.uniform(0, 90 * 86_400))
                roll = rng.random()
                if roll < 0.1 or not sections:
                    text, sources, in_scope, grounded = rng.choice(OFF_TOPIC), [], False, None
                else:
                    cited = rng.sample(sections, k=min(len(sections), rng.randint(1, 3)))
                    concept = info.section_concepts[cited[0]][0]
                    text = rng.choice(TEMPLATES).format(name=info.concept_name(concept))
                    sources, in_scope = cited, True
                    grounded = round(rng.uniform(0.1, 0.45) if roll < 0.2 else rng.uniform(0.5, 1.0), 3)
                common = {"learner_id": lid, "session_id": None, "model_id": None, "adapter_id": None, "timings": {}}
                rows.append(common | {"role": "user", "text": text, "sources": [], "in_scope": None,
                                      "grounded": None, "created": when})
                rows.append(common | {"role": "assistant", "text": "(answer)", "sources": sources,
                                      "in_scope": in_scope, "grounded": grounded,
                                      "created": when + timedelta(seconds=2)})
            if len(rows) >= 20_000:
                executemany(conn, ChatMessage, rows)
                added += len(rows)
                rows = []
        executemany(conn, ChatMessage, rows)
        added += len(rows)
        conn.commit()
    return added


@dataclass(frozen=True)
class Timing:
    report: str
    wall_s: float
    cpu_s: float  # this process only: under load, wall time overstates the cost

    @property
    def met(self) -> bool:
        return self.wall_s < GOAL_S


def timed(report: str, fn: Callable[[], Any]) -> tuple[Timing, Any]:
    began, began_cpu = time.perf_counter(), time.process_time()
    result = fn()
    return Timing(report, time.perf_counter() - began, time.process_time() - began_cpu), result


def time_reports(reports: Any, learner_names: list[str], repeat: int = 1) -> list[Timing]:
    """Each report ``repeat`` times, keeping the fastest run (as ``timeit`` does: the others
    measured the machine's other work); the learner report is the median over ``learner_names``.

    The report modules are imported first, so the first report timed does not
    also pay for importing NumPy (a tenth of a second, once per process)."""
    import importlib

    for module in ("overview", "items", "item_matrix", "gaps", "effect", "learner"):
        importlib.import_module(f"tutor.reports.{module}")
    timings = []
    for name, fn in (
        ("class", reports.class_overview),
        ("items", reports.items),
        ("gaps", reports.gaps),
        ("effect", reports.effect),
        ("activity chart", reports.activity),
    ):
        timings.append(min((timed(name, fn)[0] for _ in range(max(1, repeat))), key=lambda t: t.wall_s))
    if learner_names:
        per = [timed("learner", lambda n=n: reports.learner(n))[0] for n in learner_names]
        timings.append(
            Timing(
                "learner",
                statistics.median(t.wall_s for t in per),
                statistics.median(t.cpu_s for t in per),
            )
        )
    return timings


def as_dicts(timings: list[Timing]) -> list[dict[str, Any]]:
    return [asdict(t) | {"met": t.met} for t in timings]
