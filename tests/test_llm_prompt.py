"""The prompt builder: format, learner profile, and the token budget under long histories and passages."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from tutor.llm.errors import LLMError  # noqa: E402
from tutor.llm.prompt import (  # noqa: E402
    OPENERS,
    PromptPassage,
    PromptRequest,
    answer_opening,
    answer_request,
    answer_stop_strings,
    build_prompt,
    messages_for,
    render,
    without_opener,
)
from tutor.llm.testing import tiny_tokenizer  # noqa: E402

GAN = PromptPassage("gan", "Generative Adversarial Networks", "A gan has two neural networks. The generator create fake data. The discriminator knows real data.")
VAE = PromptPassage("vae", "Variational Autoencoders", "A vae has an encoder and a decoder. The latent space is simple.")


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


def _long_passage(n: int, sid: str = "long") -> PromptPassage:
    return PromptPassage(sid, "Long", " ".join(f"The generator create fake data number {i}." for i in range(n)))


def test_layout_and_generation_prompt(tok):
    req = PromptRequest(question="what does the generator do?", passages=(GAN, VAE), level="beginner", style="analogy")
    text = render(tok, req)
    assert text.endswith("<|im_start|>assistant\n")
    assert text.index("Generative Adversarial Networks") < text.index("Variational Autoencoders") < text.index("Question: what does")
    system = messages_for(req)[0]["content"]
    assert "beginner" in system and "analogy" in system


def test_weak_concepts_and_key_sentence_appear(tok):
    req = PromptRequest(question="q?", passages=(GAN,), weak_concepts=("LSTM", "GAN"), key_sentence="The generator create fake data.")
    msgs = messages_for(req)
    assert "LSTM, GAN" in msgs[0]["content"]
    assert msgs[-1]["content"].rstrip().endswith("Key sentence: The generator create fake data.")


def test_answer_start_is_the_end_of_the_prompt(tok):
    seed = answer_opening(["The generator create fake data."], "example")
    text = render(tok, PromptRequest(question="q?", passages=(GAN,), answer_start=seed))
    assert text.endswith("<|im_start|>assistant\nThe generator create fake data. For example,")
    assert answer_opening([], "concise") == OPENERS["concise"]
    assert "\n" in answer_stop_strings("example") and "\n" not in answer_stop_strings("step-by-step")


def test_bad_profile_and_roles_are_domain_errors(tok):
    with pytest.raises(LLMError, match="level"):
        render(tok, PromptRequest(question="q", level="expert"))
    with pytest.raises(LLMError, match="style"):
        render(tok, PromptRequest(question="q", style="poem"))
    with pytest.raises(LLMError, match="roles"):
        render(tok, PromptRequest(question="q", history=(("system", "x"),)))


def test_fits_without_cuts(tok):
    built = build_prompt(tok, PromptRequest(question="what is a gan?", passages=(GAN,)), context_tokens=2048, reserve=160)
    assert built.dropped_turns == built.trimmed_sentences == built.dropped_passages == 0
    assert built.input_ids == tok(built.text, add_special_tokens=False)["input_ids"]


@pytest.mark.parametrize("turns", [0, 40, 300])
@pytest.mark.parametrize("passage_sentences", [1, 400])
@pytest.mark.parametrize("window,reserve", [(512, 160), (2048, 300)])
def test_budget_is_never_exceeded(tok, turns, passage_sentences, window, reserve):
    history = tuple(
        ("user" if i % 2 == 0 else "assistant", f"turn {i}: " + "the discriminator knows real data . " * (1 + i % 7))
        for i in range(turns)
    )
    req = PromptRequest(
        question="what does the generator do?",
        passages=(_long_passage(passage_sentences, "a"), _long_passage(passage_sentences, "b"), GAN),
        history=history,
    )
    built = build_prompt(tok, req, context_tokens=window, reserve=reserve)
    assert built.tokens <= window - reserve
    assert built.input_ids == tok(built.text, add_special_tokens=False)["input_ids"]
    assert "what does the generator do?" in built.text


def test_oldest_turns_go_first_and_passages_are_trimmed_last(tok):
    history = tuple(("user" if i % 2 == 0 else "assistant", f"turn {i} " + "gan vae " * 30) for i in range(20))
    req = PromptRequest(question="what is a gan?", passages=(GAN, VAE), history=history)
    full = build_prompt(tok, req, context_tokens=8192, reserve=0).tokens
    built = build_prompt(tok, req, context_tokens=full - 100 + 160, reserve=160)
    assert 0 < built.dropped_turns < 20
    assert "turn 19" in built.text and "turn 0 " not in built.text  # newest kept, oldest dropped
    assert built.trimmed_sentences == 0 and built.dropped_passages == 0  # passages untouched while turns remain
    kept = [m for m in built.messages[1:-1]]
    assert kept[-1]["content"].startswith("turn 19")


def test_passages_trimmed_from_the_last_one(tok):
    first = _long_passage(20, "first")
    last = _long_passage(20, "last")
    req = PromptRequest(question="what is a gan?", passages=(first, last), history=(("user", "hi"), ("assistant", "hello")))
    full = build_prompt(tok, req, context_tokens=8192, reserve=0).tokens
    built = build_prompt(tok, req, context_tokens=full - 60, reserve=0)
    assert built.dropped_turns == 1 or built.dropped_turns == 2  # history goes before any passage text
    assert built.passages[0].text == first.text  # the best passage is intact
    assert built.trimmed_sentences + built.dropped_passages > 0


def test_huge_question_is_cut_not_failed(tok):
    req = PromptRequest(question="gan " * 3000, passages=(GAN,))
    built = build_prompt(tok, req, context_tokens=512, reserve=100)
    assert built.question_cut and built.tokens <= 412


def test_impossible_budget_is_a_clear_error(tok):
    with pytest.raises(LLMError, match="fit|room"):
        build_prompt(tok, PromptRequest(question="q", passages=(GAN,)), context_tokens=60, reserve=20)
    with pytest.raises(LLMError, match="room"):
        build_prompt(tok, PromptRequest(question="q"), context_tokens=100, reserve=100)


def test_an_unfinished_key_item_is_closed_before_the_opener():
    assert answer_opening(["Two networks that compete"], "concise") == "Two networks that compete. In short,"


def test_a_beginner_answer_hands_over_in_plain_words_whatever_the_seed() -> None:
    from tutor.llm.prompt import BEGINNER_OPENER

    key = ["Two networks compete."]
    for opener in (True, False):
        assert answer_opening(key, "example", opener, "beginner") == f"Two networks compete. {BEGINNER_OPENER}"
        assert answer_opening(key, "analogy", opener, "beginner").endswith(OPENERS["analogy"])
    assert answer_opening(key, "example", False, "advanced") == "Two networks compete."
    assert answer_opening(key, "example", True, "advanced").endswith(OPENERS["example"])
    request = answer_request("what?", [], key_sentences=key, level="beginner", opener=False)
    assert request.answer_start.endswith(BEGINNER_OPENER)


def test_the_model_s_first_word_reads_on_after_an_opener() -> None:
    from tutor.llm.text import after_opener

    seed = "Key. In simple words,"
    assert after_opener(seed, " The retailer uses data.") == " the retailer uses data."
    assert after_opener(seed, "It learns.") == "it learns."
    assert after_opener(seed, " A GAN is two networks.") == " a GAN is two networks."  # a one-letter article too
    assert after_opener(seed, " I think so.") == " I think so."
    assert after_opener(seed, " GANs compete.") == " GANs compete."  # an acronym keeps its capitals
    assert after_opener(seed, " Generative AI makes content.") == " Generative AI makes content."  # a name too


def test_the_seeded_opener_is_left_out_of_what_the_check_judges() -> None:
    assert without_opener("In simple words, the discriminator is the checker.") == "the discriminator is the checker."
    assert without_opener("Step by step:\n1. The encoder compresses.") == "The encoder compresses."
    assert without_opener("For example, a GAN makes faces.") == "a GAN makes faces."
    # only a leading opener: the model's own words elsewhere stay as written
    assert without_opener("GANs compete. In simple words, they play a game.") == "GANs compete. In simple words, they play a game."
    assert without_opener("Simple words help.") == "Simple words help."
