"""A synthetic class for benchmarks and report tests: ``fill`` and the timed queries.

``fill`` writes learners, quiz attempts and concept-mastery rows with SQLAlchemy
Core bulk inserts (``insert(table)`` + a list of rows = one executemany) in
large transactions, which is how a store reaches tens of thousands of rows per
second on SQLite. The data is deterministic for a seed and plausible enough to
report on: each learner has an ability, each item a difficulty and concept, and
P(correct) follows a logistic (Rasch) model; mastery rows summarise each
learner's attempts per concept.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import JSON, func, insert, select
from sqlalchemy.engine import Connection

from tutor.store.errors import StoreError
from tutor.store.schema import ConceptMastery, Learner, QuizAttempt
from tutor.store.store import Store

# The course contract's concept ids: synthetic items are spread over them.
CONCEPTS = (
    "generative-ai", "genai-vs-traditional", "ai-subsets", "neural-networks", "feedforward", "cnn", "rnn",
    "gru", "lstm", "autoencoder", "vae", "gan", "transformer", "self-attention", "diffusion", "training",
    "sampling", "fine-tuning", "evaluation", "applications", "ethics",
)  # fmt: skip
ITEMS_PER_CONCEPT = 4
COURSE_ID = "genai-models"
BANK_VERSION = "bench"
START = datetime(2025, 1, 6, tzinfo=UTC)
CHUNK = 50_000  # rows per executemany
ROWS_PER_COMMIT = 200_000


@dataclass(frozen=True)
class FillResult:
    learners: int
    attempts: int
    mastery: int
    seconds: float  # the whole fill, generating the synthetic data included
    insert_seconds: float  # inside the store only: binding, executemany, commits
    insert_cpu_seconds: float  # the same, CPU time of this process (wall time inflates under load)

    @property
    def rows(self) -> int:
        return self.learners + self.attempts + self.mastery

    @property
    def rows_per_s(self) -> float:
        """Rows the store took in per second of insert time."""
        return self.rows / self.insert_seconds if self.insert_seconds > 0 else float("inf")


class _Stopwatch:
    """Wall and CPU time summed over the ``with`` blocks it guards."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def __exit__(self, *_exc: object) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu


@dataclass(frozen=True)
class Item:
    id: str
    concept: str
    difficulty: float


def synthetic_items(seed: int = 0) -> list[Item]:
    """The bench's item bank: ITEMS_PER_CONCEPT items per contract concept."""
    rng = random.Random(f"items-{seed}")
    return [
        Item(f"{concept}-q{k + 1}", concept, round(rng.gauss(0.0, 1.0), 3))
        for concept in CONCEPTS
        for k in range(ITEMS_PER_CONCEPT)
    ]


def fill(
    store_or_url: Store | str | None,
    learners: int,
    attempts: int,
    seed: int = 0,
    *,
    name_prefix: str = "learner-",
    start: datetime = START,
) -> FillResult:
    """Add ``learners`` learners with ``attempts`` quiz attempts each, plus their mastery rows.

    Learner names are ``{name_prefix}{n:06d}``; StoreError if any exists already.
    Attempts fall over the 90 days after ``start``, in time order per learner.
    """
    if learners < 0 or attempts < 0:
        raise StoreError("learners and attempts must not be negative")
    own = not isinstance(store_or_url, Store)
    store = Store.open(store_or_url) if own else store_or_url
    try:
        return _fill(store, learners, attempts, seed, name_prefix, start)
    finally:
        if own:
            store.close()


def _fill(store: Store, learners: int, attempts: int, seed: int, prefix: str, start: datetime) -> FillResult:
    rng = random.Random(seed)
    items = synthetic_items(seed)
    names = [f"{prefix}{n:06d}" for n in range(learners)]
    began = time.perf_counter()
    inserting = _Stopwatch()
    with store.engine.connect() as conn:
        taken = conn.scalar(select(func.count()).select_from(Learner).where(Learner.name.in_(names[:1000])))
        if taken:
            raise StoreError(f"the database already has bench learners named {prefix}*; use an empty one")
        levels = ("beginner", "intermediate", "advanced")
        styles = ("analogy", "example", "step-by-step", "concise")
        people = [
            {"name": n, "level": rng.choice(levels), "style": rng.choice(styles), "created": start} for n in names
        ]
        with inserting:
            executemany(conn, Learner, people)
            conn.commit()
        ids = dict(conn.execute(select(Learner.name, Learner.id).where(Learner.name.like(f"{prefix}%"))).all())
        pending = 0
        n_attempts = n_mastery = 0
        for batch_attempts, batch_mastery in _rows(rng, [ids[n] for n in names], items, attempts, start):
            with inserting:
                executemany(conn, QuizAttempt, batch_attempts)
                executemany(conn, ConceptMastery, batch_mastery)
            added = len(batch_attempts["learner_id"]), len(batch_mastery["learner_id"])
            n_attempts += added[0]
            n_mastery += added[1]
            pending += sum(added)
            if pending >= ROWS_PER_COMMIT:
                with inserting:
                    conn.commit()
                pending = 0
        with inserting:
            conn.commit()
    return FillResult(
        learners, n_attempts, n_mastery, time.perf_counter() - began, inserting.wall, inserting.cpu
    )


