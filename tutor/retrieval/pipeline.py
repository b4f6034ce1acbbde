"""The whole `tutor train-embedder` run.

1. Cross-fit: for each of K folds of the dev split, train an adapter without that
   fold and score the fold's questions with it (honest scores for calibration).
   The fold adapters stay in the user cache for `--calibrate-only`.
2. Train the shipped adapter on the course pairs and the whole dev split.
3. Calibrate (fusion weight + scope classifier) the base model on the dev split and
   the adapter on the cross-fitted scores; write calibration*.json.
4. Evaluate both on the dev and heldout splits, measure each design step, write the card.
"""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from tutor.retrieval.devset import DevSet
from tutor.retrieval.errors import RetrievalError


def fold_of(question_id: str, folds: int) -> int:
    """A stable fold for a question id (same split on every machine and run)."""
    return zlib.crc32(question_id.encode()) % folds


def without_fold(devset: DevSet, fold: int, folds: int) -> DevSet:
    """The dev set with one fold of its dev split set aside (marked "cv-out": never trained on)."""
    return DevSet(
        tuple(replace(q, split="cv-out") if q.split == "dev" and fold_of(q.id, folds) == fold else q
              for q in devset.in_scope),
        devset.out_of_scope,
        devset.path,
    )


def cross_fit_dir(course, devset: DevSet, config, folds: int) -> Path:
    """Where the fold adapters are kept (user cache), keyed by everything they depend on, so
    `--calibrate-only` can refit fusion and scope without retraining them."""
    import hashlib
    import json
    from dataclasses import asdict

    from tutor.config import paths

    digest = hashlib.sha256()
    digest.update(course.content_hash().encode())
    digest.update(devset.path.read_bytes() if devset.path else b"")
    from tutor.retrieval.trainset import default_trainset_path

    extra = default_trainset_path()
    digest.update(extra.read_bytes() if extra.is_file() else b"")
    digest.update(json.dumps(asdict(config), sort_keys=True).encode())
    digest.update(str(folds).encode())
    return paths().cache_dir / "embedder-cv" / digest.hexdigest()[:12]


def _train_job(course_path: str | Path | None, devset: DevSet, out_dir: Path, config, name: str) -> dict[str, Any]:
    """One adapter training in a worker process (the course is reopened there: nothing heavy is pickled)."""
    import sys

    from tutor.retrieval.service import open_course
    from tutor.retrieval.training import train_adapter

    def log(message: str) -> None:
        if not message.startswith("step"):  # per-step losses from several processes are noise
            print(f"[{name}] {message}", file=sys.stderr, flush=True)

    return train_adapter(open_course(course_path), devset, out_dir, config, log=log).to_dict()


