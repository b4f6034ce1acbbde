"""Graduated hints that never give the key away.

Level 1 is a nudge (what the question is about), level 2 points at the lesson
section to reread (its title), level 3 works one reasoning step (rules out a
wrong option, or names one thing a good scenario answer explains). Hints are
built from course text with templates, never by the language model, and every
candidate text is checked by `leaks_key` before it is shown: a candidate that
contains the correct option's text or a reference to its letter, or any name of
an accepted model type, is dropped for the next one, down to a generic line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tutor.content.model import Course
from tutor.quiz.model import MultipleChoice, Scenario
from tutor.quiz.model_types import names_of
from tutor.quiz.text import contains_phrase, stems, words

MAX_LEVEL = 3
_SHINGLE = 5  # a run of this many words of the correct option's text counts as giving it away


@dataclass(frozen=True)
class Hint:
    level: int  # 1 nudge, 2 pointer to the section, 3 a worked reasoning step
    text: str


def _letter_patterns(key: str) -> list[re.Pattern[str]]:
    k = re.escape(key)
    return [
        # "option A", "answer is A", "choice (A)", "letter A"
        re.compile(rf"\b(?:option|answer|choice|letter|key|pick|choose)\b(?:\s+(?:is|was|be))?\s+\(?{k}\)?(?![A-Za-z])",
                   re.IGNORECASE),
        re.compile(rf"\({k}\)"),  # (A)
        re.compile(rf"(?<![A-Za-z]){k}[.):](?=\s|$)"),  # A. / A) / A:
        re.compile(rf"[\"'‘“]{k}[\"'’”]"),  # "A"
        # a bare capital letter that is not the article starting a phrase ("A subset of ...")
        re.compile(rf"(?<![A-Za-z'-]){k}(?![A-Za-z'-])(?!\s+[a-z])"),
    ]


def key_phrases(item: MultipleChoice | Scenario) -> list[str]:
    """The phrases a hint for this unanswered item must never contain."""
    if isinstance(item, MultipleChoice):
        correct = next(o for o in item.options if o.key == item.answer)
        return [correct.text]
    return names_of(list(item.accepted))


def _contains_stemmed(text: str, phrase: str) -> bool:
    """Phrase containment up to word endings ("neural network" in "neural networks")."""
    def norm(t: str) -> str:
        # stems, and plurals of acronyms the stemmer leaves alone ("RNNs" -> "rnn")
        return " ".join(w[:-1] if len(w) > 2 and w.endswith("s") else w for w in stems(words(t)))

    needle = norm(phrase)
    if not needle:
        return False
    return f" {needle} " in f" {norm(text)} "


def leaks_key(text: str, item: MultipleChoice | Scenario) -> bool:
    """Whether the text gives away the key of the item (its text, its letter, or an accepted type name)."""
    for phrase in key_phrases(item):
        if contains_phrase(text, phrase) or _contains_stemmed(text, phrase):
            return True
    if isinstance(item, MultipleChoice):
        correct = next(o for o in item.options if o.key == item.answer)
        tokens = words(correct.text)
        if len(tokens) >= _SHINGLE:
            haystack = f" {' '.join(words(text))} "
            for i in range(len(tokens) - _SHINGLE + 1):
                if f" {' '.join(tokens[i : i + _SHINGLE])} " in haystack:
                    return True
        if any(p.search(text) for p in _letter_patterns(item.answer)):
            return True
    return False


def _lower_first(text: str) -> str:
    text = text.strip()
    if len(text) > 1 and text[0].isupper() and (text[1].islower() or text[1] == " "):
        return text[0].lower() + text[1:]
    return text


def _section_pointer(course: Course, section_id: str) -> str | None:
    try:
        section = course.section(section_id)
    except KeyError:
        return None
    lesson = next((lesson for lesson in course.lessons if lesson.id == section.lesson_id), None)
    where = f' in the lesson "{lesson.title}"' if lesson is not None else ""
    return f'Reread the section "{section.title}"{where}: the answer rests on it.'


def _concept_names(course: Course, concept_ids: tuple[str, ...]) -> list[tuple[str, str]]:
    out = []
    for cid in concept_ids:
        try:
            concept = course.concept(cid)
        except KeyError:
            continue
        out.append((concept.name, concept.description))
    return out


def _mc_candidates(item: MultipleChoice, level: int, course: Course) -> list[str]:
    concepts = _concept_names(course, item.concepts)
    if level == 1:
        out = []
        for name, description in concepts:
            if description:
                out.append(
                    f"This question is about {name}. "
                    f"Recall what the lesson says: {_lower_first(description)} "
                    "Which option agrees with that?"
                )
                out.append(  # when the concept's name is itself the answer
                    f"Recall what the lesson says about this topic: {_lower_first(description)} "
                    "Which option agrees with that?"
                )
        out.append("Reread the question and notice exactly what it asks for before looking at the options again.")
        return out
    if level == 2:
        out = [p for sid in item.sections if (p := _section_pointer(course, sid))]
        return out
    # level 3: rule out one wrong option, with the reason the author wrote for it
    out = []
    for option in item.options:
        if option.key == item.answer:
            continue
        out.append(
            f'One step of the reasoning: option {option.key}, "{option.text}", can be ruled out. {option.feedback}'
        )
        out.append(f"One step of the reasoning: option {option.key} can be ruled out. {option.feedback}")
        out.append(f'One step of the reasoning: option {option.key}, "{option.text}", can be ruled out.')
    return out


def _scenario_candidates(item: Scenario, level: int, course: Course) -> list[str]:
    if level == 1:
        return [
            "Ask yourself what data the scenario works with (text and other sequences, images, or compact "
            "representations) and what the model must produce: brand-new realistic samples, a cleaned-up "
            "reconstruction, or an output sequence. Which of the model types you studied is built for that?"
        ]
    if level == 2:
        # the scenario's own section is often titled with the answer ("Generative Adversarial Networks"):
        # then point at a section on the same concepts, or at the overview of all model types
        related = [s.id for s in course.sections() if set(s.concepts) & set(item.concepts)]
        section_ids = list(item.sections) + related + ["model-type-applications", "model-types-overview"]
        return [p for sid in dict.fromkeys(section_ids) if (p := _section_pointer(course, sid))]
    out = [f"One step of the reasoning: a good answer explains that {_lower_first(point).rstrip('.')}."
           for point in item.key_points]
    for _name, description in _concept_names(course, item.concepts):
        if description:
            out.append(f"One step of the reasoning: look for the model type described as: {_lower_first(description)}")
    return out


_GENERIC = {
    1: "Reread the question slowly and notice exactly what it asks for.",
    2: "Reread the lesson sections on this topic before answering.",
    3: "Rule out first the choices you are sure are wrong, then compare what is left with the lesson.",
}


def make_hint(item: MultipleChoice | Scenario, level: int, course: Course) -> Hint:
    """The hint of the given level for an unanswered item; its text never leaks the key."""
    level = max(1, min(MAX_LEVEL, level))
    if isinstance(item, MultipleChoice):
        candidates = _mc_candidates(item, level, course)
    else:
        candidates = _scenario_candidates(item, level, course)
    candidates.append(_GENERIC[level])
    for text in candidates:
        if not leaks_key(text, item):
            return Hint(level, text)
    return Hint(level, "Take another careful look at the question.")