def executemany(conn: Connection, model: Any, rows: list[dict[str, Any]] | dict[str, list[Any]]) -> None:
    """A Core ``insert(table)`` executemany with bind processing done once per distinct value.

    ``rows`` is a list of row dicts, or columns (``{column: [values]}``, all the
    same length), which is cheaper to build for millions of rows. Plain
    ``conn.execute(insert(t), rows)`` runs every column's type processor on
    every row and re-reads every dict; here the statement is compiled once,
    JSON lists (a handful of distinct concept lists) are serialised once each,
    and the other processors run over whole columns. Same SQL, same type
    processing, same transaction.
    """
    if isinstance(rows, dict):
        columns = rows
    elif rows:
        columns = {key: [row[key] for row in rows] for key in rows[0]}
    else:
        return
    if not columns or not next(iter(columns.values())):
        return
    keys = list(columns)
    table = model.__table__
    dialect = conn.dialect
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)

    def processed(key: str) -> list[Any]:
        raw = columns[key]
        column_type = table.c[key].type
        proc = column_type.dialect_impl(dialect).bind_processor(dialect)
        if proc is None:
            return raw
        if not isinstance(column_type, JSON):
            return list(map(proc, raw))
        memo: dict[Any, Any] = {}
        out = []
        for v in raw:
            marker = tuple(v) if isinstance(v, list) else repr(v)
            done = memo.get(marker)
            if done is None:
                done = memo[marker] = proc(v)
            out.append(done)
        return out

    names = {bind.key: name for bind, name in compiled.bind_names.items()}
    if compiled.positional:
        order = [next(k for k, n in names.items() if n == pos) for pos in compiled.positiontup]
        params: list[Any] = list(zip(*(processed(k) for k in order), strict=True))
    else:
        cols = {names[k]: processed(k) for k in keys}
        params = [dict(zip(cols, values, strict=True)) for values in zip(*cols.values(), strict=True)]
    conn.exec_driver_sql(compiled.string, params)


def _columns(names: tuple[str, ...]) -> dict[str, list[Any]]:
    return {name: [] for name in names}


ATTEMPT_COLUMNS = ("learner_id", "item_id", "answer", "correct", "score", "hints_used", "seconds",
                   "concepts", "created")  # fmt: skip
MASTERY_COLUMNS = ("learner_id", "concept_id", "p_known", "attempts", "correct", "updated")


def _rows(
    rng: random.Random, learner_ids: list[int], items: list[Item], attempts: int, start: datetime
) -> Iterator[tuple[dict[str, list[Any]], dict[str, list[Any]]]]:
    """Attempt and mastery columns, yielded in chunks of about CHUNK attempts."""
    span = 90 * 86_400 / max(attempts, 1)
    n_items = len(items)
    concept_lists = {c: [c] for c in CONCEPTS}  # one list object per concept; serialised once
    rand = rng.random
    exp = math.exp
    batch_a, batch_m = _columns(ATTEMPT_COLUMNS), _columns(MASTERY_COLUMNS)
    for learner_id in learner_ids:
        ability = rng.gauss(0.0, 1.0)
        seen: dict[str, list[int]] = {}
        offset = 0.0
        a_item, a_right, a_hints, a_secs, a_concepts, a_when = [], [], [], [], [], []
        for _ in range(attempts):
            item = items[int(rand() * n_items)]
            right = rand() < 1.0 / (1.0 + exp(item.difficulty - ability))
            offset += (0.2 + 1.6 * rand()) * span
            stats = seen.get(item.concept)
            if stats is None:
                stats = seen[item.concept] = [0, 0]
            stats[0] += 1
            stats[1] += right
            a_item.append(item.id)
            a_right.append(right)
            a_hints.append(0 if right or rand() < 0.7 else 1)
            a_secs.append(int(50 + 850 * rand()) / 10)
            a_concepts.append(concept_lists[item.concept])
            a_when.append(start + timedelta(seconds=offset))
        batch_a["learner_id"] += [learner_id] * attempts
        batch_a["item_id"] += a_item
        batch_a["answer"] += ["a" if r else "b" for r in a_right]
        batch_a["correct"] += a_right
        batch_a["score"] += [1.0 if r else 0.0 for r in a_right]
        batch_a["hints_used"] += a_hints
        batch_a["seconds"] += a_secs
        batch_a["concepts"] += a_concepts
        batch_a["created"] += a_when
        last = a_when[-1] if a_when else start
        for concept, (tries, right_count) in seen.items():
            batch_m["learner_id"].append(learner_id)
            batch_m["concept_id"].append(concept)
            batch_m["p_known"].append(round((right_count + 1) / (tries + 2), 4))
            batch_m["attempts"].append(tries)
            batch_m["correct"].append(right_count)
            batch_m["updated"].append(last)
        if len(batch_a["learner_id"]) >= CHUNK:
            yield _complete(batch_a), batch_m
            batch_a, batch_m = _columns(ATTEMPT_COLUMNS), _columns(MASTERY_COLUMNS)
    if batch_a["learner_id"] or batch_m["learner_id"]:
        yield _complete(batch_a), batch_m


