"""`tutor ask` and `tutor eval answers` output, with a tiny tutor in place of the real models."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from click.testing import CliRunner  # noqa: E402

from tutor.cli.main import cli  # noqa: E402
from tutor.llm.answer import Tutor, TutorConfig  # noqa: E402
from tutor.llm.testing import FakeRetriever, HashEmbedder, tiny_llama, tiny_tokenizer  # noqa: E402

SECTIONS = {
    "gan": ("Generative Adversarial Networks", "A gan has two neural networks. The generator create fake data."),
    "vae": ("Variational Autoencoders", "A vae has an encoder and a decoder."),
}


@pytest.fixture
def fake_load(monkeypatch):
    tok = tiny_tokenizer()
    model = tiny_llama(vocab_size=len(tok))
    seen: list[TutorConfig] = []

    def load(config=None):
        seen.append(config)
        return Tutor(
            retriever=FakeRetriever(dict(SECTIONS), out_of_scope={"who won the world cup"}),
            model=model,
            tokenizer=tok,
            encode=HashEmbedder().encode,
            config=TutorConfig(max_new_tokens=6, one_paragraph=False),
            model_id="tiny",
            context_tokens=1024,
        )

    monkeypatch.setattr(Tutor, "load", staticmethod(load))
    return seen


def test_ask_json_is_one_object_with_evidence(fake_load):
    result = CliRunner().invoke(cli, ["ask", "what does the generator do?", "--json", "--adapter", "none", "--temperature", "0.7"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip())
    assert payload["in_scope"] is True
    assert payload["evidence"][0]["section_id"] == "gan"
    assert payload["sources"][0] == {"section_id": "gan", "title": SECTIONS["gan"][0], "score": 1.0}
    assert {"retrieval_ms", "ttft_ms", "tokens_per_s", "total_ms"} <= set(payload["timings"])
    assert isinstance(payload["grounded"], float)
    assert fake_load[0].adapter == "none" and fake_load[0].temperature == 0.7


def test_ask_stdin_gives_one_line_per_question(fake_load):
    result = CliRunner().invoke(cli, ["ask", "-", "--json"], input="what does the generator do?\n\nwho won the world cup\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [line["in_scope"] for line in lines] == [True, False]
    assert "does not cover" in lines[1]["answer"] and lines[1]["evidence"] == []


def test_plain_output_ends_with_evidence_and_sources(fake_load):
    result = CliRunner().invoke(cli, ["ask", "what does the generator do?", "--style", "concise"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("Evidence from the lesson:") < out.index("Sources:")
    assert "\"Generative Adversarial Networks\" [gan]" in out


def test_empty_question_is_a_clean_error(fake_load):
    result = CliRunner().invoke(cli, ["ask", "  "])
    assert result.exit_code == 1
    assert "Error: the question is empty" in result.output
    assert "Traceback" not in result.output


def test_bad_level_is_rejected_by_click(fake_load):
    result = CliRunner().invoke(cli, ["ask", "what is a gan?", "--level", "guru"])
    assert result.exit_code == 2


def test_unknown_learner_falls_back_to_defaults(fake_load):
    result = CliRunner().invoke(cli, ["ask", "what does the generator do?", "--learner", "nobody", "--json"])
    assert result.exit_code == 0, result.output
    assert "default profile" in result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["in_scope"] is True
