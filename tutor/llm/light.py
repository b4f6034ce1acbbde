"""A transformers-free warm start: the cached Llama weights and tokenizer behind plain objects.

Why: on a warm start the tutor only needs the weights (our own `FastLlama`
runs the forward pass) and a tokenizer, yet importing transformers' Llama and
AutoTokenizer cost about 2.5 s of CPU here (it pulls torch._dynamo,
torch.distributed.tensor and scipy), a third of the app's start-up. This
module reads the runtime safetensors file with ``safetensors`` into
`LightLlama`, a small container with exactly the attribute paths `FastLlama`,
`fast_weights` and `prepare` read (``model.config``, ``model.model.layers[i]
.self_attn.q_proj.weight``, ``model.model.rotary_emb.inv_freq``, ``model.lm_head``),
and wraps the ``tokenizers`` library in `LightTokenizer`, which renders the
chat template with jinja2's sandbox as transformers does.

Exactness, checked in tests/test_llm_light.py against transformers: the same
tensors, RoPE inverse frequencies computed with transformers' formula for the
default rope type and cast to the runtime dtype (what ``model.to(bf16)`` does to
that buffer), the same token ids, decoded text and chat-template text.

Scope: only what these objects can match exactly. Anything else -- another
architecture or rope type, biases, an unknown tokenizer class, a template
jinja cannot compile without transformers' extensions -- makes `load_light`
return None and the loader takes the transformers path. Calling the model
(``model(input_ids=...)``, as `HFStep` and comparisons do) builds a transformers
Llama over the same tensors on first use; the tutor's own decoding never does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

SUPPORTED_TOKENIZERS = ("TokenizersBackend", "PreTrainedTokenizerFast")
SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
LAYER_WEIGHTS = (
    "self_attn.q_proj",
    "self_attn.k_proj",
    "self_attn.v_proj",
    "self_attn.o_proj",
    "mlp.gate_proj",
    "mlp.up_proj",
    "mlp.down_proj",
    "input_layernorm",
    "post_attention_layernorm",
)


# ----------------------------------------------------------------------------- config
@dataclass(frozen=True)
class LlamaSettings:
    """The config.json fields the tutor's decoder reads (a LlamaConfig stand-in); ``raw`` keeps the whole file."""

    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    rms_norm_eps: float
    rope_theta: float
    max_position_embeddings: int
    tie_word_embeddings: bool
    model_type: str = "llama"
    hidden_act: str = "silu"
    attention_bias: bool = False
    mlp_bias: bool = False
    pretraining_tp: int = 1
    rope_parameters: dict[str, Any] = field(default_factory=lambda: {"rope_type": "default"})
    eos_token_id: Any = None
    bos_token_id: Any = None
    pad_token_id: Any = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def rope_scaling(self) -> dict[str, Any]:
        return self.rope_parameters


def llama_settings(data: dict[str, Any]) -> LlamaSettings | None:
    """Settings from a config.json dict, or None when `LightLlama` cannot reproduce that model exactly."""
    rope = data.get("rope_parameters") or data.get("rope_scaling") or {}
    if not isinstance(rope, dict):
        return None
    rope_type = rope.get("rope_type", rope.get("type", "default"))
    theta = rope.get("rope_theta", data.get("rope_theta"))
    if (
        data.get("model_type") != "llama"
        or rope_type != "default"
        or theta is None
        or data.get("attention_bias", False)
        or data.get("mlp_bias", False)
        or data.get("hidden_act", "silu") != "silu"
        or int(data.get("pretraining_tp", 1) or 1) != 1
    ):
        return None
    heads = int(data["num_attention_heads"])
    return LlamaSettings(
        vocab_size=int(data["vocab_size"]),
        hidden_size=int(data["hidden_size"]),
        intermediate_size=int(data["intermediate_size"]),
        num_hidden_layers=int(data["num_hidden_layers"]),
        num_attention_heads=heads,
        num_key_value_heads=int(data.get("num_key_value_heads") or heads),
        head_dim=int(data.get("head_dim") or int(data["hidden_size"]) // heads),
        rms_norm_eps=float(data.get("rms_norm_eps", 1e-6)),
        rope_theta=theta,  # kept as written: the same Python number transformers raises to the power
        max_position_embeddings=int(data.get("max_position_embeddings", 2048)),
        tie_word_embeddings=bool(data.get("tie_word_embeddings", False)),
        rope_parameters={"rope_type": "default", "rope_theta": theta},
        eos_token_id=data.get("eos_token_id"),
        bos_token_id=data.get("bos_token_id"),
        pad_token_id=data.get("pad_token_id"),
        raw=data,
    )


# ----------------------------------------------------------------------------- model
class Weight:
    """A module stand-in holding one ``weight`` tensor (Linear, RMSNorm or Embedding)."""

    def __init__(self, weight: Any) -> None:
        self.weight = weight


class Part:
    """A plain attribute bag standing in for a transformers submodule (attention, MLP, layer, body)."""

    def __init__(self, **parts: Any) -> None:
        self.__dict__.update(parts)


@dataclass
class Rotary:
    """RoPE's constants as transformers' LlamaRotaryEmbedding holds them for the default rope type."""

    inv_freq: Any
    attention_scaling: float = 1.0
    rope_type: str = "default"


def default_inv_freq(settings: LlamaSettings, dtype: Any) -> Any:
    """transformers' ``compute_default_rope_parameters``, then the cast ``model.to(dtype)`` applies to the buffer."""
    import torch

    base, dim = settings.rope_theta, settings.head_dim
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float) / dim))
    return inv_freq.to(dtype)


