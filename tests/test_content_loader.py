"""The shipped course matches the team's contract, and broken courses are reported precisely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tutor.content import ContentError, load_course
from tutor.content.markdown import parse_lesson

CONTRACT_LESSONS = {
    "introduction": ["quick-recap", "engage-and-think", "learning-objectives"],
    "importance": ["why-genai-matters", "use-case-creativity", "use-case-automation", "use-case-personalization",
                   "use-case-industry"],
    "what-is-genai": ["what-is-genai", "genai-analogy", "genai-vs-traditional"],
    "ai-components": ["ai-subsets", "deep-learning-components", "neural-networks", "nn-autoencoder",
                      "nn-transformer", "nn-feedforward", "nn-cnn", "nn-rnn", "gru", "lstm", "self-attention",
                      "genai-basics"],
    "model-types": ["model-types-overview", "model-type-applications"],
    "rnn-autoencoders": ["rnn", "rnn-speech-recognition", "autoencoders", "autoencoders-denoising"],
    "vae-gan-transformers": ["vae", "vae-image-compression", "gan", "gan-deepfakes", "transformers",
                             "transformers-translation"],
    "how-genai-works": ["how-genai-works", "training", "sampling", "sampling-temperature", "fine-tuning",
                        "diffusion-models"],
    "evaluation": ["evaluating-models", "evaluation-criteria", "dalle-example", "emerging-trends", "ethics",
                   "guided-practice", "key-takeaways", "additional-resources"],
}
SUPPLEMENTARY = {"deep-learning-components", "fine-tuning", "emerging-trends", "diffusion-models",
                 "sampling-temperature", "ethics"}
CONCEPTS = ["generative-ai", "genai-vs-traditional", "ai-subsets", "neural-networks", "feedforward", "cnn", "rnn",
            "gru", "lstm", "autoencoder", "vae", "gan", "transformer", "self-attention", "diffusion", "training",
            "sampling", "fine-tuning", "evaluation", "applications", "ethics"]


# ---------------------------------------------------------------- the shipped course

def test_lessons_and_sections_follow_the_contract(course):
    assert course.id == "genai-models"
    assert [lesson.id for lesson in course.lessons] == list(CONTRACT_LESSONS)
    for lesson in course.lessons:
        assert [s.id for s in lesson.sections] == CONTRACT_LESSONS[lesson.id], lesson.id
        assert re.fullmatch(r"lessons/\d\d-" + re.escape(lesson.id) + r"\.md", lesson.file)
    assert len(list(course.sections())) == 49


def test_concepts_objectives_and_files(course):
    assert sorted(c.id for c in course.concepts) == sorted(CONCEPTS)
    assert [o.id for o in course.objectives] == ["define-genai", "differentiate", "explain-models"]
    assert course.objective("differentiate").text == (
        "Differentiate Generative AI from Traditional AI and highlight their applications."
    )
    assert course.files[0] == "course.yaml" and len(course.files) == 10
    assert all((course.root / f).is_file() for f in course.files)
    assert re.fullmatch(r"[0-9a-f]{16}", course.content_hash())


def test_every_concept_is_taught_and_sections_are_tagged(course):
    for concept in course.concepts:
        assert course.sections_for(concept.id), concept.id
    assert all(s.concepts for s in course.sections())


def test_prerequisites_are_the_expected_ones_and_acyclic(course):
    prereqs = {c.id: set(c.prerequisites) for c in course.concepts}
    assert "autoencoder" in prereqs["vae"]
    assert prereqs["lstm"] == {"rnn"} and prereqs["gru"] == {"rnn"}
    assert "transformer" in prereqs["self-attention"]
    for concept in ("rnn", "cnn", "feedforward", "autoencoder", "transformer", "gan"):
        assert "neural-networks" in prereqs[concept], concept
    assert "ai-subsets" in prereqs["neural-networks"]
    assert "training" in prereqs["sampling"] and "training" in prereqs["fine-tuning"]
    # topological order exists: repeatedly remove concepts whose prerequisites are all removed
    remaining = dict(prereqs)
    while remaining:
        ready = [c for c, p in remaining.items() if not p & remaining.keys()]
        assert ready, f"cycle among {sorted(remaining)}"
        for c in ready:
            del remaining[c]


def test_supplementary_sections_are_marked_and_short(course):
    marked = {s.id for s in course.sections() if s.supplementary}
    assert marked == SUPPLEMENTARY
    for section_id in SUPPLEMENTARY:
        words = len(course.section(section_id).text.split())
        assert 60 <= words <= 160, (section_id, words)


def test_section_text_is_clean(course):
    for section in course.sections():
        assert "**" not in section.title and section.title.strip() == section.title
        assert not re.search(r"^#{1,2} ", section.text, re.M), section.id  # only ### and deeper in bodies
        assert "<!--" not in section.text
        assert "Quick Check" not in section.text and "Quick Check" not in section.title
    assert course.section("gan").text.startswith("Generative adversarial networks (GANs) represent")
    assert course.section("gru").source == "lessons/04-ai-components.md" and course.section("gru").line > 0
    titles = [s.title for s in course.sections()]
    assert titles.count("Generative AI Model Types") == 1


def test_default_path_is_the_shipped_course(course):
    assert load_course().content_hash() == course.content_hash()
    assert load_course(course.root / "course.yaml").id == course.id


# ---------------------------------------------------------------- broken copies

def _problems(path: Path) -> str:
    with pytest.raises(ContentError) as info:
        load_course(path)
    return str(info.value)


def test_yaml_syntax_error_names_file_and_line(course_copy):
    yaml_file = course_copy / "course.yaml"
    lines = yaml_file.read_text().splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("  - id: gan")) + 2
    lines[number - 1] = "    name: [Generative adversarial networks"
    yaml_file.write_text("\n".join(lines) + "\n")
    message = _problems(course_copy)
    assert "course.yaml:" in message and "YAML syntax error" in message
    line = int(re.search(r"course\.yaml:(\d+)", message).group(1))
    assert number <= line <= number + 2


def test_schema_errors_name_file_field_and_line(course_copy, edit):
    edit(course_copy / "course.yaml", "    objective: define-genai\n    prerequisites: []\n    description: A subset",
         "    objective: define-genai\n    colour: blue\n    prerequisites: []\n    description: A subset")
    edit(course_copy / "course.yaml", "  - id: ethics\n    name: Ethics and responsible use\n",
         "  - id: ethics\n")
    message = _problems(course_copy)
    assert re.search(r"course\.yaml:\d+: concepts\[0\]\.colour: unknown field", message)
    assert re.search(r"course\.yaml:\d+: concepts\[3\]\.name: required field is missing", message)


def test_unknown_objective_and_prerequisite_problems(course_copy, edit):
    edit(course_copy / "course.yaml", "    objective: differentiate\n    prerequisites: [generative-ai]\n"
         "    description: Generative AI learns", "    objective: compare\n    prerequisites: [generative-ai]\n"
         "    description: Generative AI learns")
    edit(course_copy / "course.yaml", "prerequisites: [autoencoder]", "prerequisites: [autoencoders]")
    message = _problems(course_copy)
    assert re.search(r"course\.yaml:\d+: concepts\[1\]\.objective: unknown objective 'compare'", message)
    assert re.search(r"course\.yaml:\d+: concepts\[\d+\]\.prerequisites\[0\]: unknown prerequisite 'autoencoders'",
                     message)


def test_prerequisite_cycle_is_reported_as_a_path(course_copy, edit):
    edit(course_copy / "course.yaml", "  - id: ai-subsets\n    name: Subsets of artificial intelligence\n"
         "    objective: define-genai\n    prerequisites: []",
         "  - id: ai-subsets\n    name: Subsets of artificial intelligence\n"
         "    objective: define-genai\n    prerequisites: [rnn]")
    message = _problems(course_copy)
    assert "prerequisite cycle:" in message
    cycle = re.search(r"prerequisite cycle: (.*)", message).group(1).split(" -> ")
    assert cycle[0] == cycle[-1] and {"ai-subsets", "neural-networks", "rnn"} <= set(cycle)


def test_unknown_concept_tag_names_file_and_line(course_copy, edit):
    edit(course_copy / "lessons/04-ai-components.md", "<!-- id: gru | concepts: gru, rnn -->",
         "<!-- id: gru | concepts: gru, rnns -->")
    message = _problems(course_copy)
    assert re.search(r"lessons/04-ai-components\.md:\d+: section 'gru': unknown concept 'rnns'", message)


def test_duplicate_ids_are_errors(course_copy, edit):
    edit(course_copy / "lessons/09-evaluation.md", "<!-- id: ethics |", "<!-- id: gan |")
    edit(course_copy / "course.yaml", "  - id: cnn\n", "  - id: feedforward\n")
    edit(course_copy / "course.yaml", "  - id: importance\n", "  - id: introduction\n")
    message = _problems(course_copy)
    assert re.search(r"lessons/09-evaluation\.md:\d+: duplicate section id 'gan' "
                     r"\(first at lessons/07-vae-gan-transformers\.md:\d+\)", message)
    assert re.search(r"course\.yaml:\d+: concepts\[\d+\]\.id: duplicate concept id 'feedforward'", message)
    assert re.search(r"course\.yaml:\d+: lessons\[1\]\.id: duplicate lesson id 'introduction'", message)


def test_missing_lesson_file_and_all_problems_at_once(course_copy, edit):
    (course_copy / "lessons/06-rnn-autoencoders.md").unlink()
    edit(course_copy / "lessons/04-ai-components.md", "concepts: gru, rnn", "concepts: gru, rnnx")
    with pytest.raises(ContentError) as info:
        load_course(course_copy)
    problems = info.value.problems
    assert any(re.match(r"course\.yaml:\d+: lessons\[5\]\.file: lesson file 'lessons/06-rnn-autoencoders\.md' "
                        r"not found", p) for p in problems)
    assert any("unknown concept 'rnnx'" in p for p in problems)
    assert len(problems) == 2  # no cascade of "concept taught by no section" after a missing file


def test_concept_taught_by_no_section(course_copy, edit):
    edit(course_copy / "lessons/04-ai-components.md", "<!-- id: nn-cnn | concepts: cnn, neural-networks -->",
         "<!-- id: nn-cnn | concepts: neural-networks -->")
    message = _problems(course_copy)
    assert re.search(r"course\.yaml:\d+: concepts\[\d+\]\.id: concept 'cnn' is taught by no section", message)


def test_lesson_title_mismatch(course_copy, edit):
    edit(course_copy / "lessons/02-importance.md", "# Importance of Generative AI", "# Why Generative AI")
    assert re.search(r"lessons/02-importance\.md:1: lesson title 'Why Generative AI' differs",
                     _problems(course_copy))


def test_missing_course_folder_and_file(tmp_path):
    assert "course folder not found" in _problems(tmp_path / "nowhere")
    assert "course.yaml: file not found" in _problems(tmp_path)


# ---------------------------------------------------------------- the markdown format

def test_markdown_sections_metadata_and_body():
    text = (
        "# Title\n\n<!-- a note -->\n## First\n<!-- id: first | concepts: a, b | supplementary -->\n\n"
        "Body line.\n### Sub\nMore.\n```\n## not a heading\n```\n## Second\n<!-- id: second | concepts: c -->\nText\n"
    )
    lesson, problems = parse_lesson(text, "x.md")
    assert problems == []
    assert lesson.title == "Title" and lesson.title_line == 1
    first, second = lesson.sections
    assert (first.id, first.title, first.concepts, first.supplementary, first.line) == (
        "first", "First", ("a", "b"), True, 4)
    assert first.text == "Body line.\n### Sub\nMore.\n```\n## not a heading\n```"
    assert (second.id, second.concepts, second.supplementary, second.text) == ("second", ("c",), False, "Text")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# T\n## A\n\n<!-- id: a -->\ntext\n", "x.md:2: section 'A' has no id"),
        ("# T\n## A\n<!-- id: a | concept: b -->\ntext\n",
         "x.md:3: malformed metadata comment: unknown field 'concept'"),
        ("# T\n## A\n<!-- id: a | concepts: b\ntext\n", "x.md:3: malformed metadata comment"),
        ("# T\n## A\n<!-- id: Bad_Id -->\ntext\n", "x.md:3: malformed metadata comment: bad section id 'Bad_Id'"),
        ("# T\n## A\n<!-- concepts: b -->\ntext\n", "x.md:3: section 'A' has no id"),
        ("# T\nintro\n## A\n<!-- id: a -->\ntext\n", "x.md:2: text outside any section"),
        ("# T\n## A\n<!-- id: a -->\n\n## B\n<!-- id: b -->\nx\n", "x.md:2: section 'a' has no text"),
        ("## A\n<!-- id: a -->\ntext\n", "x.md:1: lesson has no '# ' title"),
        ("# T\n## A\n<!-- id: a -->\ntext\n# U\n", "x.md:5: second '# ' heading 'U'"),
        ("# T\n## A\n<!-- id: a -->\n##\ntext\n", "x.md:4: empty heading"),
    ],
)
def test_markdown_problems_name_file_and_line(text, expected):
    _, problems = parse_lesson(text, "x.md")
    assert any(p.startswith(expected) for p in problems), problems
