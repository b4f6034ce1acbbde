"""The groundedness score and the rule that flags unsupported explanations (bag-of-words embedder)."""

from __future__ import annotations

from tutor.llm.grounding import ANSWER_SUPPORT, SENTENCE_SUPPORT, grounding, judged_sentences
from tutor.llm.testing import HashEmbedder

EVIDENCE = [
    "GANs consist of two neural networks: a generator and a discriminator. "
    "The generator creates synthetic data, while the discriminator tells real from fake data."
]


def test_restating_the_evidence_is_supported():
    g = grounding("The generator creates synthetic data while the discriminator tells real from fake data.", EVIDENCE, HashEmbedder().encode)
    assert g.score == 1.0 and g.supported is True
    assert g.sentences[0][1] >= SENTENCE_SUPPORT


def test_invented_detail_is_not_supported():
    g = grounding(
        "GANs were invented in Paris by a famous chef in 1850. They cost seven dollars per hour to rent.",
        EVIDENCE,
        HashEmbedder().encode,
    )
    assert g.score == 0.0 and g.supported is False


def test_share_decides_at_the_answer_threshold():
    mixed = (
        "The generator creates synthetic data while the discriminator tells real from fake data. "
        "Bananas grow quickly on sunny islands near volcanoes. "
        "Pianos need tuning every single year by experts."
    )
    g = grounding(mixed, EVIDENCE, HashEmbedder().encode)
    assert abs(g.score - 1 / 3) < 1e-6
    assert g.supported is (1 / 3 >= ANSWER_SUPPORT)
    strict = grounding(mixed, EVIDENCE, HashEmbedder().encode, answer_support=0.3)
    assert strict.supported is True


def test_nothing_to_judge_and_no_evidence():
    assert grounding("Yes.", EVIDENCE, HashEmbedder().encode).score is None
    g = grounding("The generator creates synthetic data.", [], HashEmbedder().encode)
    assert g.score == 0.0 and g.supported is False
    assert judged_sentences("Ok. The generator creates synthetic data.") == ["The generator creates synthetic data."]


def test_one_embedder_call_per_answer():
    emb = HashEmbedder()
    grounding("The generator creates data. The discriminator judges it.", EVIDENCE, emb.encode)
    assert emb.calls == 1


def test_novel_content_words_lower_support_even_when_on_topic():
    evidence = ["Sampling temperature controls how random the model's choices are."]
    on = grounding("The sampling temperature controls how random the choices are.", evidence, HashEmbedder().encode)
    invented = grounding(
        "The sampling temperature was invented at Berkeley in 2020 by famous researchers.", evidence, HashEmbedder().encode
    )
    assert on.supported is True
    assert invented.sentences[0][1] < on.sentences[0][1] and invented.supported is False


def test_question_words_count_as_known():
    evidence = ["The generator creates synthetic data."]
    q = "does the generator fool the discriminator"
    with_q = grounding("The generator creates synthetic data to fool the discriminator.", evidence, HashEmbedder().encode, question=q)
    without = grounding("The generator creates synthetic data to fool the discriminator.", evidence, HashEmbedder().encode)
    assert with_q.sentences[0][1] >= without.sentences[0][1]


def test_invented_numbers_count_as_novel():
    from tutor.llm.text import novelty

    known = "A GAN makes an image in a single pass; diffusion takes many denoising steps."
    assert novelty("A GAN makes an image in a single pass.", known) == 0.0
    assert novelty("A GAN pass is 100 times faster.", known) > 0.0
