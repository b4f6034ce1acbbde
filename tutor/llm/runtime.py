"""CPU settings for the tutor model: how many threads, and which number format.

Why bfloat16 by default where the CPU has native bf16 (``avx512_bf16`` or ``amx_bf16``
in /proc/cpuinfo): measured on this project's 2-core machine with SmolLM2-135M and a
900-token prompt, bf16 gave TTFT 0.46 s vs 1.36 s in fp32 and decode 13-14 vs 10 tok/s
(the decode is memory- and dispatch-bound; bf16 halves the bytes per token). Without
those instructions bf16 matmuls are emulated and slower than fp32, so fp32 is used.
A CPU-flag check costs nothing at start-up, unlike a timed probe, and gives the same
answer on the machines measured. ``TUTOR_LLM_DTYPE`` (float32|bfloat16) overrides it.

Threads: torch uses every core we may run on (``os.sched_getaffinity``), except when the
machine is already busy at start-up (1-minute load average >= cores - 0.5): then 1 thread,
because OpenMP threads spin-wait against the other processes (measured on this 2-core
machine with five other busy processes: 8 tok/s with 1 thread, < 1 tok/s with 2; a bench
with 2 threads at load 3.5 did not finish 384 tokens in 4 minutes). ``TUTOR_THREADS``
overrides both.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from tutor.llm.errors import LLMError

BF16_FLAGS = ("avx512_bf16", "amx_bf16")
DTYPES = ("float32", "bfloat16")


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags the kernel reports (empty where /proc/cpuinfo is unavailable)."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags") and ":" in line:
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def choose_dtype_name(flags: frozenset[str] | None = None, env: str | None = None) -> str:
    """``"bfloat16"`` where the CPU computes bf16 natively, else ``"float32"``; env var wins."""
    env = os.environ.get("TUTOR_LLM_DTYPE") if env is None else env
    if env:
        name = env.strip().lower().replace("bf16", "bfloat16").replace("fp32", "float32")
        if name not in DTYPES:
            raise LLMError(f"TUTOR_LLM_DTYPE must be one of {', '.join(DTYPES)} (got {env!r})")
        return name
    flags = cpu_flags() if flags is None else flags
    return "bfloat16" if any(f in flags for f in BF16_FLAGS) else "float32"


def cpu_count() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def busy_machine(cores: int, load: float | None = None) -> bool:
    """Whether other processes already keep the cores busy (1-minute load average >= cores - 0.5)."""
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # pragma: no cover - non-Unix
            return False
    return cores > 1 and load >= cores - 0.5


def thread_count(load: float | None = None) -> int:
    """Torch threads for the decoder: ``TUTOR_THREADS``, else the core count, else 1 on a busy machine."""
    env = os.environ.get("TUTOR_THREADS")
    if env:
        try:
            value = int(env)
        except ValueError as exc:
            raise LLMError(f"TUTOR_THREADS must be a whole number (got {env!r})") from exc
        if value < 1:
            raise LLMError(f"TUTOR_THREADS must be at least 1 (got {value})")
        return value
    cores = cpu_count()
    return 1 if busy_machine(cores, load) else cores


def apply_threads() -> int:
    """Set torch's intra-op thread count; returns it."""
    import torch

    n = thread_count()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def torch_threads() -> int | None:
    """The thread count torch decodes with now (None when torch is not loaded, as with a scripted tutor).

    Evaluations report it: greedy answers can change with it (a near tie between two tokens goes the other way
    when sums are added in another order; 8 of 58 heldout answers differed between 1 and 2 threads).
    """
    import sys

    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else None
