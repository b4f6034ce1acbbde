"""Base-vs-adapter comparison helpers (no models): decline detection, diversity, paired figures."""

from __future__ import annotations

import json

from tutor.llm.compare import declines, distinct_n, figures_from_records, leaning_section
from tutor.llm.types import Evidence


def test_declines_recognises_lesson_does_not_cover() -> None:
    assert declines("The lesson does not cover mode collapse.")
    assert declines("Sorry, beam search is outside this lesson, so I won't guess.")
    assert declines("The course does not cover that, so I won't answer it from memory.")
    assert not declines("A GAN has a generator and a discriminator.")
    assert not declines("The lesson says transformers do not rely on recurrent layers.")


def test_distinct_2() -> None:
    assert distinct_n(["a b c d"]) == 1.0
    assert distinct_n(["a b a b a b"]) == 2 / 5
    assert distinct_n([]) == 0.0


def test_leaning_section_picks_the_most_shared_passage() -> None:
    ev = [Evidence("gan", "GANs", "a generator and a discriminator compete"), Evidence("vae", "VAEs", "an encoder and a decoder")]
    assert leaning_section("The generator fools the discriminator.", ev) == "gan"


def test_paired_figures_use_only_cases_both_models_finished(tmp_path) -> None:
    recs = [
        {"kind": "in", "model": "base", "id": "q1", "answer": "x", "in_scope": True, "facts": [True, False],
         "grounded": 0.5, "supported": False, "lean": "gan", "gold": ["gan"], "ttft_ms": 10, "tokens_per_s": 5},
        {"kind": "in", "model": "adapter", "id": "q1", "answer": "y z", "in_scope": True, "facts": [True, True],
         "grounded": 1.0, "supported": True, "lean": "vae", "gold": ["gan"], "ttft_ms": 8, "tokens_per_s": 6},
        {"kind": "in", "model": "base", "id": "q2", "answer": "only base finished", "in_scope": True, "facts": [True],
         "grounded": 1.0, "supported": True, "lean": "gan", "gold": ["gan"]},
        {"kind": "out", "model": "base", "id": "o1", "answer": "Sure, here is how.", "pipeline_declined": True, "model_declined": False},
        {"kind": "out", "model": "adapter", "id": "o1", "answer": "The lesson does not cover that.", "pipeline_declined": True, "model_declined": True},
    ]
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in recs))
    res = figures_from_records(path)
    base, adapter = res["figures"]["base"], res["figures"]["adapter"]
    assert res["cases"]["in"] == 1  # q2 is not paired
    assert base["key_fact"] == 0.5 and adapter["key_fact"] == 1.0
    assert adapter["wrong_evidence"] == 1.0 and base["wrong_evidence"] == 0.0
    assert adapter["model_declined_off_topic"] == 1.0 and base["model_declined_off_topic"] == 0.0
    assert "| key-fact accuracy | 0.500 | 1.000 |" in res["table_md"]


def test_goals_judge_scope_through_the_full_pipeline() -> None:
    from tutor.llm.compare import goals_notes

    base = {"key_fact": 0.70, "groundedness": 0.6}
    adapter = {"key_fact": 0.86, "groundedness": 0.91, "pipeline_declined_off_topic": 0.93,
               "model_declined_off_topic": 0.10, "in_scope_wrongly_declined": 0.02, "fk_beginner": 8.0, "fk_advanced": 11.5}
    notes = goals_notes({"base": base, "adapter": adapter})
    scope = next(n for n in notes if n.startswith("off-topic"))
    assert "0.930 -> met" in scope and "gate bypassed: 0.100" in scope
    assert any(n.startswith("key-fact") and n.endswith("met") and "MISSED" not in n for n in notes)
    assert any(n.startswith("beginner") and "3.50 -> met" in n for n in notes)
    adapter["pipeline_declined_off_topic"] = 0.85
    adapter["key_fact"] = 0.84
    notes = goals_notes({"base": base, "adapter": adapter})
    assert next(n for n in notes if n.startswith("off-topic")).split(" (the model")[0].endswith("MISSED")
    assert next(n for n in notes if n.startswith("key-fact")).endswith("MISSED")


def test_compare_counts_facts_in_the_models_own_words_apart_from_the_quoted_lesson() -> None:
    from tutor.llm.compare import evaluate_model
    from tutor.llm.evaluate import EvalCase
    from tutor.llm.types import AnswerResult

    quote = "A GAN pits a generator against a discriminator."

    class Scripted:
        def __init__(self, own: str) -> None:
            self.own = own

        def ask(self, question, profile=None, history=()):
            return AnswerResult(question=question, answer=f"{quote} {self.own}".strip(), key_sentence=quote,
                                evidence=[Evidence("gan", "GANs", quote)], grounded=1.0, supported=True)

    cases = [EvalCase(id="q1", question="what is a gan?", in_scope=True, split="dev", sections=("gan",),
                      key_facts=(("generator",), ("adversarial", "compete")))]
    figs = {name: evaluate_model(name, lambda t, r, own=own: Scripted(own), cases, readability_n=0, diversity_n=0)
            for name, own in (("base", ""), ("adapter", "In simple words, the two compete."))}
    assert figs["base"].key_fact == 0.5 and figs["adapter"].key_fact == 1.0
    assert figs["base"].key_fact_own == 0.0  # the quoted lesson sentence is not the model's
    assert figs["adapter"].key_fact_own == 0.5


def test_the_card_shows_answers_of_both_models_side_by_side() -> None:
    from tutor.llm.compare import side_by_side_md
    from tutor.llm.train import render_card

    answers = {
        "base": [{"id": "q1", "question": "what is a gan?", "answer": "A GAN | has two nets.", "facts": [True, False]},
                 {"id": "o1", "question": "who won?", "answer": "Sure: France.", "forced": True},
                 {"id": "q1", "level": "beginner", "question": "what is a gan?", "answer": "Two players."},
                 {"id": "q2", "question": "only the base answered", "answer": "x"}],
        "adapter": [{"id": "q1", "question": "what is a gan?", "answer": "A generator and a discriminator.",
                     "facts": [True, True]},
                    {"id": "o1", "question": "who won?", "answer": "The lesson does not cover that.", "forced": True},
                    {"id": "q1", "level": "beginner", "question": "what is a gan?", "answer": "An artist and a critic."}],
    }
    md = side_by_side_md(answers)
    rows = md.splitlines()[2:]
    assert rows == [
        "| what is a gan? (intermediate) | A GAN \\| has two nets. (1/2 key facts) | A generator and a discriminator. (2/2 key facts) |",
        "| what is a gan? (beginner) | Two players. | An artist and a critic. |",
    ]
    card = render_card({"name": "x", "evaluation": {"table_md": "| figure |", "answers_md": md}})
    assert "### Answers side by side" in card and "An artist and a critic." in card
    assert side_by_side_md({"base": answers["base"]}) == ""
