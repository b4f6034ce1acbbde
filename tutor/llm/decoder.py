"""One forward step of a causal LM with a KV cache: a lean Llama path and a generic one.

Why our own step instead of ``model.generate``: for a 135M model on a CPU the
per-token cost is dominated by Python and dispatch overhead, not by the
matmuls (one 576x1536 matmul takes ~0.1 ms; transformers' Llama forward spends
several ms per layer on masks, cache bookkeeping and `torch.cat` of the growing
cache). `FastLlama` runs the same maths with fused q/k/v and gate/up
projections and a preallocated KV cache written in place, and is checked
against the transformers forward in the tests. Architectures it does not know
fall back to `HFStep`, which calls the model's own forward with a
`DynamicCache`.

Why prepacked weights for the one-token steps (bfloat16 only): decoding is
bound by reading the weights, and ``F.linear`` on a bf16 CPU tensor hands
oneDNN a plain row-major weight on every call. Weights reordered once into
oneDNN's blocked layout (``mkldnn._reorder_linear_weight``, what inductor's
freezing does) ran the 1-row matmuls of SmolLM2-135M 1.4-2x faster here, with
bit-identical results (checked on the real weights at start-up; any mismatch
and the plain path is kept). The prefill keeps ``F.linear``: for 900 rows the
packed kernel was slower and not bit-identical. Cost: a second copy of the
weights (measured +376 MB RSS for SmolLM2 in bf16; ``TUTOR_LLM_PACK=0`` turns it off).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

LLAMA_TYPES = ("llama",)
PACK_ENV = "TUTOR_LLM_PACK"  # "0" turns the prepacked bf16 weights off (for comparisons)
PREPARED_ATTR = "_tutor_fast_weights"
STATIC_ROPE_TYPES = ("default", "linear", "llama3")


class StepModel(Protocol):
    """Prefill a prompt, then feed one token at a time; each call returns next-token logits (float32, [vocab])."""

    max_positions: int

    def prefill(self, ids: list[int]) -> Any: ...

    def step(self, token: int) -> Any: ...


def _rope_type(model: Any) -> str:
    rotary = getattr(getattr(model, "model", None), "rotary_emb", None)
    kind = getattr(rotary, "rope_type", None)
    if kind:
        return str(kind)
    params = getattr(model.config, "rope_parameters", None) or getattr(model.config, "rope_scaling", None) or {}
    return str(params.get("rope_type", params.get("type", "default"))) if isinstance(params, dict) else "default"


def fast_path_supported(model: Any) -> bool:
    """Whether `FastLlama` computes exactly what this model's own forward does."""
    cfg = model.config
    rotary = getattr(getattr(model, "model", None), "rotary_emb", None)
    return (
        getattr(cfg, "model_type", None) in LLAMA_TYPES
        and not getattr(cfg, "attention_bias", False)
        and not getattr(cfg, "mlp_bias", False)
        and getattr(cfg, "hidden_act", "silu") == "silu"
        and int(getattr(cfg, "pretraining_tp", 1) or 1) == 1
        and rotary is not None
        and hasattr(rotary, "inv_freq")
        and _rope_type(model) in STATIC_ROPE_TYPES
        and hasattr(model, "lm_head")
    )


@dataclass
class FastWeights:
    """The fused (and, for bf16, packed) weights of one model, built once and kept on the model."""

    layers: list[tuple[Any, ...]]  # (norm1, qkv, o, norm2, gate_up, down) per layer; qkv/gate_up back the model's weights
    packed: list[tuple[Any, ...]] | None  # oneDNN-packed (qkv, o, gate_up, down) per layer, then (lm_head,)
    dtype: Any

    def current(self, model: Any) -> bool:
        """Still the model's weights: same dtype and q_proj still a view into our fused qkv."""
        layers = model.model.layers
        return (
            len(layers) == len(self.layers)
            and model.model.embed_tokens.weight.dtype == self.dtype
            and all(l.self_attn.q_proj.weight.data_ptr() == w[1].data_ptr() for l, w in zip(layers, self.layers))
        )


def _share(linears: list[Any]) -> Any:
    """Concatenate the weights and make each module's weight a view into the result (no extra memory)."""
    import torch

    fused = torch.cat([m.weight.detach() for m in linears], 0).contiguous()
    start = 0
    for m in linears:
        rows = m.weight.shape[0]
        m.weight = torch.nn.Parameter(fused[start : start + rows], requires_grad=False)
        start += rows
    return fused