def _complete(attempts: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Add the columns that are the same on every synthetic attempt."""
    n = len(attempts["learner_id"])
    no_rubric: list[str] = []
    return attempts | {
        "session_id": [None] * n,
        "course_id": [COURSE_ID] * n,
        "bank_version": [BANK_VERSION] * n,
        "rubric_met": [no_rubric] * n,
        "feedback": [""] * n,
    }


def learner_progress_ms(store: Store, samples: int = 50, seed: int = 0) -> list[float]:
    """Milliseconds to load one learner's progress (mastery + last 20 attempts) for random learners."""
    with store.engine.connect() as conn:
        ids = list(conn.scalars(select(Learner.id)))
    if not ids:
        return []
    rng = random.Random(seed)
    times = []
    for learner_id in rng.sample(ids, min(samples, len(ids))):
        began = time.perf_counter()
        store.mastery(learner_id)
        store.attempts(learner_id, limit=20)
        times.append((time.perf_counter() - began) * 1000)
    return times


def class_aggregate(store: Store) -> tuple[dict[str, tuple[float, int]], dict[int, float]]:
    """Class-wide mastery: per concept (mean p_known, learners) and per learner mean p_known."""
    per_concept = select(
        ConceptMastery.concept_id, func.avg(ConceptMastery.p_known), func.count()
    ).group_by(ConceptMastery.concept_id)
    per_learner = select(ConceptMastery.learner_id, func.avg(ConceptMastery.p_known)).group_by(
        ConceptMastery.learner_id
    )
    with store.engine.connect() as conn:
        concepts = {c: (float(avg), int(n)) for c, avg, n in conn.execute(per_concept)}
        learners = {lid: float(avg) for lid, avg in conn.execute(per_learner)}
    return concepts, learners


def database_mb(store: Store) -> float:
    """Size on disk: the SQLite file after a checkpoint, or PostgreSQL's own figure."""
    from sqlalchemy import text

    with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
            return pages * size / 1e6
        return conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one() / 1e6


@dataclass(frozen=True)
class BenchResult:
    backend: str
    learners: int
    attempts_per_learner: int
    rows: int
    fill_s: float
    insert_s: float
    insert_rows_per_s: float
    insert_cpu_s: float
    learner_query_ms_median: float
    learner_query_ms_p95: float
    class_aggregate_s: float
    db_size_mb: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run(store: Store, learners: int, attempts: int, seed: int = 0, samples: int = 50) -> BenchResult:
    """Fill ``store`` and time the three queries the app and reports depend on."""
    filled = fill(store, learners, attempts, seed)
    times = sorted(learner_progress_ms(store, samples, seed))
    began = time.perf_counter()
    class_aggregate(store)
    aggregate_s = time.perf_counter() - began
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)] if times else 0.0
    return BenchResult(
        backend=store.dialect,
        learners=learners,
        attempts_per_learner=attempts,
        rows=filled.rows,
        fill_s=round(filled.seconds, 3),
        insert_s=round(filled.insert_seconds, 3),
        insert_rows_per_s=round(filled.rows_per_s, 1),
        insert_cpu_s=round(filled.insert_cpu_seconds, 3),
        learner_query_ms_median=round(statistics.median(times), 3) if times else 0.0,
        learner_query_ms_p95=round(p95, 3),
        class_aggregate_s=round(aggregate_s, 4),
        db_size_mb=round(database_mb(store), 2),
    )