class LightLlama:
    """The weights of a Llama causal LM under transformers' attribute names, without transformers.

    ``config``, ``model.embed_tokens/layers/norm/rotary_emb`` and ``lm_head`` are what
    `tutor.llm.decoder` reads. Calling it (a transformers-style forward) builds a real
    ``LlamaForCausalLM`` sharing these tensors once, for comparisons and `HFStep`.
    """

    def __init__(self, config: LlamaSettings, model: Part, lm_head: Weight) -> None:
        self.config = config
        self.model = model
        self.lm_head = lm_head
        self._hf: Any = None

    @property
    def dtype(self) -> Any:
        return self.model.embed_tokens.weight.dtype

    def eval(self) -> LightLlama:
        return self

    def get_input_embeddings(self) -> Weight:
        return self.model.embed_tokens

    def state_dict(self) -> dict[str, Any]:
        """The tensors under their checkpoint names (lm_head included, shared when tied)."""
        state = {"model.embed_tokens.weight": self.model.embed_tokens.weight, "model.norm.weight": self.model.norm.weight}
        for i, layer in enumerate(self.model.layers):
            for name in LAYER_WEIGHTS:
                owner, _, leaf = name.rpartition(".")
                module = getattr(getattr(layer, owner), leaf) if owner else getattr(layer, leaf)
                state[f"model.layers.{i}.{name}.weight"] = module.weight
        state["lm_head.weight"] = self.lm_head.weight
        return state

    def to_transformers(self) -> Any:
        """A transformers LlamaForCausalLM over the same tensors (imports transformers: comparisons only)."""
        if self._hf is None:
            import torch
            from transformers import LlamaConfig
            from transformers.models.llama.modeling_llama import LlamaForCausalLM

            with torch.device("meta"):
                hf = LlamaForCausalLM(LlamaConfig(**self.config.raw))
            state = {k: v.detach() for k, v in self.state_dict().items()}
            hf.load_state_dict(state, strict=True, assign=True)
            hf.model.rotary_emb.inv_freq = self.model.rotary_emb.inv_freq
            hf.model.rotary_emb.original_inv_freq = self.model.rotary_emb.inv_freq.clone()
            self._hf = hf.eval()
        return self._hf

    @property
    def forward(self) -> Any:
        return self.to_transformers().forward

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.to_transformers()(*args, **kwargs)


def _take(state: dict[str, Any], name: str, shape: tuple[int, ...], dtype: Any) -> Any:
    tensor = state.pop(name)  # KeyError when missing: the caller reads that as "not this layout"
    if tuple(tensor.shape) != shape:
        raise ValueError(f"{name}: shape {tuple(tensor.shape)}, expected {shape}")
    return tensor.to(dtype)