def _fuse(layer: Any) -> tuple[Any, ...]:
    attn, mlp = layer.self_attn, layer.mlp
    qkv = _share([attn.q_proj, attn.k_proj, attn.v_proj])
    gate_up = _share([mlp.gate_proj, mlp.up_proj])
    return (
        layer.input_layernorm.weight,
        qkv,
        attn.o_proj.weight,
        layer.post_attention_layernorm.weight,
        gate_up,
        mlp.down_proj.weight,
    )


def packed_linear(x: Any, weight: Any) -> Any:
    """``F.linear`` with a weight from ``mkldnn._reorder_linear_weight`` (no bias)."""
    import torch

    return torch.ops.mkldnn._linear_pointwise(x, weight, None, "none", [None], "")


def _pack(layers: list[tuple[Any, ...]], head: Any, dtype: Any) -> list[tuple[Any, ...]] | None:
    """oneDNN-packed copies of every matmul weight for one-token steps, or None where that does not pay."""
    import torch

    if os.environ.get(PACK_ENV, "1").strip() == "0" or dtype != torch.bfloat16:
        return None
    try:
        with torch.no_grad():
            if not (torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()):
                return None
            reorder = torch.ops.mkldnn._reorder_linear_weight
            packed = [tuple(reorder(w, 1) for w in (qkv, o, gate_up, down)) for _, qkv, o, _, gate_up, down in layers]
            packed.append((reorder(head, 1),))
            # the packed kernel must give exactly what F.linear gives, or greedy answers could change
            probe = torch.Generator().manual_seed(0)
            first = layers[0]
            for plain, fast in zip((first[1], first[2], first[4], first[5], head), (*packed[0], packed[-1][0])):
                x = torch.randn(1, plain.shape[1], generator=probe).to(dtype)
                if not torch.equal(packed_linear(x, fast), torch.nn.functional.linear(x, plain)):
                    return None
    except (RuntimeError, AttributeError, NotImplementedError):  # an old torch, or oneDNN refuses this CPU
        return None
    return packed


def fast_weights(model: Any) -> FastWeights:
    """Fuse q/k/v and gate/up (and pack for bf16) once per model; later calls reuse the result.

    Kept on the model object so the loader can do this work on its loading thread
    and every `FastLlama` over the same model shares one copy. Rebuilt when the
    model's weights were replaced (e.g. a `.to(dtype)`) since.
    """
    cached = getattr(model, PREPARED_ATTR, None)
    if isinstance(cached, FastWeights) and cached.current(model):
        return cached
    layers = [_fuse(layer) for layer in model.model.layers]
    dtype = model.model.embed_tokens.weight.dtype
    prepared = FastWeights(layers=layers, packed=_pack(layers, model.lm_head.weight, dtype), dtype=dtype)
    object.__setattr__(model, PREPARED_ATTR, prepared)  # plain attribute, not a registered submodule
    return prepared


def prepare(model: Any) -> bool:
    """Do `FastLlama`'s one-time weight work now (at load time) where the fast path applies."""
    if not fast_path_supported(model):
        return False
    fast_weights(model)
    return True


