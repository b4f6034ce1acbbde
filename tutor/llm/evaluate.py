"""`tutor eval answers`: run the dev questions through the answer pipeline and score the answers.

Figures (all from evals/<course>/questions.yaml):
- key-fact accuracy: share of a question's key facts the ``answer`` (the model's
  explanation alone, not the quoted evidence) states, averaged over in-scope
  questions; a fact is stated when any of its alternatives appears (word-bounded,
  case and punctuation ignored). ``all_facts`` is the stricter share of questions
  with every fact stated.
- evidence accuracy: the same test on the quoted evidence.
- groundedness: mean `grounded` score; ``supported``: share judged supported.
- off-topic declined: out-of-scope questions the tutor declined (model not called).
- in-scope wrongly declined: in-scope questions it declined.
- mean length (words of the answer) and speed (TTFT, decode tokens/s, total).
Key-fact accuracy and groundedness carry 95% bootstrap intervals over the questions (`tutor.llm.intervals`):
a few dozen questions cannot tell 0.88 from 0.90.
Reusable for a base-vs-adapter comparison: build two `Tutor`s and call `run_eval` on each.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tutor.llm.errors import LLMError
from tutor.llm.intervals import bootstrap_interval
from tutor.llm.runtime import torch_threads
from tutor.llm.text import contains_phrase, own_words
from tutor.llm.types import Profile

SPLITS = ("dev", "heldout", "all")


@dataclass(frozen=True)
class EvalCase:
    id: str
    question: str
    in_scope: bool
    split: str
    sections: tuple[str, ...] = ()
    key_facts: tuple[tuple[str, ...], ...] = ()
    kind: str = ""  # out-of-scope kind: off-topic | near-topic


@dataclass
class CaseResult:
    id: str
    question: str
    expected_in_scope: bool
    in_scope: bool
    answer: str
    evidence_sections: list[str]
    facts_answer: list[bool] = field(default_factory=list)
    facts_evidence: list[bool] = field(default_factory=list)
    facts_own: list[bool] = field(default_factory=list)  # stated in the model's own words, after the quoted lesson
    grounded: float | None = None
    supported: bool | None = None
    words: int = 0
    ttft_ms: float | None = None
    tokens_per_s: float | None = None
    total_ms: float = 0.0
    gold_sections: list[str] = field(default_factory=list)
    evidence_text: str = ""
    claims: list[tuple[str, float]] = field(default_factory=list)


def load_cases(path: Path | None = None, split: str = "dev", course_id: str = "genai-models") -> list[EvalCase]:
    """The in-scope and out-of-scope questions of one split ("all" = both splits).

    The file is the retrieval dev set: read and checked by `tutor.retrieval.devset`, one reader for both.
    """
    from tutor.retrieval.devset import default_path, load_devset
    from tutor.retrieval.errors import RetrievalError

    if split not in SPLITS:
        raise LLMError(f"split must be one of {', '.join(SPLITS)} (got {split!r})")
    path = Path(path) if path else default_path(course_id)
    if not path.is_file():
        raise LLMError(f"cannot read the questions file {path}: no such file")
    try:
        devset = load_devset(path).split(split)  # type: ignore[arg-type]
    except (RetrievalError, OSError) as exc:
        raise LLMError(str(exc)) from exc
    ins = [
        EvalCase(id=q.id, question=q.question, in_scope=True, split=q.split, sections=q.sections, key_facts=q.key_facts)
        for q in devset.in_scope
    ]
    outs = [
        EvalCase(id=q.id, question=q.question, in_scope=False, split=q.split, kind=q.kind) for q in devset.out_of_scope
    ]
    return ins + outs


def limit_cases(cases: Sequence[EvalCase], limit: int | None) -> list[EvalCase]:
    """The first ``limit`` in-scope and the first ``limit`` out-of-scope questions."""
    if limit is None:
        return list(cases)
    ins = [c for c in cases if c.in_scope][:limit]
    outs = [c for c in cases if not c.in_scope][:limit]
    return ins + outs


def facts_stated(text: str, key_facts: Sequence[Sequence[str]]) -> list[bool]:
    """For each key fact, whether any of its alternatives appears in ``text``."""
    return [any(contains_phrase(text, alt) for alt in fact) for fact in key_facts]


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


def run_case(tutor: Any, case: EvalCase, profile: Profile) -> CaseResult:
    result = tutor.ask(case.question, profile)
    # the evidence is shown quoted with its section title, so a fact in the title counts
    evidence_text = " ".join(f"{e.title}. {e.text}" for e in result.evidence)
    return CaseResult(
        id=case.id,
        question=case.question,
        expected_in_scope=case.in_scope,
        in_scope=bool(result.in_scope),
        answer=result.answer,
        evidence_sections=[e.section_id for e in result.evidence],
        facts_answer=facts_stated(result.answer, case.key_facts) if case.in_scope and result.in_scope else [False] * len(case.key_facts),
        facts_evidence=facts_stated(evidence_text, case.key_facts) if case.in_scope else [],
        facts_own=facts_stated(own_words(result.answer, result.key_sentence), case.key_facts)
        if case.in_scope and result.in_scope
        else [False] * len(case.key_facts),
        grounded=result.grounded,
        supported=result.supported,
        words=len(result.answer.split()),
        ttft_ms=result.timings.get("ttft_ms"),
        tokens_per_s=result.timings.get("tokens_per_s"),
        total_ms=float(result.timings.get("total_ms", 0.0)),
        gold_sections=list(case.sections),
        evidence_text=evidence_text,
        claims=list(result.claims),
    )


@dataclass
class EvalReport:
    cases: list[CaseResult]
    model_id: str = ""
    adapter_id: str | None = None
    split: str = "dev"
    seconds: float = 0.0
    threads: int | None = None  # torch threads while answering: greedy answers can change with them

    def figures(self) -> dict[str, Any]:
        ins = [c for c in self.cases if c.expected_in_scope]
        outs = [c for c in self.cases if not c.expected_in_scope]
        answered = [c for c in ins if c.in_scope]
        grounded = [c.grounded for c in answered if c.grounded is not None]
        supported = [c.supported for c in answered if c.supported is not None]
        ttft = [c.ttft_ms for c in answered if c.ttft_ms]
        tps = [c.tokens_per_s for c in answered if c.tokens_per_s]
        totals = [c.total_ms for c in answered]
        return {
            "model_id": self.model_id,
            "adapter_id": self.adapter_id,
            "split": self.split,
            "in_scope_questions": len(ins),
            "out_of_scope_questions": len(outs),
            "key_fact_accuracy": round(statistics.mean(_share(c.facts_answer) for c in ins), 4) if ins else None,
            "key_fact_interval": bootstrap_interval([_share(c.facts_answer) for c in ins]),
            "key_fact_all": round(_share([all(c.facts_answer) for c in ins]), 4) if ins else None,
            "key_fact_own_words": round(statistics.mean(_share(c.facts_own) for c in ins), 4) if ins else None,
            "evidence_accuracy": round(statistics.mean(_share(c.facts_evidence) for c in ins), 4) if ins else None,
            "evidence_all": round(_share([all(c.facts_evidence) for c in ins]), 4) if ins else None,
            "groundedness": round(statistics.mean(grounded), 4) if grounded else None,
            "groundedness_interval": bootstrap_interval(grounded),
            "supported": round(_share(supported), 4) if supported else None,
            "off_topic_declined": round(_share([not c.in_scope for c in outs]), 4) if outs else None,
            "in_scope_wrongly_declined": round(_share([not c.in_scope for c in ins]), 4) if ins else None,
            "mean_words": round(statistics.mean(c.words for c in answered), 1) if answered else None,
            "ttft_ms_median": round(statistics.median(ttft), 1) if ttft else None,
            "tokens_per_s_median": round(statistics.median(tps), 1) if tps else None,
            "total_ms_median": round(statistics.median(totals), 1) if totals else None,
            "seconds": round(self.seconds, 1),
            "threads": self.threads,
        }

    def table(self) -> str:
        f = self.figures()

        def fmt(v: Any) -> str:
            if v is None:
                return "-"
            return f"{v:.3f}" if isinstance(v, float) else str(v)

        def span(iv: tuple[float, float] | None) -> str:
            return f"   95% interval {iv[0]:.3f}-{iv[1]:.3f}" if iv else ""

        rows = [
            ("model", f"{f['model_id']}" + (f" + {f['adapter_id']}" if f["adapter_id"] else " (no adapter)")),
            ("split", f"{f['split']} ({f['in_scope_questions']} in scope, {f['out_of_scope_questions']} out of scope)"),
            ("key-fact accuracy (answer)",
             f"{fmt(f['key_fact_accuracy'])}   all facts: {fmt(f['key_fact_all'])}{span(f['key_fact_interval'])}"),
            ("key-fact accuracy (model's own words)", fmt(f["key_fact_own_words"])),
            ("evidence accuracy", f"{fmt(f['evidence_accuracy'])}   all facts: {fmt(f['evidence_all'])}"),
            ("groundedness (mean)",
             f"{fmt(f['groundedness'])}   supported: {fmt(f['supported'])}{span(f['groundedness_interval'])}"),
            ("off-topic declined", fmt(f["off_topic_declined"])),
            ("in-scope wrongly declined", fmt(f["in_scope_wrongly_declined"])),
            ("mean answer length (words)", fmt(f["mean_words"])),
            ("TTFT median (ms)", fmt(f["ttft_ms_median"])),
            ("decode median (tok/s)", fmt(f["tokens_per_s_median"])),
            ("answer time median (ms)", fmt(f["total_ms_median"])),
            ("eval time (s)", fmt(f["seconds"])),
            ("torch threads", f"{fmt(f['threads'])}   (greedy answers can differ with another count: set TUTOR_THREADS)"),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)

    def to_json(self, with_cases: bool = False) -> dict[str, Any]:
        out = self.figures()
        if with_cases:
            out["cases"] = [asdict(c) for c in self.cases]
        return out


def run_eval(
    tutor: Any,
    cases: Sequence[EvalCase],
    *,
    profile: Profile | None = None,
    split: str = "dev",
    progress: Callable[[int, int, CaseResult], None] | None = None,
) -> EvalReport:
    """Ask every case, in order, and collect the figures."""
    profile = profile or Profile()
    started = time.perf_counter()
    results: list[CaseResult] = []
    for n, case in enumerate(cases, start=1):
        res = run_case(tutor, case, profile)
        results.append(res)
        if progress is not None:
            progress(n, len(cases), res)
    return EvalReport(
        cases=results,
        model_id=getattr(tutor, "model_id", ""),
        adapter_id=getattr(tutor, "adapter_id", None),
        split=split,
        seconds=time.perf_counter() - started,
        threads=torch_threads(),
    )
