"""Unit tests for retrieval with a fake embedder: fast, no model files needed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from tutor.content.model import Concept, Course, Lesson, Objective, Section
from tutor.retrieval import RetrievalError, Retriever, SearchResult
from tutor.retrieval.devset import DevSet, InScopeQuestion, OutOfScopeQuestion, load_devset
from tutor.retrieval.fusion import FusionConfig, fuse, max_normalise, ranks, rrf
from tutor.retrieval.passages import PassageConfig, section_passages
from tutor.retrieval.scope import ScopeFeatures, ScopeModel, fit_scope
from tutor.retrieval.settings import Calibration, calibration_for
from tutor.retrieval.text import MAX_QUERY_CHARS, clean_query, key_terms, sentences, terms


class FakeEmbedder:
    """Bag of stemmed words hashed into 256 dimensions: similar words, similar vectors."""

    def __init__(self, model_id: str = "fake-bow") -> None:
        self.model_id = model_id
        self.calls = 0
        self.texts = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        out = np.zeros((len(texts), 256), dtype=np.float32)
        for i, t in enumerate(texts):
            for term in terms(t):
                out[i, int(hashlib.md5(term.encode()).hexdigest(), 16) % 256] += 1.0
            norm = np.linalg.norm(out[i])
            out[i] = out[i] / norm if norm else out[i]
        return out


LESSON_A = """## Generative Adversarial Networks
<!-- id: gan -->

GANs consist of two neural networks: a generator and a discriminator. The generator creates synthetic data,
while the discriminator tries to tell real data from fake data.

## Variational Autoencoders
<!-- id: vae -->

A VAE has an encoder and a decoder. The encoder compresses input data into a latent space.

- The decoder reconstructs data from the latent space.
- VAEs can sample new data from the latent space.
"""

LESSON_B = """## Sampling Temperature
<!-- id: sampling-temperature -->

Sampling temperature controls how random the model's choices are. A low temperature makes the output
predictable. A high temperature makes the output more diverse and creative.

## Use cases
<!-- id: use-cases -->

| Use case | Generative AI | Traditional AI |
| --- | --- | --- |
| Healthcare | Assists in drug discovery | Diagnosis by doctors |
"""

SECTIONS = {
    "a.md": [
        ("gan", "Generative Adversarial Networks (GANs)"),
        ("vae", "Variational Autoencoders (VAEs)"),
    ],
    "b.md": [("sampling-temperature", "Sampling Temperature"), ("use-cases", "Generative AI vs Traditional AI")],
}


def _bodies(text: str) -> dict[str, str]:
    out, current = {}, None
    for block in text.split("## ")[1:]:
        head, _, body = block.partition("\n")
        sid = body.split("id: ", 1)[1].split(" ", 1)[0]
        out[sid] = body.split("-->", 1)[1].strip()
    return out


def make_course(root: Path, lesson_a: str = LESSON_A, lesson_b: str = LESSON_B) -> Course:
    """A two-lesson course on disk (content_hash reads the files) and its objects."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "a.md").write_text(lesson_a)
    (root / "b.md").write_text(lesson_b)
    (root / "course.yaml").write_text("id: tiny\n")
    lessons = []
    for n, (file, text) in enumerate((("a.md", lesson_a), ("b.md", lesson_b))):
        bodies = _bodies(text)
        sections = tuple(
            Section(id=sid, title=title, text=bodies[sid], lesson_id=f"l{n}", source=file)
            for sid, title in SECTIONS[file]
        )
        lessons.append(Lesson(id=f"l{n}", title=f"Lesson {n}", file=file, sections=sections))
    return Course(
        id="tiny",
        title="Tiny",
        root=root,
        objectives=(Objective(id="o", text="Know things."),),
        concepts=(Concept(id="gan", name="GAN", objective="o"),),
        lessons=tuple(lessons),
        files=("course.yaml", "a.md", "b.md"),
    )


@pytest.fixture
def course(tmp_path: Path) -> Course:
    return make_course(tmp_path / "course")