class FastLlama:
    """Llama-family decoder over the model's own weights (shared, not copied), with an in-place KV cache."""

    def __init__(self, model: Any, max_positions: int) -> None:
        import torch

        cfg = model.config
        self.max_positions = int(max_positions)
        self.heads = int(cfg.num_attention_heads)
        self.kv_heads = int(getattr(cfg, "num_key_value_heads", None) or self.heads)
        self.head_dim = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads)
        self.intermediate = int(cfg.intermediate_size)
        self.eps = float(cfg.rms_norm_eps)
        inner = model.model
        self.embed = inner.embed_tokens.weight
        self.norm = inner.norm.weight
        self.head = model.lm_head.weight
        self.dtype = self.embed.dtype
        rotary = inner.rotary_emb
        self.inv_freq = rotary.inv_freq.detach().float()
        self.rope_scale = float(getattr(rotary, "attention_scaling", 1.0) or 1.0)
        self.scale = float(getattr(inner.layers[0].self_attn, "scaling", self.head_dim**-0.5))
        self._torch = torch
        weights = fast_weights(model)
        self.layers = weights.layers
        self.packed = weights.packed
        shape = (len(self.layers), 1, self.kv_heads, self.max_positions, self.head_dim)
        self.k_cache = torch.zeros(shape, dtype=self.dtype)
        self.v_cache = torch.zeros(shape, dtype=self.dtype)
        self.pos = 0
        self._cos: Any = None
        self._sin: Any = None

    def _rms(self, x: Any, weight: Any) -> Any:
        # transformers' LlamaRMSNorm: normalise in float32, cast back, then scale (fused kernel, same maths)
        normed = self._torch.nn.functional.rms_norm(x.float(), (x.shape[-1],), None, self.eps)
        return weight * normed.to(x.dtype)

    def _rope_table(self, end: int) -> tuple[Any, Any]:
        """cos/sin for positions [0, end), computed once per window size (not per token)."""
        torch = self._torch
        if self._cos is None or self._cos.shape[0] < end:
            size = max(end, self.max_positions)
            freqs = torch.outer(torch.arange(size, dtype=torch.float32), self.inv_freq)
            emb = torch.cat((freqs, freqs), -1)
            self._cos = (emb.cos() * self.rope_scale).to(self.dtype)
            self._sin = (emb.sin() * self.rope_scale).to(self.dtype)
        return self._cos, self._sin

    def _forward(self, ids: Any, pos: int) -> Any:
        torch = self._torch
        F = torch.nn.functional
        T = ids.shape[1]
        H, KV, D, I = self.heads, self.kv_heads, self.head_dim, self.intermediate
        x = F.embedding(ids, self.embed)
        cos_table, sin_table = self._rope_table(pos + T)
        cos, sin = cos_table[pos : pos + T], sin_table[pos : pos + T]
        half = D // 2

        def rope(t: Any) -> Any:
            return t * cos + torch.cat((-t[..., half:], t[..., :half]), -1) * sin

        end = pos + T
        packed = self.packed if T == 1 else None
        linear = packed_linear if packed is not None else F.linear
        for i, (n1, qkv, o, n2, gate_up, down) in enumerate(self.layers):
            if packed is not None:
                qkv, o, gate_up, down = packed[i]
            h = self._rms(x, n1)
            q, k, v = linear(h, qkv).split((H * D, KV * D, KV * D), -1)
            q = rope(q.view(1, T, H, D).transpose(1, 2))
            k = rope(k.view(1, T, KV, D).transpose(1, 2))
            self.k_cache[i, :, :, pos:end] = k
            self.v_cache[i, :, :, pos:end] = v.view(1, T, KV, D).transpose(1, 2)
            a = F.scaled_dot_product_attention(
                q,
                self.k_cache[i, :, :, :end],
                self.v_cache[i, :, :, :end],
                is_causal=T > 1,
                scale=self.scale,
                enable_gqa=KV != H,
            )
            x = x + linear(a.transpose(1, 2).reshape(1, T, H * D), o)
            g, u = linear(self._rms(x, n2), gate_up).split((I, I), -1)
            x = x + linear(F.silu(g) * u, down)
        last = self._rms(x[:, -1], self.norm)  # one row: the packed head is exact here, prefill included
        if self.packed is not None:
            return packed_linear(last, self.packed[-1][0])[0].float()
        return F.linear(last, self.head)[0].float()

    def prefill(self, ids: list[int]) -> Any:
        if not ids:
            raise ValueError("empty prompt")
        if len(ids) > self.max_positions:
            raise ValueError(f"prompt of {len(ids)} tokens exceeds the {self.max_positions}-token window")
        self.pos = 0
        logits = self._forward(self._torch.tensor([ids], dtype=self._torch.long), 0)
        self.pos = len(ids)
        return logits

    def step(self, token: int) -> Any:
        if self.pos >= self.max_positions:
            raise ValueError("the context window is full")
        logits = self._forward(self._torch.tensor([[token]], dtype=self._torch.long), self.pos)
        self.pos += 1
        return logits


class HFStep:
    """Any transformers causal LM through its own forward and a DynamicCache."""

    def __init__(self, model: Any, max_positions: int) -> None:
        import inspect

        self.model = model
        self.max_positions = int(max_positions)
        self.past = None
        # transformers >= 5.2x names the cache argument `cache` (`past_key_values` is deprecated)
        self._cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    def _run(self, ids: list[int]) -> Any:
        import torch

        out = self.model(
            input_ids=torch.tensor([ids], dtype=torch.long),
            use_cache=True,
            logits_to_keep=1,
            **{self._cache_arg: self.past},
        )
        cache = getattr(out, "cache", None)
        self.past = cache if cache is not None else out.past_key_values
        return out.logits[0, -1].float()

    def prefill(self, ids: list[int]) -> Any:
        if not ids:
            raise ValueError("empty prompt")
        self.past = None
        return self._run(ids)

    def step(self, token: int) -> Any:
        return self._run([token])


def make_step_model(model: Any, max_positions: int, *, fast: bool | None = None) -> StepModel:
    """`FastLlama` when the architecture allows it (or ``fast`` forces the choice), else `HFStep`."""
    use_fast = fast_path_supported(model) if fast is None else fast
    if use_fast:
        return FastLlama(model, max_positions)
    return HFStep(model, max_positions)
