"""The answer evaluation: fact matching, question loading and the figures (scripted tutor, no model)."""

from __future__ import annotations

import pytest

from tutor.llm.errors import LLMError
from tutor.llm.evaluate import facts_stated, limit_cases, load_cases, own_words, run_eval
from tutor.llm.types import AnswerResult, Evidence

QUESTIONS = """
version: 1
in_scope:
  - id: q1
    question: "what does the discriminator do?"
    sections: [gan]
    answer: "It tells real from fake data."
    key_facts: [["real", "genuine"], ["fake"]]
    split: dev
  - id: q2
    question: "what is a vae?"
    sections: [vae]
    answer: "An encoder and a decoder."
    key_facts: [["encoder"], ["decoder"]]
    split: dev
  - id: q3
    question: "held out one"
    sections: [gan]
    answer: "x"
    key_facts: [["x"]]
    split: heldout
out_of_scope:
  - id: o1
    question: "who won the world cup"
    kind: off-topic
    split: dev
  - id: o2
    question: "what is the capital of france"
    kind: off-topic
    split: dev
"""


class ScriptedTutor:
    model_id = "scripted"
    adapter_id = None

    def __init__(self, answers):
        self.answers = answers

    def ask(self, question, profile=None, history=()):
        answer, evidence, in_scope, grounded, *key = self.answers[question]
        return AnswerResult(
            key_sentence=key[0] if key else "",
            question=question,
            answer=answer,
            evidence=[Evidence("s", "S", evidence)] if evidence else [],
            in_scope=in_scope,
            grounded=grounded,
            supported=None if grounded is None else grounded >= 0.5,
            timings={"ttft_ms": 900.0, "tokens_per_s": 20.0, "total_ms": 3000.0},
        )


@pytest.fixture
def questions(tmp_path):
    path = tmp_path / "questions.yaml"
    path.write_text(QUESTIONS)
    return path


def test_fact_matching_is_word_bounded_and_ignores_case_and_punctuation():
    assert facts_stated("The Discriminator spots FAKE data.", [["fake"], ["real", "genuine"]]) == [True, False]
    assert facts_stated("problem solving matters", [["problem-solving"]]) == [True]
    assert facts_stated("low temperatures", [["low temp"]]) == [True]  # inflections count
    assert facts_stated("an organ", [["gan"]]) == [False]  # a phrase inside a word does not
    assert facts_stated("DALL-E makes images", [["dall-e"]]) == [True]


def test_load_cases_by_split(questions):
    dev = load_cases(questions, "dev")
    assert [c.id for c in dev] == ["q1", "q2", "o1", "o2"]
    assert [c.id for c in load_cases(questions, "heldout")] == ["q3"]
    assert len(load_cases(questions, "all")) == 5
    assert [c.id for c in limit_cases(dev, 1)] == ["q1", "o1"]
    with pytest.raises(LLMError, match="split"):
        load_cases(questions, "train")


def test_bad_questions_file(tmp_path):
    bad = tmp_path / "q.yaml"
    bad.write_text("in_scope:\n  - id: q1\n")
    with pytest.raises(LLMError, match="missing"):
        load_cases(bad, "all")
    with pytest.raises(LLMError, match="cannot read"):
        load_cases(tmp_path / "nope.yaml")


def test_figures(questions):
    tutor = ScriptedTutor(
        {
            "what does the discriminator do?": ("It spots fake data and real data.", "real and fake data", True, 1.0),
            "what is a vae?": ("It has an encoder.", "an encoder and a decoder", True, 0.5),
            "who won the world cup": ("The course does not cover that.", "", False, None),
            "what is the capital of france": ("Paris.", "", True, 0.0),
        }
    )
    report = run_eval(tutor, load_cases(questions, "dev"))
    f = report.figures()
    assert f["key_fact_accuracy"] == pytest.approx((1.0 + 0.5) / 2)
    assert f["key_fact_all"] == pytest.approx(0.5)
    assert f["evidence_accuracy"] == pytest.approx(1.0)
    assert f["groundedness"] == pytest.approx(0.75)
    assert f["off_topic_declined"] == pytest.approx(0.5)
    assert f["in_scope_wrongly_declined"] == pytest.approx(0.0)
    assert f["mean_words"] == pytest.approx((7 + 4) / 2)
    assert f["ttft_ms_median"] == pytest.approx(900.0)
    assert f["key_fact_interval"] == (0.5, 1.0)  # two questions: 1.0 and 0.5 of their facts
    assert f["groundedness_interval"] == (0.5, 1.0)
    assert "key-fact accuracy" in report.table()
    assert "95% interval 0.500-1.000" in report.table()
    assert len(report.to_json(with_cases=True)["cases"]) == 4