@pytest.fixture
def retriever(course: Course, tmp_path: Path) -> Retriever:
    return Retriever.build(course, embedder=FakeEmbedder(), cache_dir=tmp_path / "cache")


# ---------------------------------------------------------------- text and passages
def test_sentences_split_markdown_lists_and_tables() -> None:
    got = sentences("Intro line one. Second one!\n\n- bullet **bold** item\n\n| A | B |\n| --- | --- |\n| x | y |\n")
    assert got == ["Intro line one.", "Second one!", "bullet bold item", "A: x; B: y."]


def test_terms_stem_and_singularise_acronyms() -> None:
    assert terms("RNNs and GANs generating") == ["rnn", "gan", "generat"]
    assert key_terms("what is the difference between GANs and VAEs?") == ["gan", "vae"]


def test_clean_query_truncates_huge_input() -> None:
    assert len(clean_query("word " * 100_000)) <= MAX_QUERY_CHARS


def test_short_section_is_one_titled_passage() -> None:
    (p,) = section_passages("s", "Title", "One sentence here.", PassageConfig())
    assert p.indexed == "Title. One sentence here." and p.text == "One sentence here."


def test_long_section_is_split_into_overlapping_windows() -> None:
    body = " ".join(f"Sentence number {i} has exactly seven words." for i in range(30))
    passages = section_passages("s", "T", body, PassageConfig(max_words=20, overlap=1, whole=True))
    assert passages[0].text.startswith("Sentence number 0") and len(passages[0].text.split()) > 100  # whole section
    windows = passages[1:]
    assert len(windows) > 5
    assert all(len(w.text.split()) <= 21 for w in windows)
    first, second = windows[0].text, windows[1].text
    assert first.split(". ")[-1].rstrip(".") in second  # one shared sentence
    assert all(p.indexed.startswith("T. ") for p in passages)


# ---------------------------------------------------------------- fusion
def test_ranks_and_rrf() -> None:
    dense = np.array([0.9, 0.1, 0.5])
    lexical = np.array([0.0, 3.0, 1.0])
    assert ranks(dense).tolist() == [1, 3, 2]
    fused = rrf(dense, lexical, k=60)
    assert fused.tolist() == pytest.approx([1 / 61, 1 / 63 + 1 / 61, 2 / 62])
    # an entry with no lexical evidence gets no lexical share, so it drops to last
    assert fused.argsort().tolist() == [0, 2, 1]


def test_convex_fusion_mixes_normalised_bm25() -> None:
    dense = np.array([0.5, 0.4], dtype=np.float32)
    lexical = np.array([0.0, 10.0], dtype=np.float32)
    assert max_normalise(lexical).tolist() == [0.0, 1.0]
    fused = fuse(dense, lexical, FusionConfig("convex", alpha=0.5))
    assert fused.tolist() == pytest.approx([0.25, 0.7])
    assert fuse(dense, lexical, FusionConfig("dense")).argmax() == 0
    assert fuse(dense, lexical, FusionConfig("lexical")).argmax() == 1
    with pytest.raises(ValueError):
        fuse(dense, lexical, FusionConfig("nope"))  # type: ignore[arg-type]


def test_convex_fusion_ranks_the_answer_first(course: Course, tmp_path: Path) -> None:
    """Dense and BM25 scores combine into one ranking with the right section on top."""
    r = Retriever.build(course, embedder=FakeEmbedder(), cache_dir=tmp_path / "c")
    scores = r.scores("what does the discriminator do")
    order, _ = r.rank(scores, FusionConfig("convex", alpha=0.7))
    assert r.sections[int(order[0])].id == "gan"


# ---------------------------------------------------------------- search
def test_known_question_finds_its_section(retriever: Retriever) -> None:
    res = retriever.search("how does the generator compete with the discriminator?", k=3)
    assert isinstance(res, SearchResult)
    assert res.hits[0].section_id == "gan"
    assert res.hits[0].title == "Generative Adversarial Networks (GANs)"
    assert [h.score for h in res.hits] == sorted((h.score for h in res.hits), reverse=True)
    assert len(res.hits) == 3
    assert "discriminator" in res.hits[0].text


