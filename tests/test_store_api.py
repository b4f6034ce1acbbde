"""The Store API of the team contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pg import db_url  # noqa: F401 - fixture

from tutor.store import Store, StoreError
from tutor.store.records import AttemptIn


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:  # noqa: F811
    with Store.open(db_url) as opened:
        yield opened


def _attempt(learner_id: int, item: str = "gan-q1", **kw) -> AttemptIn:  # noqa: ANN003
    fields = dict(
        learner_id=learner_id,
        item_id=item,
        course_id="genai-models",
        bank_version="v1",
        answer="b",
        correct=True,
        score=1.0,
    )
    fields.update(kw)
    return AttemptIn(**fields)


def _is_utc(when: datetime) -> bool:
    return when.tzinfo is not None and when.utcoffset() == timedelta(0)


# ---------------------------------------------------------------- learners
def test_learners_are_created_once_and_listed_by_name(store: Store) -> None:
    bea = store.get_or_create_learner("bea", level="advanced", style="concise")
    ann = store.get_or_create_learner("ann")
    assert (ann.level, ann.style) == ("beginner", "example")
    assert (bea.level, bea.style) == ("advanced", "concise")
    again = store.get_or_create_learner("bea", level="beginner")  # existing: level/style kept
    assert again == bea
    assert _is_utc(bea.created)
    assert [r.name for r in store.list_learners()] == ["ann", "bea"]
    assert store.get_learner("ann") == ann
    assert store.get_learner("nobody") is None
    assert store.learner_by_id(ann.id) == ann


def test_update_learner_changes_only_what_is_given(store: Store) -> None:
    store.get_or_create_learner("ann")
    updated = store.update_learner("ann", level="intermediate")
    assert (updated.level, updated.style) == ("intermediate", "example")
    updated = store.update_learner("ann", style="analogy")
    assert (updated.level, updated.style) == ("intermediate", "analogy")
    assert store.get_learner("ann") == updated


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: s.get_or_create_learner("  "), "needs a name"),
        (lambda s: s.get_or_create_learner("x", level="expert"), "unknown level"),
        (lambda s: s.get_or_create_learner("x", style="poetry"), "unknown style"),
        (lambda s: s.update_learner("ghost", level="advanced"), "no learner named"),
        (lambda s: s.get_or_create_learner("x" * 201), "at most 200"),
    ],
)
def test_learner_input_errors(store: Store, call, message: str) -> None:  # noqa: ANN001
    with pytest.raises(StoreError, match=message):
        call(store)


# ---------------------------------------------------------------- sessions and chat
def test_sessions_and_chat_messages(store: Store) -> None:
    ann = store.get_or_create_learner("ann")
    session_id = store.start_session(ann.id, "chat")
    first = store.add_message(ann.id, "user", "What is a GAN?", session_id=session_id)
    reply = store.add_message(
        ann.id,
        "assistant",
        "A GAN pits a generator against a discriminator.",
        session_id=session_id,
        sources=("gan", "gan-deepfakes"),
        in_scope=True,
        grounded=0.83,
        model_id="smollm2-135m",
        adapter_id="lora-v1",
        timings={"ttft_ms": 120.5, "total_ms": 900},
    )
    store.end_session(session_id)
    store.end_session(session_id)  # ending twice is harmless

    assert reply.sources == ("gan", "gan-deepfakes")
    assert reply.timings == {"ttft_ms": 120.5, "total_ms": 900.0}
    assert (reply.in_scope, reply.grounded, reply.model_id, reply.adapter_id) == (
        True,
        0.83,
        "smollm2-135m",
        "lora-v1",
    )
    assert store.messages(ann.id) == [first, reply]
    assert store.messages(ann.id, limit=1) == [reply]
    assert all(_is_utc(m.created) for m in store.messages(ann.id))

    bob = store.get_or_create_learner("bob")
    store.add_message(bob.id, "user", "hello")
    store.clear_messages(ann.id)
    assert store.messages(ann.id) == []
    assert [m.text for m in store.messages(bob.id)] == ["hello"]


def test_messages_limit_keeps_the_latest_oldest_first(store: Store) -> None:
    ann = store.get_or_create_learner("ann")
    for i in range(5):
        store.add_message(ann.id, "user", f"m{i}")
    assert [m.text for m in store.messages(ann.id, limit=3)] == ["m2", "m3", "m4"]
    assert store.messages(ann.id, limit=0) == []


def test_session_and_message_errors(store: Store) -> None:
    ann = store.get_or_create_learner("ann")
    with pytest.raises(StoreError, match="no study session"):
        store.end_session(12345)
    with pytest.raises(StoreError, match="needs a kind"):
        store.start_session(ann.id, " ")
    with pytest.raises(StoreError, match="unknown role"):
        store.add_message(ann.id, "robot", "beep")
    with pytest.raises(StoreError, match="could not save chat message"):
        store.add_message(999_999, "user", "who am I?")  # foreign key enforced


# ---------------------------------------------------------------- attempts and hints
def test_attempts_round_trip_every_field(store: Store) -> None:
    ann = store.get_or_create_learner("ann")
    session_id = store.start_session(ann.id, "quiz")
    when = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    saved = store.add_attempt(
        _attempt(
            ann.id,
            "vae-s1",
            answer="VAE: it learns a latent distribution",
            correct=False,
            score=0.5,
            rubric_met=("latent space",),
            feedback="Half right.",
            hints_used=2,
            seconds=41.5,
            concepts=("vae", "autoencoder"),
            session_id=session_id,
            created=when,
        )
    )
    (loaded,) = store.attempts(ann.id)
    assert loaded == saved
    assert loaded.created == when and _is_utc(loaded.created)
    assert (loaded.rubric_met, loaded.concepts) == (("latent space",), ("vae", "autoencoder"))
    assert (loaded.correct, loaded.score, loaded.hints_used, loaded.seconds) == (False, 0.5, 2, 41.5)
    assert (loaded.session_id, loaded.feedback) == (session_id, "Half right.")


def test_attempts_filters_order_and_limit(store: Store) -> None:
    ann = store.get_or_create_learner("ann")
    bob = store.get_or_create_learner("bob")
    base = datetime(2025, 1, 1, tzinfo=UTC)
    # written out of time order: reads must come back oldest first
    for minutes, who, item in [(3, ann, "a"), (1, ann, "b"), (2, bob, "a"), (4, ann, "a"), (0, bob, "b")]:
        store.add_attempt(_attempt(who.id, item, created=base + timedelta(minutes=minutes)))
    def minutes(rows) -> list[int]:  # noqa: ANN001
        return [int((r.created - base).total_seconds() // 60) for r in rows]

    assert minutes(store.attempts()) == [0, 1, 2, 3, 4]
    assert minutes(store.attempts(ann.id)) == [1, 3, 4]
    assert minutes(store.attempts(item_id="a")) == [2, 3, 4]
    assert minutes(store.attempts(ann.id, item_id="a")) == [3, 4]
    assert minutes(store.attempts(ann.id, limit=2)) == [3, 4]
    assert store.attempts(12345) == []


def test_attempt_errors(store: Store) -> None:
    ann = store.get_or_create_learner("ann")
    with pytest.raises(StoreError, match="between 0 and 1"):
        store.add_attempt(_attempt(ann.id, score=1.5))
    with pytest.raises(StoreError, match="finite"):
        store.add_attempt(_attempt(ann.id, score=float("nan")))
    with pytest.raises(StoreError, match="could not record quiz attempt"):
        store.add_attempt(_attempt(999_999))
    assert store.attempts() == []


def test_hints(store: Store) -> None:
    ann = store.get_or_create_learner("ann")
    store.add_hint(ann.id, "gan-q1", 1)
    store.add_hint(ann.id, "gan-q1", 2)
    store.add_hint(ann.id, "vae-q1", 1)
    assert [(h.item_id, h.level) for h in store.hints(ann.id)] == [("gan-q1", 1), ("gan-q1", 2), ("vae-q1", 1)]
    assert [h.level for h in store.hints(ann.id, "gan-q1")] == [1, 2]
    with pytest.raises(StoreError, match="hint level"):
        store.add_hint(ann.id, "gan-q1", 0)


# ---------------------------------------------------------------- mastery and reviews
def test_set_mastery_counts_every_observation(store: Store) -> None:
    ann = store.get_or_create_learner("ann")
    first = store.set_mastery(ann.id, "gan", 0.4, correct=True)
    assert (first.p_known, first.attempts, first.correct) == (0.4, 1, 1)
    second = store.set_mastery(ann.id, "gan", 0.25, correct=False)
    assert (second.p_known, second.attempts, second.correct) == (0.25, 2, 1)
    assert second.updated >= first.updated and _is_utc(second.updated)
    store.set_mastery(ann.id, "vae", 0.7, correct=True)
    mastery = store.mastery(ann.id)
    assert sorted(mastery) == ["gan", "vae"]
    assert mastery["gan"] == second
    assert store.mastery(store.get_or_create_learner("bob").id) == {}
    with pytest.raises(StoreError, match="between 0 and 1"):
        store.set_mastery(ann.id, "gan", 1.2, correct=True)


def test_mastery_updates_from_threads_lose_nothing(store: Store) -> None:
    """The store is called from worker threads; counters are single upserts, so none is lost."""
    ann = store.get_or_create_learner("ann")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(15):
                store.set_mastery(ann.id, "gan", 0.5, correct=True)
                store.add_attempt(_attempt(ann.id))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert store.mastery(ann.id)["gan"].attempts == 45
    assert len(store.attempts(ann.id)) == 45


def test_reviews_upsert_and_due_order(store: Store) -> None:
    ann = store.get_or_create_learner("ann")
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    assert store.review(ann.id, "gan-q1") is None
    store.set_review(ann.id, "gan-q1", {"stability": 1.0, "state": 1}, now + timedelta(days=1))
    store.set_review(ann.id, "vae-q1", {"stability": 2.0}, now - timedelta(hours=1))
    store.set_review(ann.id, "cnn-q1", {"stability": 3.0}, now - timedelta(days=2))
    store.set_review(ann.id, "rnn-q1", {"stability": 4.0}, now)  # due exactly now counts
    card = store.review(ann.id, "gan-q1")
    assert card is not None and card.card == {"stability": 1.0, "state": 1}
    assert card.due == now + timedelta(days=1) and _is_utc(card.due)

    assert [r.item_id for r in store.due_reviews(ann.id, now)] == ["cnn-q1", "vae-q1", "rnn-q1"]
    # rescheduling replaces the card instead of adding a second one
    store.set_review(ann.id, "cnn-q1", {"stability": 9.0}, now + timedelta(days=10))
    assert [r.item_id for r in store.due_reviews(ann.id, now)] == ["vae-q1", "rnn-q1"]
    assert store.review(ann.id, "cnn-q1").card == {"stability": 9.0}
    assert [r.item_id for r in store.reviews(ann.id)] == ["vae-q1", "rnn-q1", "gan-q1", "cnn-q1"]
    # a non-UTC "now" means the same instant
    paris = timezone(timedelta(hours=2))
    assert [r.item_id for r in store.due_reviews(ann.id, (now - timedelta(minutes=30)).astimezone(paris))] == [
        "vae-q1"
    ]


# ---------------------------------------------------------------- instructor
def test_instructor_hash(store: Store) -> None:
    assert store.instructor_hash() is None
    store.set_instructor_hash("scrypt$abc")
    store.set_instructor_hash("scrypt$def")
    assert store.instructor_hash() == "scrypt$def"
    with pytest.raises(StoreError):
        store.set_instructor_hash("")


def test_every_call_is_committed_at_once(db_url: str) -> None:  # noqa: F811
    """A second Store (another process, in effect) sees each write as soon as the call returns."""
    with Store.open(db_url) as writer, Store.open(db_url) as reader:
        ann = writer.get_or_create_learner("ann")
        writer.add_attempt(_attempt(ann.id))
        writer.set_mastery(ann.id, "gan", 0.6, correct=True)
        assert len(reader.attempts(ann.id)) == 1
        assert reader.mastery(ann.id)["gan"].p_known == 0.6
        assert reader.counts()["quiz_attempts"] == 1
