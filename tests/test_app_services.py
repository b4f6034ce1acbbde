"""The app's service facade over the real store, course and bank (with a scripted answer pipeline),
and the app's small pure helpers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_app_fakes import ANSWER_TOKENS, FakeTutor, wait_until

from tutor.app.export import conversation_markdown
from tutor.app.models import ChatMessage, EvidenceView, SourceView
from tutor.app.services import ServiceError, ServicesConfig, TutorServices, _redact, progress_view
from tutor.app.slash import closest, match_concepts, parse
from tutor.app.widgets.prompt import clip_question

FULL_ANSWER = "".join(ANSWER_TOKENS)


@pytest.fixture
def services(tmp_path: Path):
    pytest.importorskip("tutor.store.store", reason="the progress store is not built yet")
    svc = TutorServices(ServicesConfig(db=f"sqlite:///{tmp_path / 't.db'}"), tutor_factory=lambda cfg, course: FakeTutor())
    svc.open()
    svc.warm_up()
    yield svc
    svc.close()


def test_learners_history_and_profile_round_trip(services: TutorServices) -> None:
    ann = services.learner("Ann", level="intermediate", style="analogy")
    assert (ann.level, ann.style) == ("intermediate", "analogy")
    assert [r.name for r in services.learners()] == ["Ann"]
    assert services.learner("Ann").id == ann.id  # same learner, settings kept
    assert services.update_learner("Ann", style="concise").style == "concise"
    with pytest.raises(ServiceError):
        services.update_learner("Ann", level="expert")
    with pytest.raises(ServiceError):
        services.learner("   ")

    services.save_message(ann.id, ChatMessage("user", "What is a GAN?"))
    services.save_message(ann.id, ChatMessage("assistant", "Two networks.", sources=(SourceView("gan", "x"),), in_scope=True))
    history = services.history(ann.id)
    assert [(m.role, m.text) for m in history] == [("user", "What is a GAN?"), ("assistant", "Two networks.")]
    assert history[1].sources[0].section_id == "gan"
    assert history[1].sources[0].title == services.section_title("gan") != "gan"  # titles come from the course
    services.clear_history(ann.id)
    assert services.history(ann.id) == []


def test_ask_streams_evidence_deltas_and_the_final_answer(services: TutorServices) -> None:
    ann = services.learner("Ann")
    events = list(services.ask("What is a GAN?", ann, [], threading.Event()))
    kinds = [e.kind for e in events]
    assert kinds[0] == "evidence" and kinds[-1] == "done" and kinds.count("delta") == len(ANSWER_TOKENS)
    assert events[0].answer.sources[0].section_id == "gan"
    final = events[-1].answer
    assert final.answer == FULL_ANSWER and final.evidence[0].section_id == "gan" and not final.cancelled


def test_ask_cancelled_before_the_first_token(services: TutorServices) -> None:
    cancel = threading.Event()
    cancel.set()
    events = list(services.ask("What is a GAN?", services.learner("Ann"), [], cancel))
    assert events[-1].kind == "done" and events[-1].answer.cancelled


def test_quiz_through_the_real_engine(services: TutorServices) -> None:
    pytest.importorskip("tutor.quiz.engine")
    ann = services.learner("Ann")
    run = services.start_quiz(ann.id, concepts=["gan"], length=2, kind="multiple_choice")
    item = run.next_item()
    assert item.kind == "multiple_choice" and "gan" in item.concepts
    hint = run.hint()
    assert hint.level == 1 and hint.text
    grade = run.submit(item.answer)
    assert grade.correct and grade.verdict == "correct" and grade.item_id == item.id
    assert grade.mastery_after["gan"] > grade.mastery_before["gan"]
    assert run.progress == (1, 2)
    with pytest.raises(ServiceError):
        run.submit("Z")  # nothing waiting: the engine's message, as a ServiceError
    summary = run.end()
    assert summary.answered == 1 and summary.correct == 1
    assert all(isinstance(line, str) for line in summary.review_next)
    with pytest.raises(ServiceError, match="nknown concept"):
        services.start_quiz(ann.id, concepts=["no-such-concept"])


def test_progress_from_the_real_report(services: TutorServices) -> None:
    pytest.importorskip("tutor.learner.progress")
    ann = services.learner("Ann")
    run = services.start_quiz(ann.id, concepts=["gan"], length=1, kind="multiple_choice")
    item = run.next_item()
    wrong = next(o.key for o in item.options if o.key != item.answer)
    run.submit(wrong)
    run.end()
    view = services.progress(ann.id)
    names = {row.id: row.name for row in view.concepts}
    assert names["gan"] == services.concept_name("gan")
    gan = next(row for row in view.concepts if row.id == "gan")
    assert gan.attempts == 1 and gan.correct == 0
    assert view.objectives and all(row.name and not row.name.startswith("None") for row in view.objectives)
    assert view.recent[0].item_id == item.id and not view.recent[0].correct
    assert view.recent[0].label and view.recent[0].label != item.id  # the question's text, not its id
    assert view.due and view.due[0].item_id == item.id
    assert view.next_step is not None and "tutor " not in view.next_step.text  # no command-line advice in the app


def test_bad_database_and_broken_course_become_service_errors(tmp_path: Path) -> None:
    pytest.importorskip("tutor.store.store")
    bad_db = TutorServices(ServicesConfig(db=f"sqlite:///{tmp_path / 'missing' / 'deeper' / 'x.db'}"))
    not_a_db = tmp_path / "junk.db"
    not_a_db.write_bytes(b"this is not a database" * 100)
    for svc in (TutorServices(ServicesConfig(db=f"sqlite:///{not_a_db}")),):
        with pytest.raises(ServiceError) as info:
            svc.open()
        assert "database" in info.value.message and info.value.fix
    broken = tmp_path / "course"
    broken.mkdir()
    (broken / "course.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    svc = TutorServices(ServicesConfig(db=f"sqlite:///{tmp_path / 'ok.db'}", course=str(broken)))
    with pytest.raises(ServiceError) as info:
        svc.open()
    assert "course" in info.value.message and "course.yaml" in info.value.message
    svc.close()
    del bad_db


async def test_restart_restores_the_conversation_from_the_real_store(tmp_path: Path) -> None:
    pytest.importorskip("tutor.store.store")
    from tutor.app.app import TutorApp
    from tutor.app.widgets.chat import AnswerBlock, UserLine

    def make() -> TutorApp:
        svc = TutorServices(ServicesConfig(db=f"sqlite:///{tmp_path / 'chat.db'}"),
                            tutor_factory=lambda cfg, course: FakeTutor(), warm_grader=False)
        return TutorApp(svc, learner="Mia")

    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.current_mode == "chat" and app.screen.restored.is_set(), timeout=15, what="chat")
        await pilot.press(*"What is a GAN?", "enter")
        await wait_until(pilot, lambda: app.screen.query(AnswerBlock) and app.screen.query(AnswerBlock).last().finished
                         and not app.screen.busy, timeout=15, what="answer")
    app.services.close()
    again = make()
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: again.current_mode == "chat" and again.screen.restored.is_set(), timeout=15,
                         what="restored chat")
        assert [w.text for w in again.screen.query(UserLine)] == ["What is a GAN?"]
        answers = again.screen.query(AnswerBlock)
        assert len(answers) == 1 and answers.first().text == FULL_ANSWER
        assert answers.first().sources[0].section_id == "gan"
    again.services.close()
    assert again.errors == []


async def test_quitting_mid_answer_keeps_the_partial_answer_in_the_real_store(tmp_path: Path) -> None:
    pytest.importorskip("tutor.store.store")
    from textual.widgets import Static

    from tutor.app.app import TutorApp
    from tutor.app.widgets.chat import AnswerBlock, UserLine

    def make(delay: float) -> TutorApp:
        svc = TutorServices(ServicesConfig(db=f"sqlite:///{tmp_path / 'chat.db'}"),
                            tutor_factory=lambda cfg, course: FakeTutor(delay=delay), warm_grader=False)
        return TutorApp(svc, learner="Mia")

    app = make(0.3)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.current_mode == "chat" and app.screen.restored.is_set(), timeout=15, what="chat")
        await pilot.press(*"What is a GAN?", "enter")
        block = await wait_until(pilot, lambda: app.screen.query(AnswerBlock).last(), timeout=15, what="block")
        await wait_until(pilot, lambda: block.text, timeout=15, what="first tokens")
        shown = block.text
    app.services.close()  # as `tutor app` does once the app has quit
    again = make(0.0)
    async with again.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: again.current_mode == "chat" and again.screen.restored.is_set(), timeout=15,
                         what="restored chat")
        assert [w.text for w in again.screen.query(UserLine)] == ["What is a GAN?"]
        answers = again.screen.query(AnswerBlock)
        assert len(answers) == 1
        partial = answers.first()
        assert partial.text.startswith(shown) and partial.text != FULL_ANSWER
        assert partial.has_class("-cancelled") and "Stopped" in str(partial.query_one(".answer-status", Static).render())
        assert partial.sources and partial.sources[0].section_id == "gan"
    history = again.services.history(again.learner.id)
    assert [(m.role, m.cancelled) for m in history] == [("user", False), ("assistant", True)]
    again.services.close()
    assert again.errors == []


# ----------------------------------------------------------------- pure helpers
def test_slash_parsing_and_typos() -> None:
    assert parse("/quiz gans") == parse("  /QUIZ   gans ")
    assert parse("/quiz gans").name == "quiz" and parse("/quiz gans").arg == "gans"
    assert parse("what is /quiz") is None
    assert parse("// not a command") is None and parse("/ spaced") is None and parse("/") is None
    assert closest("quizz") == "quiz" and closest("xyzzy") is None


def test_topics_match_concepts_forgivingly() -> None:
    concepts = [("gan", "GANs"), ("transformer", "Transformers"), ("self-attention", "Self-attention"),
                ("vae", "Variational autoencoders"), ("autoencoder", "Autoencoders")]
    assert match_concepts("GANs", concepts) == ("gan",)
    assert match_concepts("transformers", concepts) == ("transformer",)
    assert match_concepts("self attention", concepts) == ("self-attention",)
    assert match_concepts("autoencoders", concepts) == ("autoencoder",)  # exact beats partial
    assert match_concepts("cooking", concepts) == ()


def test_clip_question() -> None:
    assert clip_question("  what   is\n a GAN?  ") == ("what is a GAN?", False)
    long = "word " * 1000
    clipped, cut = clip_question(long, limit=100)
    assert cut and len(clipped) <= 101 and clipped.endswith("…")


def test_conversation_markdown_keeps_questions_answers_quotes_and_sources() -> None:
    messages = [
        ChatMessage("user", "What is a GAN?"),
        ChatMessage("assistant", "Two networks.", sources=(SourceView("gan", "GANs"),),
                    evidence=(EvidenceView("gan", "GANs", "A generator and a discriminator."),)),
        ChatMessage("user", "And?"),
        ChatMessage("assistant", "Half an answer", cancelled=True),
    ]
    text = conversation_markdown("Ann", messages, course="GenAI", when=datetime(2025, 1, 6, 9, 30))
    assert text.startswith("# Conversation with the tutor: Ann\n")
    assert "*GenAI · exported 2025-01-06 09:30*" in text
    assert text.index("**You:** What is a GAN?") < text.index("Two networks.") < text.index("**You:** And?")
    assert "> A generator and a discriminator." in text and "Sources: GANs (`gan`)" in text
    assert "*(stopped before the end)*" in text


def test_progress_view_reads_the_engine_report_by_name() -> None:
    report = SimpleNamespace(
        concepts=[SimpleNamespace(concept_id="gan", name="GANs", p_known=0.62, attempts=5, correct=3)],
        objectives={"explain-models": 0.4},
        recent=[SimpleNamespace(item_id="mc-1", correct=True, score=1.0, created=datetime(2025, 1, 1, tzinfo=UTC),
                                concepts=("gan",), stem="What does a GAN do?")],
        due=[SimpleNamespace(item_id="mc-2", due=datetime(2025, 1, 2, tzinfo=UTC))],
        next_step=SimpleNamespace(text="Practise VAEs", action="quiz", concepts=("vae",)),
    )
    names = SimpleNamespace(concept_name=lambda cid: cid.upper())
    view = progress_view(report, names)
    assert view.concepts[0].name == "GANs" and view.concepts[0].p_known == 0.62 and view.concepts[0].attempts == 5
    assert view.objectives[0].id == "explain-models" and view.objectives[0].p_known == 0.4
    assert view.recent[0].label == "What does a GAN do?" and view.recent[0].correct
    assert view.due[0].item_id == "mc-2"
    assert view.next_step.action == "quiz" and view.next_step.concepts == ("vae",)


def test_database_passwords_are_hidden() -> None:
    assert _redact("postgresql://tutor:s3cret@db:5432/tutor") == "postgresql://tutor:***@db:5432/tutor"
    assert _redact("sqlite:///x.db") == "sqlite:///x.db"