def light_llama(settings: LlamaSettings, state: dict[str, Any], dtype: Any) -> LightLlama:
    """Arrange a checkpoint's tensors as `LightLlama`; ValueError/KeyError when they do not match ``settings``."""
    import torch

    state = dict(state)
    c = settings
    hidden, heads, kv, d, inter = c.hidden_size, c.num_attention_heads, c.num_key_value_heads, c.head_dim, c.intermediate_size
    shapes = {
        "self_attn.q_proj": (heads * d, hidden),
        "self_attn.k_proj": (kv * d, hidden),
        "self_attn.v_proj": (kv * d, hidden),
        "self_attn.o_proj": (hidden, heads * d),
        "mlp.gate_proj": (inter, hidden),
        "mlp.up_proj": (inter, hidden),
        "mlp.down_proj": (hidden, inter),
        "input_layernorm": (hidden,),
        "post_attention_layernorm": (hidden,),
    }
    embed = Weight(_take(state, "model.embed_tokens.weight", (c.vocab_size, hidden), dtype))
    layers = []
    for i in range(c.num_hidden_layers):
        w = {name: Weight(_take(state, f"model.layers.{i}.{name}.weight", shape, dtype)) for name, shape in shapes.items()}
        attention = Part(
            q_proj=w["self_attn.q_proj"],
            k_proj=w["self_attn.k_proj"],
            v_proj=w["self_attn.v_proj"],
            o_proj=w["self_attn.o_proj"],
            head_dim=d,
            scaling=d**-0.5,
        )
        mlp = Part(gate_proj=w["mlp.gate_proj"], up_proj=w["mlp.up_proj"], down_proj=w["mlp.down_proj"])
        layers.append(
            Part(
                self_attn=attention,
                mlp=mlp,
                input_layernorm=w["input_layernorm"],
                post_attention_layernorm=w["post_attention_layernorm"],
            )
        )
    norm = Weight(_take(state, "model.norm.weight", (hidden,), dtype))
    if c.tie_word_embeddings:
        state.pop("lm_head.weight", None)  # a tied head is the embedding, whatever a file may also hold
        head = Weight(embed.weight)
    else:
        head = Weight(_take(state, "lm_head.weight", (c.vocab_size, hidden), dtype))
    if state:
        raise ValueError(f"unexpected tensors: {sorted(state)[:3]}")
    rotary = Rotary(inv_freq=default_inv_freq(c, dtype))
    body = Part(embed_tokens=embed, layers=layers, norm=norm, rotary_emb=rotary)
    for tensor in (embed.weight, norm.weight, head.weight):
        if tensor.dtype != dtype or tensor.device != torch.device("cpu"):
            raise ValueError("weights not on the CPU in the runtime dtype")
    return LightLlama(settings, body, head)


