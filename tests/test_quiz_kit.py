"""Small hand-built course, bank and embedder for the quiz and learner tests (no tests here).

Concepts: basics -> nets -> gan, nets -> rnn; "lonely" has no prerequisites.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tutor.content.model import Concept, Course, Lesson, Objective, Section
from tutor.quiz.model import MultipleChoice, Option, QuestionBank, Scenario
from tutor.quiz.text import content_stems


def make_course(root: Path | None = None) -> Course:
    concepts = (
        Concept(id="basics", name="Basics", objective="obj-a", description="The ground floor of the course."),
        Concept(id="nets", name="Networks", objective="obj-b", prerequisites=("basics",),
                description="Layers of connected nodes that learn patterns."),
        Concept(id="gan", name="Adversarial pairs", objective="obj-b", prerequisites=("nets",),
                description="Two networks that compete, producing realistic data."),
        Concept(id="rnn", name="Recurrent models", objective="obj-b", prerequisites=("nets",),
                description="Networks for sequences that keep a memory of earlier inputs."),
        Concept(id="lonely", name="Lonely", objective="obj-a", description="A concept without items."),
    )
    sections = (
        Section(id="s-basics", title="The Basics", text="Basics are basic.", concepts=("basics",),
                lesson_id="l1", source="l1.md"),
        Section(id="s-nets", title="Networks of Nodes", text="Networks have layers.", concepts=("nets",),
                lesson_id="l1", source="l1.md"),
        Section(id="s-gan", title="Generative Adversarial Networks", text="GANs compete.", concepts=("gan",),
                lesson_id="l2", source="l2.md"),
        Section(id="s-apps", title="Applications of Model Types", text="Many uses.", concepts=("gan", "rnn"),
                lesson_id="l2", source="l2.md"),
        Section(id="s-rnn", title="Sequences and Memory", text="RNNs remember.", concepts=("rnn",),
                lesson_id="l2", source="l2.md"),
    )
    return Course(
        id="tiny",
        title="Tiny course",
        root=root or Path("."),
        objectives=(Objective(id="obj-a", text="Know the basics"), Objective(id="obj-b", text="Know the models")),
        concepts=concepts,
        lessons=(
            Lesson(id="l1", title="Lesson one", file="l1.md", sections=sections[:2]),
            Lesson(id="l2", title="Lesson two", file="l2.md", sections=sections[2:]),
        ),
    )


def mc(item_id: str, concepts: tuple[str, ...], answer: str = "B", difficulty: int = 2,
       correct_text: str = "the right thing", section: str = "s-basics") -> MultipleChoice:
    texts = {"A": "a wrong thing", "B": "another wrong thing", "C": "a third wrong thing", "D": "a fourth wrong thing"}
    texts[answer] = correct_text
    options = tuple(
        Option(key=k, text=texts[k], feedback=("Right: " if k == answer else "Wrong: ") + f"because of {k.lower()}.")
        for k in "ABCD"
    )
    return MultipleChoice(id=item_id, concepts=concepts, objective="obj-a", difficulty=difficulty,
                          stem=f"Question {item_id}?", options=options, answer=answer, sections=(section,))


GAN_SCENARIO = Scenario(
    id="sc-gan",
    concepts=("gan",),
    objective="obj-b",
    difficulty=3,
    scenario="A film studio wants to place an actor's face onto a body double in video scenes so that "
             "viewers cannot tell the difference.",
    accepted=("gan",),
    key_points=(
        "a generator network creates synthetic fake frames",
        "a discriminator network tries to tell real data from generated data",
        "the two networks are trained adversarially, competing until the fakes look real",
    ),
    model_answer="A GAN fits: the generator creates synthetic fake frames, while the discriminator tries to tell "
                 "real data from generated data; the two networks are trained adversarially, competing until the "
                 "fakes look real.",
    sections=("s-gan",),
)


def make_bank() -> QuestionBank:
    items = (
        mc("b1", ("basics",), answer="A", difficulty=1, correct_text="the first basic fact"),
        mc("b2", ("basics",), answer="B", difficulty=3, correct_text="the second basic fact"),
        mc("b3", ("basics",), answer="C", difficulty=5, correct_text="the third basic fact"),
        mc("n1", ("nets",), answer="D", difficulty=1, correct_text="layers of nodes", section="s-nets"),
        mc("n2", ("nets",), answer="A", difficulty=2, correct_text="patterns in data", section="s-nets"),
        mc("n3", ("nets",), answer="B", difficulty=4, correct_text="weights that learn", section="s-nets"),
        mc("g1", ("gan",), answer="C", difficulty=2, correct_text="a generator and a discriminator", section="s-gan"),
        mc("g2", ("gan", "nets"), answer="A", difficulty=3, correct_text="they compete", section="s-gan"),
        mc("r1", ("rnn",), answer="B", difficulty=2, correct_text="memory of earlier inputs", section="s-rnn"),
        GAN_SCENARIO,
    )
    return QuestionBank(course_id="tiny", version="test", items=items)


def fake_embed(texts: list[str]) -> np.ndarray:
    """Bag of stems hashed into 512 dimensions, L2-normalised: shared words -> high cosine."""
    out = np.zeros((len(texts), 512), dtype=np.float32)
    for row, text in enumerate(texts):
        for stem in content_stems(text):
            out[row, int(hashlib.md5(stem.encode()).hexdigest(), 16) % 512] += 1.0
        norm = np.linalg.norm(out[row])
        out[row] = out[row] / norm if norm else out[row]
    return out
