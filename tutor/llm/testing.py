"""Tiny stand-ins for the real models, so answer-pipeline tests run in milliseconds.

- `tiny_tokenizer()`: a word-level `tokenizers` tokenizer with ChatML markers and a chat template;
- `tiny_llama()`: a randomly initialised 2-layer Llama over that vocabulary;
- `HashEmbedder`: bag-of-words vectors (cosine = word overlap), normalised like MiniLM's;
- `FakeRetriever`: scripted hits and scope per question.
Used by tests/test_llm*.py and tests/test_answer*.py; importable by other tests that need a tutor.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
    "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
WORDS = (
    "system user assistant you are a patient tutor for the course answer question using only lesson text begin "
    "with fact from that then explain it do not add facts in if does say cover student is beginner intermediate "
    "advanced use plain everyday words and any technical term knows basics terms connect ideas be precise relate "
    "to other models give one concrete example simple analogy short numbered steps keep two or three sentences "
    "gan generator discriminator networks two neural compete create data real fake vae encoder decoder latent "
    "space transformer attention words lstm gru gates memory think of like this in step by 1 2 3 what how why "
    "does do the an on at as key sentence still working connect them allows quiz answered correct feedback "
    "where went wrong right was learner's advanced generative ai models architecture : , . ? ! \" ' ( ) ; - "
).split()


def tiny_tokenizer(extra_words: Sequence[str] = ()) -> Any:
    """A word-level fast tokenizer (unknown words -> [UNK]) with ChatML special tokens and template."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab: dict[str, int] = {}
    for tok in SPECIAL + ["[UNK]"] + list(WORDS) + [w.lower() for w in extra_words]:
        vocab.setdefault(tok, len(vocab))
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace()])
    core.decoder = decoders.WordPiece(prefix="##", cleanup=True)  # joins words with spaces
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="[UNK]",
        eos_token="<|im_end|>",
        bos_token="<|im_start|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=SPECIAL,
    )
    tok.chat_template = CHATML
    return tok


def tiny_llama(vocab_size: int, seed: int = 0, **overrides: Any) -> Any:
    """A random 2-layer Llama (hidden 32, GQA 4/2 heads) in eval mode."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    settings = dict(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        rope_theta=10000.0,
        tie_word_embeddings=True,
        initializer_range=0.2,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    settings.update(overrides)
    return LlamaForCausalLM(LlamaConfig(**settings)).eval()


class HashEmbedder:
    """Bag-of-words embeddings: cosine similarity is the (normalised) word overlap of two texts."""

    model_id = "hash-bow"

    def __init__(self, dim: int = 512) -> None:
        self.dim = dim
        self.calls = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                h = int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim
                out[i, h] += 1.0
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        return out


@dataclass(frozen=True)
class FakeHit:
    section_id: str
    title: str
    text: str
    score: float
    dense: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True)
class FakeSearch:
    query: str
    hits: list[FakeHit]
    in_scope: bool
    scope_score: float = 0.9


@dataclass
class FakeRetriever:
    """Returns ``sections`` (id -> (title, text)) for every question; ``out_of_scope`` questions are declined."""

    sections: dict[str, tuple[str, str]]
    out_of_scope: set[str] = field(default_factory=set)
    searches: list[str] = field(default_factory=list)

    def search(self, query: str, k: int = 5) -> FakeSearch:
        self.searches.append(query)
        hits = [FakeHit(sid, title, text, 1.0 - 0.1 * n) for n, (sid, (title, text)) in enumerate(self.sections.items())]
        return FakeSearch(query, hits[:k], query not in self.out_of_scope, 0.1 if query in self.out_of_scope else 0.9)

    def best_sentences(self, query: str, section_id: str, n: int = 2) -> list[tuple[str, float]]:
        from tutor.llm.text import split_sentences

        q = set(re.findall(r"[a-z0-9]+", query.lower()))
        sentences = split_sentences(self.sections[section_id][1])
        scored = [(s, len(q & set(re.findall(r"[a-z0-9]+", s.lower()))) / 10.0) for s in sentences]
        best = sorted(range(len(scored)), key=lambda i: -scored[i][1])[:n]
        return [scored[i] for i in sorted(best)]