def train_in_parallel(
    course_path: str | Path | None, todo: dict[str, tuple[DevSet, Path]], config, jobs: int
) -> dict[str, dict[str, Any]]:
    """Train several adapters at once, one single-threaded process each.

    Why: each training uses one torch thread (more threads spin against each other on a
    small shared machine), so the cross-fitting folds and the final adapter, which do not
    depend on each other, finish in about the time of one when there are cores for them.
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=get_context("spawn")) as pool:
        futures = {name: pool.submit(_train_job, course_path, ds, out, config, name)
                   for name, (ds, out) in todo.items()}
        return {name: f.result() for name, f in futures.items()}


def training_out_of_scope() -> DevSet:
    """The hand-written out-of-scope training questions, as a dev-set-shaped collection (split "train")."""
    from tutor.retrieval.devset import OutOfScopeQuestion
    from tutor.retrieval.trainset import load_trainset

    extra = load_trainset()
    return DevSet((), tuple(OutOfScopeQuestion(f"train-oos-{i}", q.question, q.kind, "train")
                            for i, q in enumerate(extra.out_of_scope)))


def train_and_calibrate(
    course_path: str | Path | None = None,
    questions: Path | None = None,
    out_dir: Path | None = None,
    epochs: int | None = None,
    folds: int = 2,
    calibrate_only: bool = False,
    log: Callable[[str], None] = lambda _: None,
    jobs: int = 1,
) -> dict[str, Any]:
    from tutor.retrieval.calibrate import fit_calibration, rank_metrics, score_devset
    from tutor.retrieval.card import ablation, write_card
    from tutor.retrieval.devset import load_devset
    from tutor.retrieval.embedder import ADAPTER_WEIGHTS, load_embedder, shipped_adapter_dir
    from tutor.retrieval.report import retrieval_report
    from tutor.retrieval.retriever import Retriever, RetrieverConfig
    from tutor.retrieval.scope import ScopeModel
    from tutor.retrieval.service import open_course
    from tutor.retrieval.settings import BASE_CALIBRATION_FILE, CALIBRATION_FILE
    from tutor.retrieval.training import TrainConfig, train_adapter

    course = open_course(course_path)
    devset = load_devset(questions, course.id)
    dev = devset.split("dev")
    out_dir = Path(out_dir) if out_dir else shipped_adapter_dir()
    config = TrainConfig() if epochs is None else replace(TrainConfig(), epochs=epochs)
    plain = RetrieverConfig()  # scoring needs no fusion or scope settings

    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "index"
        cross_rows = []
        cross_train: list[dict[str, Any]] = []
        train = None
        if calibrate_only:
            if not (out_dir / ADAPTER_WEIGHTS).is_file():
                raise RetrievalError(f"no adapter in {out_dir} to calibrate; train one first")
            import json

            old = json.loads((out_dir / "card.json").read_text()) if (out_dir / "card.json").is_file() else {}
            train = old.get("training")
        cv_dir = cross_fit_dir(course, devset, config, folds)
        parallel: dict[str, dict[str, Any]] = {}
        if jobs > 1 and not calibrate_only:
            todo = {f"fold{k}": (without_fold(devset, k, folds), cv_dir / f"fold{k}") for k in range(folds)
                    if not (cv_dir / f"fold{k}" / ADAPTER_WEIGHTS).is_file()}
            todo["final"] = (devset, out_dir)
            log(f"training {', '.join(todo)} in {min(jobs, len(todo))} parallel processes...")
            parallel = train_in_parallel(course_path, todo, config, jobs)
            cross_train = [{"fold": int(name[4:]), "seconds": r["seconds"], "steps": r["steps"]}
                           for name, r in parallel.items() if name.startswith("fold")]
        for k in range(folds):
            fold_dir = cv_dir / f"fold{k}"
            if not (fold_dir / ADAPTER_WEIGHTS).is_file():
                if calibrate_only:
                    log(f"no cross-fitted adapters in {cv_dir}: calibrating on the adapter's own scores")
                    cross_rows = []
                    break
                log(f"cross-fitting: fold {k + 1}/{folds} (training without it)...")
                result = train_adapter(course, without_fold(devset, k, folds), fold_dir, config, log=log)
                cross_train.append({"fold": k, "seconds": result.seconds, "steps": result.steps})
            fold_retriever = Retriever.build(course, load_embedder(fold_dir), cache, config=plain,
                                             scope=ScopeModel.default(), question_keys=())
            held = DevSet(
                tuple(q for q in dev.in_scope if fold_of(q.id, folds) == k),
                tuple(q for q in dev.out_of_scope if fold_of(q.id, folds) == k),
            )
            cross_rows += score_devset(fold_retriever, held)
        if not calibrate_only:
            if "final" in parallel:
                train = parallel["final"]
            else:
                log("training the course adapter on all pairs...")
                train = train_adapter(course, devset, out_dir, config, log=log).to_dict()
            train["cross_fit"] = cross_train

        log("calibrating fusion and scope (dev split)...")
        base = load_embedder("none")
        tuned = load_embedder(out_dir)
        base_retriever = Retriever.build(course, base, cache, config=plain, scope=ScopeModel.default(),
                                         question_keys=())
        base_rows = score_devset(base_retriever, dev)
        extra = training_out_of_scope()
        base_cal, base_tables = fit_calibration(base_retriever, base_rows, base.model_id,
                                                extra_out=score_devset(base_retriever, extra))
        tuned_retriever = Retriever.build(course, tuned, cache, config=plain, scope=ScopeModel.default(),
                                          question_keys=())
        if not cross_rows:  # --calibrate-only or folds=0: the adapter's own (optimistic) dev scores
            cross_rows = score_devset(tuned_retriever, dev)
            note = " (scored by the final adapter, which saw them: optimistic)"
        else:
            note = f" (each scored by an adapter trained without it, {folds}-fold cross-fitting)"
        tuned_cal, tuned_tables = fit_calibration(tuned_retriever, cross_rows, tuned.model_id, note,
                                                  extra_out=score_devset(tuned_retriever, extra))
        base_cal.save(out_dir / BASE_CALIBRATION_FILE)
        tuned_cal.save(out_dir / CALIBRATION_FILE)
        cross_fit = rank_metrics(tuned_retriever, cross_rows, tuned_cal.fusion)

    log("evaluating (dev and heldout splits)...")
    base = load_embedder("none")  # re-read: picks up the calibration just written (when out_dir is shipped)
    embedders = {"base": base, "tuned": load_embedder(out_dir)}
    reports = {
        split: retrieval_report(split=split, course_path=course_path, questions=questions, embedders=embedders)
        for split in ("dev", "heldout")
    }
    log("measuring each design step...")
    ladder = ablation(course, devset, base_cal, embedders["base"], tuned_cal, embedders["tuned"])
    settings = {"base": base_cal, "tuned": tuned_cal}
    tables = {"base": base_tables, "tuned": tuned_tables,
              "tuned_cross_fitted_dev": cross_fit.__dict__}
    write_card(out_dir, train, reports, ladder, settings, tables)

    results = {
        split: {
            name: {
                "recall_at_1": emb["ranking"]["fused"]["recall_at_1"],
                "recall_at_3": emb["ranking"]["fused"]["recall_at_3"],
                "in_scope_kept": emb["scope"]["in_scope_kept"],
                "out_of_scope_declined": emb["scope"]["out_of_scope_declined"],
            }
            for name, emb in rep["embedders"].items()
        }
        for split, rep in reports.items()
    }
    return {
        "out_dir": str(out_dir),
        "adapter_bytes": (out_dir / ADAPTER_WEIGHTS).stat().st_size,
        "model_id": embedders["tuned"].model_id,
        "results": results,
        "tuned_cross_fitted_dev": cross_fit.__dict__,
        "training": {k: v for k, v in (train or {}).items() if k != "losses"},
    }