def test_a_wrongly_declined_question_states_no_facts(questions):
    tutor = ScriptedTutor(
        {
            "what does the discriminator do?": ("The course does not cover that; real fake", "", False, None),
            "what is a vae?": ("encoder decoder", "encoder decoder", True, 1.0),
            "who won the world cup": ("declined", "", False, None),
            "what is the capital of france": ("declined", "", False, None),
        }
    )
    f = run_eval(tutor, load_cases(questions, "dev")).figures()
    assert f["in_scope_wrongly_declined"] == pytest.approx(0.5)
    assert f["key_fact_accuracy"] == pytest.approx(0.5)
    assert f["off_topic_declined"] == pytest.approx(1.0)


def test_eval_answers_measures_a_split_without_its_own_questions_as_search_keys(monkeypatch):
    """`tutor eval answers --split dev` must not let a dev question find itself as an example-question key."""
    from click.testing import CliRunner

    import tutor.llm.answer as answer
    from tutor.cli.main import cli
    from tutor.llm.errors import LLMError

    seen = []

    def fake_load(config):
        seen.append(config.keys_for_split)
        raise LLMError("stop here")

    monkeypatch.setattr(answer.Tutor, "load", staticmethod(fake_load))
    for split in ("dev", "heldout"):
        result = CliRunner().invoke(cli, ["eval", "answers", "--split", split, "--limit", "1"])
        assert result.exit_code != 0 and "stop here" in result.output
    assert seen == ["dev", "heldout"]


def test_tutor_load_builds_its_index_with_the_keys_of_the_split(monkeypatch):
    import tutor.llm.loader as loader
    import tutor.retrieval as retrieval
    from tutor.llm.answer import Tutor, TutorConfig
    from tutor.llm.errors import LLMError

    built = {}

    def fake_build(course, embedder=None, **kwargs):
        built["keys"] = kwargs.get("question_keys")
        raise retrieval.RetrievalError("stop here")

    monkeypatch.setattr(loader, "load_model", lambda *a, **k: None)
    monkeypatch.setattr(retrieval, "load_embedder", lambda *a, **k: object())
    monkeypatch.setattr(retrieval.Retriever, "build", staticmethod(fake_build))
    for split in ("dev", None):
        with pytest.raises(LLMError, match="stop here"):
            Tutor.load(TutorConfig(keys_for_split=split))
        if split is None:
            assert built["keys"] is None  # the shipped keys
        else:
            questions = {k.question for k in built["keys"]}
            dev = {c.question for c in load_cases(split="dev")}
            assert built["keys"] and not questions & dev  # no dev question is its own key


def test_own_words_leave_out_the_quoted_lesson_opening(questions):
    assert own_words("Real or fake data. In simple words, it checks.", "Real or fake data.") == "In simple words, it checks."
    assert own_words("Lesson row: GAN | fake. It checks.", "Lesson row: GAN | fake") == "It checks."  # the seed closed it
    assert own_words("It checks real data.", "Real or fake data.") == "It checks real data."  # no seeded opening
    assert own_words("Real or fake data.", "Real or fake data.") == ""
    tutor = ScriptedTutor(
        {
            # both facts only in the quoted lesson sentence: the model's own words add none
            "what does the discriminator do?": ("It tells real from fake. It helps.", "real fake", True, 1.0,
                                                "It tells real from fake."),
            # the encoder is quoted, the decoder is the model's own
            "what is a vae?": ("A VAE has an encoder. Also a decoder.", "encoder decoder", True, 1.0,
                               "A VAE has an encoder."),
            "who won the world cup": ("declined", "", False, None),
            "what is the capital of france": ("declined", "", False, None),
        }
    )
    f = run_eval(tutor, load_cases(questions, "dev")).figures()
    assert f["key_fact_accuracy"] == pytest.approx(1.0)
    assert f["key_fact_own_words"] == pytest.approx((0.0 + 0.5) / 2)
    assert "own words" in run_eval(tutor, load_cases(questions, "dev")).table()
