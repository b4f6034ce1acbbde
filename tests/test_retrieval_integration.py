"""Retrieval with the real MiniLM (and the shipped course adapter when present)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def embedder():
    from tutor.retrieval import load_embedder

    return load_embedder()


@pytest.fixture(scope="module")
def retriever(embedder, tmp_path_factory):
    from tutor.content import load_course
    from tutor.retrieval import Retriever

    return Retriever.build(load_course(), embedder=embedder, cache_dir=tmp_path_factory.mktemp("index"))


def test_encode_matches_sentence_transformers() -> None:
    """The fast single-thread path computes what SentenceTransformer.encode computes."""
    from tutor.retrieval import load_embedder

    base = load_embedder("none")
    texts = ["What does the discriminator do in a GAN?", "Autoencoders compress and reconstruct data."]
    ours = base.encode(texts)
    ref = base.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    assert ours.dtype == np.float32 and ours.shape == (2, 384)
    assert np.allclose(ours, ref, atol=1e-5)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_known_question_retrieves_its_section_first(retriever) -> None:
    res = retriever.search("what's the job of the discriminator in a GAN?", k=3)
    assert res.hits[0].section_id == "gan"
    assert res.in_scope is True


def test_cooking_question_is_out_of_scope(retriever) -> None:
    res = retriever.search("how long should I bake a chocolate cake and at what oven temperature?")
    assert res.in_scope is False
    assert res.scope_score < retriever.scope.threshold


def test_best_sentences_pick_the_answer(retriever) -> None:
    picked = retriever.best_sentences("which problem does LSTM solve?", "lstm", n=1)
    assert "vanishing gradient" in picked[0][0]


def test_empty_and_huge_queries(retriever) -> None:
    assert retriever.search("").hits == []
    res = retriever.search("transformers self-attention " * 5000, k=2)
    assert len(res.hits) == 2


def test_shipped_adapter_is_small_and_changes_the_model(embedder) -> None:
    from tutor.retrieval.embedder import ADAPTER_WEIGHTS, shipped_adapter_dir

    if embedder.adapter_dir is None:
        pytest.skip("no course adapter shipped")
    assert (shipped_adapter_dir() / ADAPTER_WEIGHTS).stat().st_size < 5_000_000
    assert "+" in embedder.model_id
    for name in ("card.md", "card.json", "calibration.json"):
        assert (shipped_adapter_dir() / name).is_file()


def test_cli_search_stdin_round_trips_json(tmp_path: Path) -> None:
    queries = ["what is a variational autoencoder?", "who won the 2018 world cup?", "how do RNNs help speech recognition"]
    env = {**os.environ, "TUTOR_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "tutor", "search", "-", "--json", "--k", "2"],
        input="\n".join(queries) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [d["query"] for d in lines] == queries
    assert lines[0]["hits"][0]["section_id"] == "vae" and lines[0]["in_scope"] is True
    assert lines[1]["in_scope"] is False
    assert all(len(d["hits"]) == 2 and {"section_id", "title", "score", "text"} <= set(d["hits"][0]) for d in lines)
