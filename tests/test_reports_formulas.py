"""Report formulas against small classes whose numbers are worked out by hand in the comments.

The data goes through the real store (SQLite, and PostgreSQL where a server
answers), so the SQL in ``tutor.reports.queries`` is what is being checked.
``build_class`` is also used by the instructor-screen tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pg import db_url  # noqa: F401 - fixture
from sqlalchemy import insert

from tutor.reports.access import Grant
from tutor.reports.catalog import CourseInfo, ItemCatalog
from tutor.reports.gaps import OTHER, cluster_by_keyword, keywords
from tutor.reports.learner import OUT_OF_SCOPE
from tutor.reports.service import Reports
from tutor.store import Store
from tutor.store.records import AttemptIn
from tutor.store.schema import ChatMessage, StudySession

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
INSTRUCTOR = Grant("instructor")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def add_message(store: Store, learner_id: int, role: str, text: str, minutes: float, *, sources=(),
                in_scope=None, grounded=None) -> None:
    """A chat message at a fixed time (the store's add_message stamps "now")."""
    with store.engine.begin() as conn:
        conn.execute(insert(ChatMessage).values(
            learner_id=learner_id, session_id=None, role=role, text=text, sources=list(sources),
            in_scope=in_scope, grounded=grounded, model_id=None, adapter_id=None, timings={}, created=at(minutes),
        ))


def add_session(store: Store, learner_id: int, kind: str, start: float, end: float | None) -> int:
    with store.engine.begin() as conn:
        return conn.execute(insert(StudySession).values(
            learner_id=learner_id, kind=kind, started=at(start), ended=None if end is None else at(end),
        ).returning(StudySession.id)).scalar_one()


def answer(store: Store, learner_id: int, item: str, concept: str, correct: bool, minutes: float, *,
           seconds: float = 0.0, session: int | None = None) -> None:
    store.add_attempt(AttemptIn(
        learner_id=learner_id, item_id=item, course_id="genai-models", bank_version="t", answer="A" if correct else "C",
        correct=correct, score=float(correct), seconds=seconds, concepts=(concept,), session_id=session,
        created=at(minutes),
    ))


def mastery(store: Store, learner_id: int, concept: str, answers: list[tuple[float, bool]]) -> None:
    """One set_mastery per answer: the last P(known) stays, attempts/correct count the answers."""
    for p, correct in answers:
        store.set_mastery(learner_id, concept, p, correct=correct)


def build_class(store: Store) -> dict[str, int]:
    """ana, ben, cy (and dee, who never did anything); times in minutes after T0.

    ana: quiz s1 {g1 0' wrong, g2 20' right, g3 30' wrong}, quiz s2 {v1 40' right, a1 60' right,
         v2 70' wrong}, 30 s per answer; chat session 9'-29' (20 min); asked about GANs at 10'
         (reply cites section gan: teaches gan, applications) and VAEs at 50' (cites vae).
         Mastery gan .8 (2 answers), vae .6, ethics .9.  3 hints.
    ben: quiz s3 {g1 5' wrong, g2 15' wrong, g3 35' right}, 10 s each; chat session 20'-200'
         (capped at 60 min); asked "capital of France" at 25' (out of scope, nothing cited).
         Mastery gan .2 after 6 answers (stuck), vae .5.
    cy:  v1 12' right, a1 22' wrong (no session), 20 s each. Mastery gan .3 (2 answers), applications .7.
    """
    ids = {name: store.get_or_create_learner(name).id for name in ("ana", "ben", "cy", "dee")}
    ana, ben, cy = ids["ana"], ids["ben"], ids["cy"]
    s1, s2 = add_session(store, ana, "quiz", 0, 31), add_session(store, ana, "quiz", 40, 71)
    add_session(store, ana, "chat", 9, 29)
    for item, concept, ok, t, s in (("g1", "gan", False, 0, s1), ("g2", "gan", True, 20, s1),
                                    ("g3", "gan", False, 30, s1), ("v1", "vae", True, 40, s2),
                                    ("a1", "applications", True, 60, s2), ("v2", "vae", False, 70, s2)):
        answer(store, ana, item, concept, ok, t, seconds=30, session=s)
    add_message(store, ana, "user", "How do GANs work?", 10)
    add_message(store, ana, "assistant", "A generator and a discriminator…", 11, sources=["gan"], in_scope=True,
                grounded=0.9)
    add_message(store, ana, "user", "Explain VAEs please", 50)
    add_message(store, ana, "assistant", "An encoder maps…", 51, sources=["vae"], in_scope=True, grounded=0.8)
    for item, level in (("g1", 1), ("g1", 2), ("v2", 1)):
        store.add_hint(ana, item, level)
    mastery(store, ana, "gan", [(0.5, False), (0.8, True)])
    mastery(store, ana, "vae", [(0.6, True)])
    mastery(store, ana, "ethics", [(0.9, True)])

    s3 = add_session(store, ben, "quiz", 4, 36)
    add_session(store, ben, "chat", 20, 200)
    for item, ok, t in (("g1", False, 5), ("g2", False, 15), ("g3", True, 35)):
        answer(store, ben, item, "gan", ok, t, seconds=10, session=s3)
    add_message(store, ben, "user", "What is the capital of France?", 25)
    add_message(store, ben, "assistant", "That is outside this course.", 26, in_scope=False)
    mastery(store, ben, "gan", [(0.3, False)] * 4 + [(0.25, True), (0.2, False)])
    mastery(store, ben, "vae", [(0.4, False), (0.5, True)])

    answer(store, cy, "v1", "vae", True, 12, seconds=20)
    answer(store, cy, "a1", "applications", False, 22, seconds=20)
    mastery(store, cy, "gan", [(0.4, False), (0.3, False)])
    mastery(store, cy, "applications", [(0.7, True)])
    return ids


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:  # noqa: F811
    with Store.open(db_url) as opened:
        yield opened


@pytest.fixture
def info(course) -> CourseInfo:
    return CourseInfo.from_course(course)


@pytest.fixture
def reports(store: Store, info: CourseInfo) -> Reports:
    build_class(store)
    return Reports(store, info, ItemCatalog(), INSTRUCTOR)


# ---------------------------------------------------------------- class overview
def test_class_overview_per_learner(reports: Reports) -> None:
    overview = reports.class_overview()
    by_name = {s.name: s for s in overview.learners}
    assert [s.name for s in overview.learners] == ["ana", "ben", "cy", "dee"]
    ana, ben, cy, dee = (by_name[n] for n in ("ana", "ben", "cy", "dee"))
    # ana: (.8 + .6 + .9) / 3; explain-models = (gan .8 + vae .6) / 2; define-genai = ethics .9
    assert ana.mastery == pytest.approx(0.7666667)
    assert ana.objectives["explain-models"] == pytest.approx(0.7)
    assert ana.objectives["define-genai"] == pytest.approx(0.9)
    assert ana.objectives["differentiate"] is None
    assert (ana.attempts, ana.correct, ana.quizzes, ana.questions) == (6, 3, 2, 2)
    # 6 answers x 30 s + a 20-minute chat session
    assert (ana.quiz_seconds, ana.chat_seconds, ana.time_on_task_s) == (180, 1200, 1380)
    assert ana.last_activity == at(70)
    assert ana.stuck == ()
    # ben: gan .2 after 6 answers is stuck; a 3-hour chat session counts as one hour
    assert ben.mastery == pytest.approx(0.35)
    assert ben.stuck == ("gan",)
    assert ben.time_on_task_s == 30 + 3600
    assert ben.last_activity == at(35)
    assert ben.accuracy == pytest.approx(1 / 3)
    assert cy.objectives["explain-models"] == pytest.approx(0.3)
    assert cy.objectives["differentiate"] == pytest.approx(0.7)
    assert (cy.quizzes, cy.last_activity) == (0, at(22))
    assert (dee.mastery, dee.last_activity, dee.attempts, dee.time_on_task_s) == (None, None, 0, 0)


def test_class_overview_means_and_stuck(reports: Reports) -> None:
    overview = reports.class_overview()
    concepts = {c.concept_id: c for c in overview.concepts}
    assert concepts["gan"].mean_p_known == pytest.approx((0.8 + 0.2 + 0.3) / 3)
    assert (concepts["gan"].learners, concepts["gan"].stuck) == (3, 1)
    assert concepts["vae"].mean_p_known == pytest.approx(0.55)
    assert concepts["applications"].mean_p_known == pytest.approx(0.7)
    assert concepts["cnn"].mean_p_known is None and concepts["cnn"].learners == 0
    objectives = {o.objective_id: o for o in overview.objectives}
    # learners' explain-models means: ana .7, ben .35, cy .3
    assert objectives["explain-models"].mean == pytest.approx(0.45)
    assert objectives["explain-models"].learners == 3
    assert objectives["define-genai"].mean == pytest.approx(0.9)
    assert objectives["differentiate"].mean == pytest.approx(0.7)
    assert [(s.learner, s.concept_id, s.attempts) for s in overview.stuck] == [("ben", "gan", 6)]


# ---------------------------------------------------------------- one learner
def test_learner_report_topics_hints_and_weak_concepts(reports: Reports, course) -> None:
    ana = reports.learner("ana")
    assert [a.item_id for a in ana.attempts] == ["g1", "g2", "g3", "v1", "a1", "v2"]
    assert ana.daily == ((T0.date(), 6, 3),)
    assert ana.hints_total == 3 and ana.hints_by_item == {"g1": 2, "v2": 1}
    topics = {t.section_id: t for t in ana.topics}
    assert set(topics) == {"gan", "vae"}
    assert topics["gan"].title == course.section("gan").title
    assert topics["gan"].concept_id == "gan"
    assert [q.text for q in topics["gan"].questions] == ["How do GANs work?"]
    assert ana.weak == ()

    ben = reports.learner("ben")
    assert [(c.concept_id, c.stuck) for c in ben.weak] == [("gan", True)]
    assert [(t.title, len(t.questions)) for t in ben.topics] == [(OUT_OF_SCOPE, 1)]
    by_id = reports.learner(ben.summary_row.id)
    assert by_id.summary_row.name == "ben"


# ---------------------------------------------------------------- tutoring effect
def test_tutoring_effect_by_hand(reports: Reports) -> None:
    effect = reports.effect()
    # after tutoring: ana g2 (right), a1 (right: the GAN section also teaches applications), v2 (wrong)
    assert (effect.after_tutor.answers, effect.after_tutor.correct) == (3, 2)
    # everything else: 11 answers, 5 right in all -> 8 answers, 3 right
    assert (effect.without.answers, effect.without.correct) == (8, 3)
    assert effect.without.rate == pytest.approx(0.375)
    # same learners (ana, ben) without tutoring: ana g1 g3 v1, ben g1 g2 g3 -> 2 of 6
    assert (effect.same_learners.answers, effect.same_learners.correct) == (6, 2)
    assert effect.learners_using_tutor == 2
    assert effect.difference == pytest.approx(2 / 3 - 0.375)
    concepts = {c.concept_id: c for c in effect.concepts}
    assert (concepts["gan"].after_tutor.answers, concepts["gan"].after_tutor.correct) == (1, 1)
    assert (concepts["gan"].without.answers, concepts["gan"].without.correct) == (5, 1)
    assert (concepts["vae"].after_tutor.answers, concepts["vae"].after_tutor.correct) == (1, 0)
    assert (concepts["vae"].without.answers, concepts["vae"].without.correct) == (2, 2)
    assert (concepts["applications"].without.answers, concepts["applications"].without.correct) == (1, 0)
    assert (concepts["gan"].same_learners.answers, concepts["gan"].same_learners.correct) == (5, 1)


def test_tutoring_effect_uses_bank_concepts_when_known(store: Store, info: CourseInfo) -> None:
    build_class(store)
    # if the bank says g2 is about vae: g2 no longer follows a question on its concept, but g3 (wrong)
    # becomes ana's first gan answer after the GAN question -> after tutoring: g3, a1, v2 = 1 of 3
    catalog = ItemCatalog(concepts={"g2": ("vae",)})
    effect = Reports(store, info, catalog, INSTRUCTOR).effect()
    assert (effect.after_tutor.answers, effect.after_tutor.correct) == (3, 1)


# ---------------------------------------------------------------- items
def build_items(store: Store) -> None:
    """Four learners on i1..i3 (the matrix of test_reports_item_stats), a retry, and a scenario.

           i1 i2 i3          L4 retries i1 correctly later: ignored (first attempts only).
      L1    1  1  1          Scenario sc1 (key points p1 p2 p3), first attempts:
      L2    1  0  1            S1 "gan", met p1 p2, score 1; S2 "vae", met p1, .5; S3 "gan", met none, 0
      L3    0  1  0            (S3's retry meeting every point is ignored).
      L4    0  0  0
    """
    matrix = {"L1": (1, 1, 1), "L2": (1, 0, 1), "L3": (0, 1, 0), "L4": (0, 0, 0)}
    chosen = {"L1": "A", "L2": "A", "L3": "C", "L4": "B"}
    for n, (name, scores) in enumerate(matrix.items()):
        lid = store.get_or_create_learner(name).id
        for k, score in enumerate(scores):
            answer_key = chosen[name] if k == 0 else ("A" if score else "B")
            store.add_attempt(AttemptIn(lid, f"i{k + 1}", "genai-models", "t", answer_key, bool(score), float(score),
                                        concepts=("gan",), created=at(n * 10 + k)))
    l4 = store.get_learner("L4").id
    store.add_attempt(AttemptIn(l4, "i1", "genai-models", "t", "A", True, 1.0, concepts=("gan",), created=at(100)))
    for n, (name, text, met, score) in enumerate((("S1", "gan: a generator and a discriminator", ("p1", "p2"), 1.0),
                                                   ("S2", "vae: it compresses", ("p1",), 0.5),
                                                   ("S3", "gan: no idea", (), 0.0))):
        lid = store.get_or_create_learner(name).id
        store.add_attempt(AttemptIn(lid, "sc1", "genai-models", "t", text, score == 1.0, score, rubric_met=met,
                                    concepts=("vae",), created=at(200 + n)))
    s3 = store.get_learner("S3").id
    store.add_attempt(AttemptIn(s3, "sc1", "genai-models", "t", "gan: now I know", True, 1.0,
                                rubric_met=("p1", "p2", "p3"), concepts=("vae",), created=at(300)))


def test_item_report_first_attempts_and_missed_key_points(store: Store, info: CourseInfo) -> None:
    build_items(store)
    catalog = ItemCatalog(
        kinds={"i1": "multiple_choice", "i2": "multiple_choice", "i3": "multiple_choice", "sc1": "scenario"},
        keys={"i1": "A", "i2": "A", "i3": "A"},
        key_points={"sc1": ("p1", "p2", "p3")},
    )
    report = Reports(store, info, catalog, INSTRUCTOR).items()
    items = {line.stats.item_id: line for line in report.items}
    i1 = items["i1"].stats
    assert (i1.attempts, i1.facility) == (4, pytest.approx(0.5))  # the retry did not count
    assert i1.discrimination == pytest.approx(0.70710678)  # as worked out in test_reports_item_stats
    assert i1.efficiency == pytest.approx(1.0)
    assert i1.options == {"A": 2, "B": 1, "C": 1}
    assert "low discrimination" in items["i2"].stats.flags
    sc1 = items["sc1"]
    assert (sc1.stats.attempts, sc1.stats.facility) == (3, pytest.approx(0.5))
    assert sc1.stats.options == {"gan": 2, "vae": 1}  # the model type named, not the explanation
    assert [(m.point, m.missed) for m in sc1.missed] == [("p3", 3), ("p2", 2), ("p1", 1)]
    assert sc1.missed[1].share == pytest.approx(2 / 3)
    assert items["i1"].concepts == ("gan",)  # from the stored attempts: the catalog has none
    # item variances .25 each, totals [3,2,1,0] variance 1.25 -> 3/2 (1 - .75/1.25) = .6
    assert report.alpha_by_concept["gan"] == pytest.approx(0.6)
    assert report.alpha_by_concept["vae"] is None
    assert report.alpha is None  # nobody answered all four items
    assert (report.learners, report.first_attempts) == (7, 15)


# ---------------------------------------------------------------- content gaps
def build_gaps(store: Store) -> None:
    eve = store.get_or_create_learner("eve").id
    fay = store.get_or_create_learner("fay").id
    exchanges = [
        (eve, "How do quantum computers store qubits?", [], False, None),
        (eve, "Do quantum computers use transistors?", [], False, None),
        (eve, "What is the best pizza in Rome?", [], False, None),
        (eve, "Which laws regulate GAN deepfakes?", ["gan-deepfakes"], True, 0.3),
        (eve, "Who detects deepfakes online?", ["gan-deepfakes", "ethics"], True, 0.2),
        (eve, "How do VAEs compress images?", ["vae-image-compression"], True, 0.8),  # well grounded
        (eve, "What is a VAE?", ["vae"], True, None),  # not judged: not a gap
        (fay, "Can quantum computers break encryption?", [], False, None),
    ]
    for n, (lid, question, sources, in_scope, grounded) in enumerate(exchanges):
        add_message(store, lid, "user", question, 2 * n)
        add_message(store, lid, "assistant", "…", 2 * n + 1, sources=sources, in_scope=in_scope, grounded=grounded)


def test_gaps_grouped_by_section_and_keyword(store: Store, info: CourseInfo, course) -> None:
    build_gaps(store)
    report = Reports(store, info, ItemCatalog(), INSTRUCTOR).gaps()
    groups = [(g.kind, g.key, [q.question for q in g.questions], g.learners) for g in report.groups]
    # "quantum" and "computer" are both in 3 questions: the alphabetically first word names the group
    assert groups == [
        ("keyword", "computer", ["How do quantum computers store qubits?", "Do quantum computers use transistors?",
                                 "Can quantum computers break encryption?"], 2),
        ("section", "gan-deepfakes", ["Which laws regulate GAN deepfakes?", "Who detects deepfakes online?"], 1),
        ("other", "", ["What is the best pizza in Rome?"], 1),
    ]
    assert report.groups[1].label == course.section("gan-deepfakes").title
    assert [q.reason for q in report.groups[1].questions] == ["low groundedness"] * 2
    assert report.groups[0].out_of_scope == 3
    assert report.summary()[0].startswith("Content gaps: 6 questions in 3 groups (4 out of scope, 2 answered")


def test_keyword_clustering_is_order_independent() -> None:
    texts = ["How do GANs train?", "Why do GAN models collapse?", "Is pizza healthy?", "Pizza or pasta?"]
    clusters = cluster_by_keyword(texts)
    assert clusters == [("gan", [0, 1]), ("pizza", [2, 3])]
    assert cluster_by_keyword(list(reversed(texts))) == [("gan", [2, 3]), ("pizza", [0, 1])]
    assert keywords("What are the GANs?") == {"gan"}
    assert cluster_by_keyword(["one question only"]) == [(OTHER, [0])]


def test_activity_by_day(reports: Reports) -> None:
    # 11 answers on T0's day, 5 of them right (ana 3, ben 1, cy 1)
    assert reports.activity() == [(T0.date(), 11, 5)]
