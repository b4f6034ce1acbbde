"""LoRA training mechanics on a tiny randomly initialised Llama (seconds, no real weights)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("peft")

from tutor.llm.testing import tiny_llama as _tiny_llama  # noqa: E402
from tutor.llm.train import (  # noqa: E402
    IGNORE_INDEX,
    TrainConfig,
    TrainError,
    collate,
    length_grouped_batches,
    save_adapter,
    tokenize_example,
    train_lora,
)


class CharTokenizer:
    """A byte-level tokenizer: enough for masking and collation, no files needed."""

    eos_token_id = 1
    pad_token_id = 0

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [2 + (b % 60) for b in text.encode()]}


def tiny_llama(seed: int = 0):
    # A random head with the default 0.02 scale barely moves the logits, hence the larger init.
    return _tiny_llama(64, seed, max_position_embeddings=128, initializer_range=0.3, tie_word_embeddings=False)


PAIRS = [
    ("Q: what is a gan?\nA: ", "two nets"),
    ("Q: what is a vae?\nA: ", "encoder"),
    ("Q: what is rnn?\nA: ", "sequence"),
    ("Q: weather?\nA: ", "not covered"),
]


def test_only_answer_tokens_carry_loss() -> None:
    tok = CharTokenizer()
    ex = tokenize_example(tok, "prompt text ", "answer", max_len=64)
    assert ex is not None
    n_prompt = len("prompt text ")
    assert ex.labels[:n_prompt] == [IGNORE_INDEX] * n_prompt
    assert ex.labels[n_prompt:] == ex.input_ids[n_prompt:]
    assert ex.labels[-1] == tok.eos_token_id  # the model learns to stop
    assert tokenize_example(tok, "x" * 60, "answer", max_len=64) is None  # too long: dropped, not cut


def test_collate_pads_and_masks() -> None:
    tok = CharTokenizer()
    a = tokenize_example(tok, "ab", "c", 32)
    b = tokenize_example(tok, "abcdef", "gh", 32)
    batch = collate([a, b], pad_id=0)
    assert batch["input_ids"].shape == (2, 9)
    assert batch["attention_mask"][0].tolist() == [1, 1, 1, 1] + [0] * 5
    assert (batch["labels"][0, 4:] == IGNORE_INDEX).all()


def test_length_grouped_batches_cover_every_example_once() -> None:
    import random

    batches = length_grouped_batches([5, 1, 9, 3, 7, 2, 8], 3, random.Random(0))
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(7))
    assert all(1 <= len(b) <= 3 for b in batches)


def test_loss_goes_down_and_adapter_reloads(tmp_path) -> None:
    from peft import PeftModel

    tok = CharTokenizer()
    cfg = TrainConfig(epochs=15, rank=8, alpha=16, dropout=0.0, lr=2e-2, batch_size=2, max_len=64, seed=1)
    model, result = train_lora(tiny_llama(), tok, PAIRS, PAIRS[:2], cfg, out_dir=tmp_path)
    assert result.steps == 30
    first = sum(result.losses[:4]) / 4
    last = sum(result.losses[-4:]) / 4
    assert last < first * 0.7, (first, last)
    assert result.dev_loss[-1] < result.dev_loss[0]
    assert result.trainable_params > 0

    out = tmp_path / "adapter"
    files = save_adapter(model, out)
    assert all(f.is_file() for f in files)

    batch = collate([tokenize_example(tok, p, t, 64) for p, t in PAIRS], 0)
    with torch.no_grad():
        trained = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        reloaded = PeftModel.from_pretrained(tiny_llama(), str(out)).eval()
        again = reloaded(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        base = tiny_llama().eval()(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert torch.allclose(trained, again, atol=1e-5)
    assert not torch.allclose(trained, base, atol=1e-3)  # the adapter changes the model

    merged = reloaded.merge_and_unload()
    with torch.no_grad():
        merged_logits = merged(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    assert torch.allclose(merged_logits, again, atol=1e-4)
    assert (tmp_path / "epoch-1" / "adapter_model.safetensors").is_file()


def test_bad_settings_are_domain_errors() -> None:
    with pytest.raises(TrainError, match="rank"):
        TrainConfig(rank=0).validate()
    with pytest.raises(TrainError, match="fits"):
        train_lora(tiny_llama(), CharTokenizer(), [("x" * 100, "y")], [], TrainConfig(max_len=32))


def test_answer_only_logits_give_the_models_own_loss() -> None:
    from tutor.llm.train import masked_loss

    tok = CharTokenizer()
    model = tiny_llama().eval()
    batch = collate([tokenize_example(tok, p, t, 64) for p, t in PAIRS], 0)
    with torch.no_grad():
        ours = masked_loss(model, batch)
        theirs = model(**batch).loss
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_top_layers_only_leaves_lower_layers_alone() -> None:
    from tutor.llm.train import add_lora

    model = add_lora(tiny_llama(), TrainConfig(rank=2, layers_from=1))
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names and all(".layers.1." in n for n in names)
    with pytest.raises(TrainError, match="leaves none"):
        add_lora(tiny_llama(), TrainConfig(rank=2, layers_from=5))


def test_train_cli_refuses_bad_kind_weights_before_loading_anything() -> None:
    from click.testing import CliRunner

    from tutor.cli.train import train

    runner = CliRunner()
    for bad in ("off-topic", "off-topic=-1", "=1", "off-topic=nan", "off-topic=lots"):
        result = runner.invoke(train, ["--weight", bad])
        assert result.exit_code == 2 and "KIND=WEIGHT" in result.output, bad
    for bad in ("beginner", "beginner=0", "beginner=1.5", "=2"):
        result = runner.invoke(train, ["--repeat", bad])
        assert result.exit_code in (1, 2) and ("LEVEL=N" in result.output or "unknown level" in result.output), bad
    level = runner.invoke(train, ["--repeat", "novice=2"])
    assert level.exit_code == 1 and "unknown level(s) novice" in level.output
    unknown = runner.invoke(train, ["--weight", "offtopic=0"])
    assert unknown.exit_code == 1 and "unknown example kind(s) offtopic" in unknown.output
    assert "Traceback" not in unknown.output
