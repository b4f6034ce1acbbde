"""`tutor bench llm`: how fast the tutor model loads and answers on this machine.

- cold load: from the GGUF into an empty temporary cache (dequantise, merge the
  shipped LoRA adapter when there is one, write the safetensors caches), in a
  child process so its memory peak is its own;
- warm start: a fresh child process importing torch and loading from that cache
  (what every later ``tutor`` start pays for the model; transformers is only
  imported when the light path cannot serve the model);
- warm load: the same load in this process, torch and transformers already imported;
- TTFT and decode speed on a typical answer prompt: ~900 prompt tokens (lesson
  passages, a short conversation and a question, built with the real prompt
  builder) and exactly 128 generated tokens (end-of-turn ignored), greedy;
  median of ``runs`` after one warm-up run; the generic transformers forward is
  timed too, for comparison with our decoder;
- peak RSS of this process (warm load + decoding) and of the cold-load child.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tutor.llm.errors import LLMError

TARGET_PROMPT_TOKENS = 900
NEW_TOKENS = 128


@dataclass
class LLMBench:
    cold_load_s: float | None
    warm_start_s: float | None
    warm_load_s: float
    import_s: float
    ttft_s: float
    decode_tok_s: float
    prompt_tokens: int
    new_tokens: int
    hf_ttft_s: float | None
    hf_decode_tok_s: float | None
    unpacked_ttft_s: float | None
    unpacked_decode_tok_s: float | None
    peak_rss_mb: float
    cold_peak_rss_mb: float | None
    dtype: str
    threads: int
    decoder: str
    packed_weights: bool
    model_id: str
    adapter_id: str | None
    cpu: str
    runs: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> str:
        def f(v: Any, unit: str = "", fmt: str = "{:.2f}") -> str:
            return "-" if v is None else fmt.format(v) + unit

        rows = [
            ("model", f"{self.model_id} + {self.adapter_id or 'no adapter'}"),
            ("runtime", f"{self.dtype}, {self.threads} threads, decoder {self.decoder}"
             + (" (oneDNN-packed weights)" if self.packed_weights else "")),
            ("cpu", self.cpu),
            ("cold load (GGUF -> cache)", f(self.cold_load_s, " s")),
            ("warm load (cache)", f(self.warm_load_s, " s") + "   goal < 5 s"),
            ("warm start (new process: imports + load)", f(self.warm_start_s, " s")),
            ("torch/transformers import", f(self.import_s, " s")),
            ("prompt / generated tokens", f"{self.prompt_tokens} / {self.new_tokens}"),
            ("TTFT", f(self.ttft_s, " s") + "   goal < 1.5 s"),
            ("decode", f(self.decode_tok_s, " tok/s", "{:.1f}") + "   goal >= 20 tok/s"),
            ("same decoder, unpacked weights", f"TTFT {f(self.unpacked_ttft_s, ' s')}, decode {f(self.unpacked_decode_tok_s, ' tok/s', '{:.1f}')}"),
            ("transformers forward (same loop)", f"TTFT {f(self.hf_ttft_s, ' s')}, decode {f(self.hf_decode_tok_s, ' tok/s', '{:.1f}')}"),
            ("peak RSS", f(self.peak_rss_mb, " MB", "{:.0f}") + f"   (cold load child: {f(self.cold_peak_rss_mb, ' MB', '{:.0f}')})"),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + f" x{os.cpu_count()}"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_child(cache_root: Path | None, adapter: str | None, *, imports_timed: bool = False) -> dict[str, Any]:
    """Load the shipped model in a child process (cache under ``cache_root``; None = the user's cache).

    Returns its wall time (from before ``import torch`` when ``imports_timed``), source and peak RSS.
    """
    code = (
        "import json, resource, sys, time\n"
        "t = time.perf_counter()\n"
        "from pathlib import Path\n"
        "import torch\n"
        "from tutor.llm.loader import load_model\n"
        "if sys.argv[3] != '1': t = time.perf_counter()\n"
        "root = None if sys.argv[1] == '-' else Path(sys.argv[1])\n"
        "adapter = None if sys.argv[2] == '-' else sys.argv[2]\n"
        "lm = load_model(None, adapter, cache_root=root)\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'source': lm.source,"
        " 'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))\n"
    )
    args = [str(cache_root) if cache_root else "-", adapter or "-", "1" if imports_timed else "0"]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False, timeout=900)
    if proc.returncode != 0:
        raise LLMError(f"model load failed: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def typical_prompt(tokenizer: Any, target: int = TARGET_PROMPT_TOKENS, course: Any = None) -> list[int]:
    """A ~``target``-token answer prompt built from the course's own sections with the real prompt builder."""
    from tutor.llm.prompt import PromptPassage, PromptRequest, build_prompt

    if course is None:
        from tutor.content import load_course

        course = load_course()
    sections = list(course.sections())
    history = (
        ("user", "What is a GAN?"),
        ("assistant", "A GAN has two networks, a generator and a discriminator, that compete during training."),
    )
    passages: list[PromptPassage] = []
    request = PromptRequest(question="How does a VAE differ from a plain autoencoder?", history=history)
    for section in sections:
        passages.append(PromptPassage(section.id, section.title, " ".join(section.text.split())))
        request = PromptRequest(question=request.question, passages=tuple(passages), history=history)
        built = build_prompt(tokenizer, request, context_tokens=4096, reserve=0)
        if built.tokens >= target:
            return built.input_ids
    return built.input_ids


def _time_decoder(step_model: Any, tokenizer: Any, prompt: list[int], runs: int) -> list[dict[str, float]]:
    from tutor.llm.generate import GenerationStats, SamplingConfig, stream_text

    out = []
    for _ in range(runs + 1):  # the first run warms caches and is dropped
        stats = GenerationStats()
        for _piece in stream_text(
            step_model, tokenizer, prompt, SamplingConfig(max_new_tokens=NEW_TOKENS), stats=stats, stop_ids=frozenset()
        ):
            pass
        out.append({"ttft_s": stats.ttft_s, "tok_s": stats.tokens_per_s, "new_tokens": stats.new_tokens})
    return out[1:]


def _note(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def run_bench(*, cold: bool = True, runs: int = 3, compare_hf: bool = True, adapter: str | None = None) -> LLMBench:
    """``adapter``: None = the shipped tutor adapter (what users get), "none" = base weights, or a folder."""
    started = time.perf_counter()
    import torch  # noqa: F401
    import transformers  # noqa: F401

    import_s = time.perf_counter() - started
    from tutor.llm.decoder import HFStep, make_step_model
    from tutor.llm.loader import load_model

    tmp = Path(tempfile.mkdtemp(prefix="tutor-bench-llm-"))
    try:
        root = tmp if cold else None
        cold_info = load_child(root, adapter) if cold else None
        if cold_info:
            _note(f"cold load {cold_info['seconds']:.1f} s")
        warm_info = load_child(root, adapter, imports_timed=True)
        _note(f"warm start {warm_info['seconds']:.1f} s ({warm_info['source']})")
        lm = load_model(None, adapter, cache_root=root)
        _note(f"warm load {lm.load_seconds:.1f} s ({lm.source}, {lm.dtype}, {lm.threads} threads, {lm.adapter_id})")
        step = make_step_model(lm.model, lm.context_tokens)
        packed = getattr(step, "packed", None) is not None
        prompt = typical_prompt(lm.tokenizer)
        timed = _time_decoder(step, lm.tokenizer, prompt, runs)
        _note("decoder: " + ", ".join(f"TTFT {r['ttft_s']:.2f} s / {r['tok_s']:.1f} tok/s" for r in timed))
        hf_ttft = hf_tps = plain_ttft = plain_tps = None
        if compare_hf and packed:
            plain = make_step_model(lm.model, lm.context_tokens)
            plain.packed = None  # type: ignore[attr-defined]
            unpacked = _time_decoder(plain, lm.tokenizer, prompt, 1)
            plain_ttft, plain_tps = unpacked[0]["ttft_s"], unpacked[0]["tok_s"]
            _note(f"unpacked weights: TTFT {plain_ttft:.2f} s / {plain_tps:.1f} tok/s")
        if compare_hf:
            hf = _time_decoder(HFStep(lm.model, lm.context_tokens), lm.tokenizer, prompt, 1)
            hf_ttft, hf_tps = hf[0]["ttft_s"], hf[0]["tok_s"]
            _note(f"transformers forward: TTFT {hf_ttft:.2f} s / {hf_tps:.1f} tok/s")
        return LLMBench(
            cold_load_s=cold_info["seconds"] if cold_info else None,
            warm_start_s=warm_info["seconds"],
            warm_load_s=lm.load_seconds,
            import_s=import_s,
            ttft_s=statistics.median(r["ttft_s"] for r in timed),
            decode_tok_s=statistics.median(r["tok_s"] for r in timed),
            prompt_tokens=len(prompt),
            new_tokens=int(timed[0]["new_tokens"]),
            hf_ttft_s=hf_ttft,
            hf_decode_tok_s=hf_tps,
            unpacked_ttft_s=plain_ttft,
            unpacked_decode_tok_s=plain_tps,
            peak_rss_mb=_rss_mb(),
            cold_peak_rss_mb=cold_info["rss_mb"] if cold_info else None,
            dtype=lm.dtype,
            threads=lm.threads,
            decoder=type(step).__name__,
            packed_weights=packed,
            model_id=lm.model_id,
            adapter_id=lm.adapter_id,
            cpu=_cpu_name(),
            runs=timed,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