# ----------------------------------------------------------------------------- tokenizer
def _token_text(value: Any) -> str | None:
    """A special token as tokenizer_config.json writes it: a string, or an AddedToken dict with ``content``."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def compile_chat_template(template: str) -> Any:
    """The template compiled as transformers compiles it: sandboxed, trim/lstrip blocks, loop controls, tojson."""
    import jinja2
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None, sort_keys: bool = False) -> str:
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt: str) -> str:
        return datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(template)


class LightTokenizer:
    """The parts of a transformers fast tokenizer the tutor uses, over a ``tokenizers.Tokenizer``.

    ``tok(text, add_special_tokens=False)["input_ids"]``, ``decode(ids, skip_special_tokens=True)``,
    ``eos_token_id``, ``convert_tokens_to_ids``, ``apply_chat_template(messages, tokenize=False,
    add_generation_prompt=True)``, ``chat_template`` (settable) and ``len(tok)``.
    """

    def __init__(self, backend: Any, special: dict[str, str], chat_template: str | None, clean_up_spaces: bool = False) -> None:
        self._tokenizer = backend
        self.special_tokens_map = dict(special)
        self.clean_up_tokenization_spaces = clean_up_spaces
        self._template_source: str | None = None
        self._template: Any = None
        self.chat_template = chat_template
        for name in SPECIAL_TOKEN_NAMES:
            setattr(self, name, special.get(name))

    @property
    def chat_template(self) -> str | None:
        return self._template_source

    @chat_template.setter
    def chat_template(self, template: str | None) -> None:
        self._template = compile_chat_template(template) if template else None
        self._template_source = template

    def _id(self, token: str | None) -> int | None:
        return None if token is None else self._tokenizer.token_to_id(token)

    @property
    def eos_token_id(self) -> int | None:
        return self._id(self.eos_token)

    @property
    def bos_token_id(self) -> int | None:
        return self._id(self.bos_token)

    @property
    def unk_token_id(self) -> int | None:
        return self._id(self.unk_token)

    @property
    def pad_token_id(self) -> int | None:
        return self._id(self.pad_token)

    def __len__(self) -> int:
        return int(self._tokenizer.get_vocab_size(with_added_tokens=True))

    def convert_tokens_to_ids(self, tokens: str | list[str]) -> int | None | list[int | None]:
        """Like transformers: an unknown token maps to the unk id."""
        if isinstance(tokens, str):
            found = self._tokenizer.token_to_id(tokens)
            return self.unk_token_id if found is None else found
        return [self.convert_tokens_to_ids(t) for t in tokens]  # type: ignore[misc]

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return list(self._tokenizer.encode(text, add_special_tokens=add_special_tokens).ids)

    def __call__(self, text: str | list[str], add_special_tokens: bool = True) -> dict[str, Any]:
        if isinstance(text, str):
            enc = self._tokenizer.encode(text, add_special_tokens=add_special_tokens)
            return {"input_ids": list(enc.ids), "attention_mask": list(enc.attention_mask)}
        encs = self._tokenizer.encode_batch(list(text), add_special_tokens=add_special_tokens)
        return {"input_ids": [list(e.ids) for e in encs], "attention_mask": [list(e.attention_mask) for e in encs]}

    def decode(self, ids: Any, skip_special_tokens: bool = False) -> str:
        if isinstance(ids, int):
            ids = [ids]
        text = self._tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)
        # transformers' clean-up, which it skips for BPE models (destructive there)
        if self.clean_up_tokenization_spaces and type(self._tokenizer.model).__name__ != "BPE":
            for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                         (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
                text = text.replace(a, b)
        return text

    def apply_chat_template(
        self, messages: list[dict[str, Any]], tokenize: bool = True, add_generation_prompt: bool = False, **kwargs: Any
    ) -> Any:
        """Render one conversation as transformers does (special tokens visible to the template, None keys dropped)."""
        if self._template is None:
            raise ValueError("this tokenizer has no chat template")
        if not messages:
            raise ValueError("Cannot apply chat template to an empty conversation. Provide at least one message.")
        chat = [{k: v for k, v in dict(m).items() if v is not None} for m in messages]
        values = {**self.special_tokens_map, **kwargs}
        text = self._template.render(messages=chat, tools=None, documents=None, add_generation_prompt=add_generation_prompt, **values)
        return self.encode(text, add_special_tokens=False) if tokenize else text


def light_tokenizer(folder: Path) -> LightTokenizer | None:
    """The tokenizer saved in ``folder`` (tokenizer.json + tokenizer_config.json), or None when not plain enough."""
    from tokenizers import Tokenizer

    config_file, json_file = folder / "tokenizer_config.json", folder / "tokenizer.json"
    if not (config_file.is_file() and json_file.is_file()):
        return None
    config = json.loads(config_file.read_text(encoding="utf-8"))
    if config.get("tokenizer_class") not in SUPPORTED_TOKENIZERS:
        return None
    template = config.get("chat_template")
    jinja_file = folder / "chat_template.jinja"
    if jinja_file.is_file():
        template = jinja_file.read_text(encoding="utf-8")
    if template is not None and not isinstance(template, str):
        return None  # named template sets: left to transformers
    backend = Tokenizer.from_file(str(json_file))
    backend.no_truncation()
    backend.no_padding()
    special = {name: text for name in SPECIAL_TOKEN_NAMES if (text := _token_text(config.get(name))) is not None}
    return LightTokenizer(backend, special, template, bool(config.get("clean_up_tokenization_spaces", False)))


# ----------------------------------------------------------------------------- loading
def load_light(folder: Path, weights: Path, dtype_name: str) -> tuple[LightLlama, LightTokenizer] | None:
    """Model and tokenizer from a cache folder and a safetensors file, or None when they need transformers.

    Raises on unreadable files (the loader treats that like a miss).
    """
    config_file = folder / "config.json"
    if not config_file.is_file() or not weights.is_file():
        return None
    settings = llama_settings(json.loads(config_file.read_text(encoding="utf-8")))
    if settings is None:
        return None
    tokenizer = light_tokenizer(folder)
    if tokenizer is None:
        return None
    import torch
    from safetensors.torch import load_file

    model = light_llama(settings, load_file(str(weights)), getattr(torch, dtype_name))
    return model, tokenizer
