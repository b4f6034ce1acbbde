"""Who may see what: the passphrase hash, wrong and missing passphrases, learners kept to their own data."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from test_reports_formulas import build_class

from tutor.reports import access
from tutor.reports.access import Grant, hash_passphrase, learner_grant, unlock, verify_passphrase
from tutor.reports.catalog import CourseInfo, ItemCatalog
from tutor.reports.errors import AccessDenied, ReportError, UnreadableHash
from tutor.reports.service import Reports
from tutor.store import Store

PASS = "correct horse battery"


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'class.db'}") as opened:
        yield opened


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_hash_is_salted_scrypt_in_one_string() -> None:
    first, second = hash_passphrase(PASS), hash_passphrase(PASS)
    scheme, n, r, p, salt, key = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(key)) == 32
    assert first != second  # a fresh random salt each time
    assert PASS not in first
    assert verify_passphrase(PASS, first) and verify_passphrase(PASS, second)
    assert not verify_passphrase(PASS + "!", first)
    assert not verify_passphrase("", first)


@pytest.mark.parametrize("stored", ["plain-text-password", "scrypt$16384$8$1$!!$!!", "scrypt$3$8$1$AAAA$AAAA", ""])
def test_unreadable_hash_is_an_error_not_a_match(stored: str) -> None:
    with pytest.raises(UnreadableHash, match="set a new one"):
        verify_passphrase(PASS, stored)


def test_new_passphrase_rules() -> None:
    assert access.check_new_passphrase("eight ch") == "eight ch"
    with pytest.raises(ReportError, match="at least 8"):
        access.check_new_passphrase("short")
    with pytest.raises(ReportError, match="spaces"):
        access.check_new_passphrase(" padded passphrase ")


def test_no_passphrase_set_refuses_everyone(store: Store) -> None:
    sleeps = Sleeps()
    with pytest.raises(AccessDenied, match="no instructor passphrase is set"):
        unlock(store, PASS, sleep=sleeps)


def test_wrong_and_missing_passphrases_wait_then_refuse(store: Store) -> None:
    store.set_instructor_hash(hash_passphrase(PASS))
    sleeps = Sleeps()
    with pytest.raises(AccessDenied, match="wrong instructor passphrase"):
        unlock(store, "guess-one-two", sleep=sleeps)
    with pytest.raises(AccessDenied, match="passphrase is required"):
        unlock(store, "", sleep=sleeps)
    with pytest.raises(AccessDenied):
        unlock(store, None, sleep=sleeps)
    assert sleeps == [access.FAIL_DELAY_S] * 3 and access.FAIL_DELAY_S >= 1.0
    grant = unlock(store, PASS, sleep=sleeps)
    assert grant == Grant("instructor") and len(sleeps) == 3  # the right one does not wait


def test_the_delay_is_real(store: Store) -> None:
    import time

    store.set_instructor_hash(hash_passphrase(PASS))
    began = time.monotonic()
    with pytest.raises(AccessDenied):
        unlock(store, "not it at all")
    assert time.monotonic() - began >= 0.95


@pytest.fixture
def built(store: Store, course) -> tuple[Store, CourseInfo, dict[str, int]]:
    return store, CourseInfo.from_course(course), build_class(store)


@pytest.mark.parametrize("report", ["class_overview", "items", "gaps", "effect", "activity"])
def test_learners_cannot_see_class_reports(built, report: str) -> None:
    store, info, ids = built
    reports = Reports(store, info, ItemCatalog(), learner_grant(ids["ana"]))
    with pytest.raises(AccessDenied, match="for instructors only"):
        getattr(reports, report)()


def test_learners_see_only_their_own_report(built) -> None:
    store, info, ids = built
    reports = Reports(store, info, ItemCatalog(), learner_grant(ids["ana"]))
    own = reports.learner("ana")
    assert own.summary_row.name == "ana" and len(own.attempts) == 6
    with pytest.raises(AccessDenied, match="only see their own") as other:
        reports.learner("ben")
    with pytest.raises(AccessDenied, match="only see their own") as missing:
        reports.learner("nobody")  # the same refusal: a learner cannot probe for names
    assert str(other.value) == str(missing.value)
    with pytest.raises(AccessDenied):
        reports.learner(ids["ben"])


def test_instructor_sees_everyone(built) -> None:
    store, info, ids = built
    store.set_instructor_hash(hash_passphrase(PASS))
    reports = Reports(store, info, ItemCatalog(), unlock(store, PASS))
    assert {s.name for s in reports.class_overview().learners} == {"ana", "ben", "cy", "dee"}
    assert reports.learner("ben").summary_row.id == ids["ben"]
    with pytest.raises(ReportError, match="no learner named 'nobody'"):
        reports.learner("nobody")