def test_table_row_is_searchable(retriever: Retriever) -> None:
    assert retriever.search("drug discovery healthcare").hits[0].section_id == "use-cases"


@pytest.mark.parametrize("query", ["", "   ", "?!", "\n"])
def test_empty_query_is_out_of_scope_without_hits(retriever: Retriever, query: str) -> None:
    res = retriever.search(query)
    assert res.hits == [] and res.in_scope is False and res.scope_score == 0.0


def test_huge_query_does_not_crash(retriever: Retriever) -> None:
    res = retriever.search("latent space " * 50_000, k=2)
    assert res.hits[0].section_id == "vae"


def test_k_is_clipped_and_validated(retriever: Retriever) -> None:
    assert len(retriever.search("temperature", k=100).hits) == 4
    with pytest.raises(RetrievalError):
        retriever.search("temperature", k=0)


def test_best_sentences_in_text_order(retriever: Retriever) -> None:
    got = retriever.best_sentences("what does the decoder reconstruct from the latent space", "vae", n=2)
    texts = [t for t, _ in got]
    assert len(texts) == 2
    assert "The decoder reconstructs data from the latent space." in texts
    order = retriever.section_sentences("vae")
    assert [order.index(t) for t in texts] == sorted(order.index(t) for t in texts)
    assert retriever.best_sentences("anything", "vae", n=0) == []
    with pytest.raises(RetrievalError):
        retriever.best_sentences("x", "no-such-section")


def test_sections_and_result_json(retriever: Retriever) -> None:
    assert [s.id for s in retriever.sections] == ["gan", "vae", "sampling-temperature", "use-cases"]
    data = retriever.search("temperature randomness", k=2).to_dict()
    assert set(data) == {"query", "in_scope", "scope_score", "hits"}
    assert set(data["hits"][0]) >= {"section_id", "title", "score", "text"}
    json.dumps(data)


# ---------------------------------------------------------------- cache
def test_index_is_cached_and_reused(course: Course, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = FakeEmbedder()
    r1 = Retriever.build(course, embedder=first, cache_dir=cache)
    assert r1.stats.cache_hit is False and first.calls == 1
    assert len(list(cache.glob("*.npz"))) == 1
    second = FakeEmbedder()
    r2 = Retriever.build(course, embedder=second, cache_dir=cache)
    assert r2.stats.cache_hit is True and second.calls == 0
    assert r2.search("latent space").hits[0].section_id == "vae"


def test_changed_course_file_rebuilds_and_prunes(course: Course, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Retriever.build(course, embedder=FakeEmbedder(), cache_dir=cache)
    old = set(cache.glob("*.npz"))
    changed = make_course(course.root, lesson_b=LESSON_B.replace("predictable", "boring and predictable"))
    emb = FakeEmbedder()
    r = Retriever.build(changed, embedder=emb, cache_dir=cache)
    assert r.stats.cache_hit is False and emb.calls == 1
    now = set(cache.glob("*.npz"))
    assert len(now) == 1 and now != old  # the stale index was removed
    assert "boring" in r.search("temperature").hits[0].text


def test_course_file_change_outside_sections_also_rebuilds(course: Course, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Retriever.build(course, embedder=FakeEmbedder(), cache_dir=cache)
    (course.root / "course.yaml").write_text("id: tiny\nversion: '2'\n")
    emb = FakeEmbedder()
    assert Retriever.build(course, embedder=emb, cache_dir=cache).stats.cache_hit is False


def test_other_model_gets_its_own_index(course: Course, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Retriever.build(course, embedder=FakeEmbedder("fake-a"), cache_dir=cache)
    emb = FakeEmbedder("fake-b")
    assert Retriever.build(course, embedder=emb, cache_dir=cache).stats.cache_hit is False
    assert len(list(cache.glob("*.npz"))) == 2


def test_corrupt_cache_is_rebuilt(course: Course, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    r = Retriever.build(course, embedder=FakeEmbedder(), cache_dir=cache)
    r.stats.cache_file.write_bytes(b"not an npz")
    emb = FakeEmbedder()
    again = Retriever.build(course, embedder=emb, cache_dir=cache)
    assert again.stats.cache_hit is False and emb.calls == 1
    assert again.search("latent").hits[0].section_id == "vae"


def test_default_cache_dir_follows_tutor_home(course: Course, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TUTOR_HOME", str(tmp_path / "home"))
    Retriever.build(course, embedder=FakeEmbedder())
    assert list((tmp_path / "home" / "cache" / "index").glob("tiny-*.npz"))


def test_course_without_sections_is_an_error(tmp_path: Path) -> None:
    empty = Course(id="e", title="E", root=tmp_path, objectives=(), concepts=(), lessons=())
    with pytest.raises(RetrievalError):
        Retriever.build(empty, embedder=FakeEmbedder(), cache_dir=tmp_path)


# ---------------------------------------------------------------- scope
def test_scope_features_flag_foreign_terms(retriever: Retriever) -> None:
    on = retriever.scores("what does the discriminator do in gans").features
    near = retriever.scores("how does xgboost compute gradient boosting leaves").features
    assert on.cover == pytest.approx(1.0) and on.foreign == 0
    assert near.cover < 0.5 and near.foreign == 1.0


def test_default_scope_rule_declines_off_topic(retriever: Retriever) -> None:
    assert retriever.scope.fitted_on.startswith("default")  # a fake embedder has no calibration
    assert retriever.search("discriminator generator fake data").in_scope is True
    assert retriever.search("who won the football world cup in 2018").in_scope is False


def test_scope_model_probability_is_monotone_and_roundtrips(tmp_path: Path) -> None:
    m = ScopeModel.default()
    low, high = ScopeFeatures(0.2, 0, 0, 0), ScopeFeatures(0.6, 0, 0, 0)
    assert m.probability(low) < 0.5 < m.probability(high)
    assert m.probability(ScopeFeatures(0.6, 0, 0, 3)) < m.probability(high)
    path = tmp_path / "scope.json"
    m.save(path)
    assert ScopeModel.load(path) == m
    path.write_text("{")
    with pytest.raises(RetrievalError):
        ScopeModel.load(path)


def test_fit_scope_separates_labelled_rows() -> None:
    rng = np.random.default_rng(0)
    rows = [(ScopeFeatures(float(rng.uniform(0.5, 0.8)), 1.0, 1.0, 0.0), True) for _ in range(20)]
    rows += [(ScopeFeatures(float(rng.uniform(0.0, 0.3)), 0.1, 0.3, 2.0), False) for _ in range(8)]
    m = fit_scope(rows, "fake")
    assert all(m.decide(f)[0] == y for f, y in rows)
    with pytest.raises(RetrievalError):
        fit_scope(rows[:5], "fake")


def test_calibration_applies_only_to_its_own_model(course: Course, tmp_path: Path) -> None:
    class WithAdapter(FakeEmbedder):
        adapter_dir = tmp_path / "ad"

    emb = WithAdapter("fake+ad@1")
    scope = ScopeModel((1.0, 0, 0, 0), 0.0, (0.3, 0, 0, 0), (1, 1, 1, 1), model_id="fake+ad@1", fitted_on="test")
    fitted = Calibration("fake+ad@1", FusionConfig("rrf"), scope)
    fitted.save(tmp_path / "ad" / "calibration.json")
    assert calibration_for(emb) == fitted
    r = Retriever.build(course, embedder=emb, cache_dir=tmp_path / "c")
    assert r.config.fusion == FusionConfig("rrf") and r.scope == scope
    emb.model_id = "fake+ad@2"  # retrained adapter, stale calibration: defaults
    assert calibration_for(emb) is None
    assert Retriever.build(course, embedder=emb, cache_dir=tmp_path / "c").scope.fitted_on.startswith("default")
    assert calibration_for(FakeEmbedder()) is None
    (tmp_path / "ad" / "calibration.json").write_text("{}")
    with pytest.raises(RetrievalError, match="bad retrieval calibration"):
        calibration_for(WithAdapter("x"))


def test_cross_fitting_folds_hold_out_dev_questions_only() -> None:
    from tutor.retrieval.pipeline import fold_of, without_fold

    ds = DevSet(
        in_scope=tuple(InScopeQuestion(f"q{i}", f"question {i}", ("gan",), "dev") for i in range(20))
        + (InScopeQuestion("h1", "held", ("gan",), "heldout"),),
        out_of_scope=(),
    )
    folds = {fold_of(q.id, 2) for q in ds.in_scope}
    assert folds == {0, 1}
    for k in (0, 1):
        cut = without_fold(ds, k, 2)
        out = [q for q in cut.in_scope if q.split == "cv-out"]
        assert out and all(fold_of(q.id, 2) == k for q in out)
        assert [q.split for q in cut.in_scope if q.id == "h1"] == ["heldout"]


# ---------------------------------------------------------------- dev set, pairs, metrics
def _devset() -> DevSet:
    return DevSet(
        in_scope=(
            InScopeQuestion("q1", "what does the discriminator do", ("gan",), "dev"),
            InScopeQuestion("q2", "what is the latent space for", ("vae", "gan"), "heldout"),
        ),
        out_of_scope=(OutOfScopeQuestion("o1", "capital of france", "off-topic", "heldout"),),
    )


def test_pairs_never_contain_heldout_questions(course: Course) -> None:
    from tutor.retrieval.pairs import TrainingPair, check_no_heldout, generate_pairs

    pairs = generate_pairs(course, _devset())
    anchors = {p.anchor for p in pairs}
    assert "what does the discriminator do" in anchors  # dev split is used
    assert "what is the latent space for" not in anchors  # heldout never
    assert {p.source for p in pairs} >= {"title", "sentence", "dev"}
    assert all(p.section_id in p.relevant for p in pairs)
    leaked = pairs + [TrainingPair("capital of france", "gan", frozenset({"gan"}), "dev")]
    with pytest.raises(RetrievalError):
        check_no_heldout(leaked, _devset())


def test_ranking_metrics_by_ranx() -> None:
    from tutor.retrieval.evaluate import ranking_metrics

    runs = {"a": {"x": 0.9, "y": 0.5, "z": 0.1}, "b": {"x": 0.9, "y": 0.5, "z": 0.1}}
    m = ranking_metrics(runs, {"a": ("x",), "b": ("z", "y")})
    assert m.recall_at_1 == pytest.approx(0.5)  # b's sections are 2nd and 3rd
    assert m.recall_at_3 == pytest.approx(1.0)
    assert m.mrr == pytest.approx((1 + 1 / 2) / 2)
    assert m.first_at_1 == pytest.approx(0.5)


def test_evaluate_retriever_reports_methods_and_scope(retriever: Retriever) -> None:
    from tutor.retrieval.evaluate import evaluate_retriever

    report = evaluate_retriever(retriever, _devset())
    assert set(report.ranking) == {"dense", "lexical", "fused"}
    assert report.ranking["fused"].n == 2
    assert report.scope is not None and report.scope.n_off == 1 and report.scope.n_in == 2


def test_devset_loader_checks_entries(tmp_path: Path) -> None:
    good = tmp_path / "q.yaml"
    good.write_text(
        "in_scope:\n  - {id: q1, question: hi, sections: [gan], split: dev}\n"
        "out_of_scope:\n  - {id: o1, question: yo, kind: near-topic, split: heldout}\n"
    )
    ds = load_devset(good)
    assert ds.split("dev").in_scope[0].sections == ("gan",) and ds.split("dev").out_of_scope == ()
    bad = tmp_path / "bad.yaml"
    bad.write_text("in_scope:\n  - {id: q1}\n")
    with pytest.raises(RetrievalError, match="in_scope entry 1"):
        load_devset(bad)
    with pytest.raises(RetrievalError, match="no dev set"):
        load_devset(tmp_path / "missing.yaml")


# ---------------------------------------------------------------- CLI (fake retriever)
@pytest.fixture
def fake_cli(monkeypatch, retriever: Retriever):
    import tutor.retrieval.service as service

    monkeypatch.setattr(service, "open_retriever", lambda course=None, adapter=None: retriever)
    from click.testing import CliRunner

    from tutor.cli.main import cli

    return lambda args, stdin=None: CliRunner().invoke(cli, args, input=stdin)


def test_cli_search_json_stdin_one_line_per_query(fake_cli) -> None:
    result = fake_cli(["search", "-", "--json", "--k", "2"], "latent space\n\ntemperature randomness\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [d["query"] for d in lines] == ["latent space", "temperature randomness"]
    assert lines[0]["hits"][0]["section_id"] == "vae" and len(lines[1]["hits"]) == 2


def test_cli_search_readable(fake_cli) -> None:
    result = fake_cli(["search", "discriminator generator"])
    assert result.exit_code == 0
    assert "[gan]" in result.output and "covered by the course" in result.output


def test_cli_search_error_is_one_line(monkeypatch) -> None:
    import tutor.retrieval.service as service

    def broken(course=None, adapter=None):
        raise RetrievalError("no embedder adapter in /nowhere")

    monkeypatch.setattr(service, "open_retriever", broken)
    from click.testing import CliRunner

    from tutor.cli.main import cli

    result = CliRunner().invoke(cli, ["search", "x", "--adapter", "/nowhere"])
    assert result.exit_code == 1 and "Error: no embedder adapter" in result.output
    assert "Traceback" not in result.output


def test_bad_adapter_path_is_a_retrieval_error(tmp_path: Path) -> None:
    from tutor.retrieval.embedder import resolve_adapter

    with pytest.raises(RetrievalError, match="no embedder adapter"):
        resolve_adapter(tmp_path)
    assert resolve_adapter("none") is None


# ---------------------------------------------------------------- eval / bench plumbing (fake embedder)
@pytest.fixture
def fake_models(monkeypatch):
    import tutor.retrieval.embedder as embedder

    monkeypatch.setattr(embedder, "load_embedder", lambda adapter=None: FakeEmbedder())
    monkeypatch.setattr(embedder, "resolve_adapter", lambda adapter=None: None)


def test_cli_eval_retrieval_json_and_table(fake_models, tmp_path: Path, monkeypatch) -> None:
    from click.testing import CliRunner

    from tutor.cli.main import cli

    monkeypatch.setenv("TUTOR_HOME", str(tmp_path))
    course = make_course(tmp_path / "course")
    questions = tmp_path / "q.yaml"
    questions.write_text(
        "in_scope:\n"
        "  - {id: q1, question: what does the discriminator do, sections: [gan], split: heldout}\n"
        "  - {id: q2, question: how random is a high temperature, sections: [sampling-temperature], split: heldout}\n"
        "  - {id: q3, question: latent space decoder, sections: [vae], split: dev}\n"
        "out_of_scope:\n"
        "  - {id: o1, question: who won the world cup, kind: off-topic, split: heldout}\n"
        "  - {id: o2, question: how does xgboost pick splits, kind: near-topic, split: heldout}\n"
    )
    import tutor.retrieval.service as service

    monkeypatch.setattr(service, "open_course", lambda path=None: course)
    runner = CliRunner()
    result = runner.invoke(cli, ["eval", "retrieval", "--json", "--questions", str(questions)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["split"] == "heldout" and report["n_in_scope"] == 2
    assert report["n_off_topic"] == 1 and report["n_near_topic"] == 1
    base = report["embedders"]["base"]
    # the dev question is an example-question key for the heldout split; the shipped training
    # questions name sections this course lacks, so they are not its keys
    assert report["question_keys"] == 1
    assert set(base["ranking"]) == {"lexical", "dense", "fused (RRF)", "fused, no question keys", "fused"}
    assert base["ranking"]["fused"]["recall_at_1"] == pytest.approx(1.0)
    assert set(report["goals_met"]) == {"recall_at_1", "recall_at_3", "out_of_scope_declined", "in_scope_refused_max"}
    from tutor.cli.eval_retrieval import _table

    table = _table(report)
    assert "R@1" in table and "2 in-scope, 1 off-topic, 1 near-topic" in table


def test_percentile_and_svg_figures() -> None:
    import xml.etree.ElementTree as ET

    from tutor.retrieval.bench import _percentile
    from tutor.retrieval.figures import bar_chart, line_chart

    assert _percentile([1, 2, 3, 4, 5], 0.5) == 3 and _percentile([1, 2], 0.95) == pytest.approx(1.95)
    ET.fromstring(line_chart("loss", {"loss": [2.0, 1.0, 0.5]}, "step", "ce"))
    ET.fromstring(bar_chart("r", {"base dev": {"R@1": 0.8}, "tuned <dev>": {"R@1": 0.9}}, "share"))


def test_query_scaled_fusion_rewards_rare_term_matches() -> None:
    dense = np.array([0.5, 0.5], dtype=np.float32)
    lexical = np.array([2.0, 1.0], dtype=np.float32)
    config = FusionConfig("convex", alpha=0.5, lexical_norm="query")
    assert fuse(dense, lexical, config, lexical_scale=4.0).tolist() == pytest.approx([0.5, 0.375])
    assert fuse(dense, lexical, config, lexical_scale=0.0).tolist() == pytest.approx([0.25, 0.25])
    # max scaling would give the best lexical match full weight whatever the query
    assert fuse(dense, lexical, FusionConfig("convex", alpha=0.5)).tolist() == pytest.approx([0.75, 0.5])


def test_scope_fit_takes_extra_out_of_scope_training_questions(retriever: Retriever) -> None:
    from tutor.retrieval.calibrate import fit_calibration, score_devset

    dev = DevSet(
        in_scope=tuple(InScopeQuestion(f"q{i}", q, (sid,), "dev") for i, (q, sid) in enumerate([
            ("what does the discriminator do", "gan"), ("generator and discriminator", "gan"),
            ("what is the latent space", "vae"), ("encoder compresses input data", "vae"),
            ("low temperature output", "sampling-temperature"), ("how random are the choices", "sampling-temperature"),
            ("drug discovery healthcare", "use-cases"), ("diagnosis by doctors", "use-cases"),
        ])),
        out_of_scope=(OutOfScopeQuestion("o1", "recipe for sourdough bread", "off-topic", "dev"),
                      OutOfScopeQuestion("o2", "capital city of peru", "off-topic", "dev")),
    )
    extra = DevSet((), tuple(OutOfScopeQuestion(f"t{i}", q, "near-topic", "train") for i, q in enumerate(
        ["q-learning reward table update", "kernel trick svm margin", "k-means centroid elbow"])))
    rows = score_devset(retriever, dev)
    plain, _ = fit_calibration(retriever, rows, "fake")
    with_extra, _ = fit_calibration(retriever, rows, "fake", extra_out=score_devset(retriever, extra))
    assert "plus 3 out-of-scope training questions" in with_extra.scope.fitted_on
    assert "training questions" not in plain.scope.fitted_on
    assert with_extra.scope.weights != plain.scope.weights  # the extra rows really entered the fit
    # the threshold sweep stays a dev-split table: no near-topic dev questions, so nothing is counted there
    assert all(r["near_topic_declined"] == 0.0 for r in with_extra.scope.calibration["dev_sweep"])


def test_parallel_training_reports_a_worker_error(tmp_path: Path) -> None:
    """`tutor train-embedder --jobs N` trains in spawned processes: a failure there must surface as
    the same one-line RetrievalError, not hang or vanish."""
    from tutor.retrieval.pipeline import train_in_parallel
    from tutor.retrieval.training import TrainConfig

    ds = DevSet((InScopeQuestion("q1", "what is a gan", ("gan",), "dev"),), ())
    with pytest.raises(RetrievalError, match="course folder not found"):
        train_in_parallel(str(tmp_path / "missing"), {"fold0": (ds, tmp_path / "a"), "final": (ds, tmp_path / "b")},
                          TrainConfig(), 2)
