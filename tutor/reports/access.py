"""Who may see which report: the instructor passphrase, and learners kept to their own data.

The passphrase is never stored, only a salted scrypt hash (a deliberately slow,
memory-hard function, so a copied database does not give the passphrase away
to a quick dictionary attack). Checks compare digests in constant time, and a
wrong passphrase costs the caller about a second, which makes guessing at the
prompt (or in a script) slow.

Every report goes through a :class:`Grant`: ``unlock`` hands out an instructor
grant for the right passphrase; ``learner_grant`` gives a learner a grant for
their own data only. The report service checks the grant before it queries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from tutor.reports.errors import AccessDenied, ReportError, UnreadableHash

SCHEME = "scrypt"
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
#: Seconds a wrong passphrase waits before it is refused.
FAIL_DELAY_S = 1.0
MIN_LENGTH = 8
#: Scripts give the passphrase in this variable instead of at the prompt.
PASS_ENV = "TUTOR_INSTRUCTOR_PASS"
#: ``tutor instructor set-passphrase`` reads a *new* passphrase from here when one is already set.
NEW_PASS_ENV = "TUTOR_INSTRUCTOR_NEW_PASS"

SET_IT = "run `tutor instructor set-passphrase` first"


class HashStore(Protocol):
    def instructor_hash(self) -> str | None: ...


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(passphrase: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    # maxmem: scrypt needs 128 * n * r bytes; leave headroom above OpenSSL's 32 MiB default
    return hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=128 * n * r * 2
    )


def hash_passphrase(passphrase: str, *, salt: bytes | None = None) -> str:
    """One string holding everything needed to check the passphrase later.

    Format: ``scrypt$N$r$p$<salt base64>$<key base64>`` (the parameters travel
    with the hash, so they can be raised later without locking anyone out).
    """
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    key = _scrypt(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    return f"{SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_passphrase(passphrase: str, stored: str) -> bool:
    """True when ``passphrase`` matches ``stored``; compares in constant time.

    Raises UnreadableHash when ``stored`` is not a hash this module wrote.
    """
    parts = stored.split("$")
    try:
        if len(parts) != 6 or parts[0] != SCHEME:
            raise ValueError(stored[:10])
        n, r, p = (int(x) for x in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
        if n < 2 or n & (n - 1) or not (1 <= r <= 64 and 1 <= p <= 16) or not expected or n * r > 2**24:
            raise ValueError("parameters")
    except (ValueError, binascii.Error):
        raise UnreadableHash(
            "the stored instructor passphrase is unreadable; set a new one with "
            "`tutor instructor set-passphrase`"
        ) from None
    key = _scrypt(passphrase, salt, n, r, p, len(expected))
    return hmac.compare_digest(key, expected)


def check_new_passphrase(passphrase: str) -> str:
    """The passphrase to store, or ReportError saying why it will not do."""
    if passphrase != passphrase.strip():
        raise ReportError("the passphrase must not start or end with spaces")
    if len(passphrase) < MIN_LENGTH:
        raise ReportError(f"the passphrase needs at least {MIN_LENGTH} characters")
    return passphrase


@dataclass(frozen=True)
class Grant:
    """What the holder may see: the whole class (instructor) or one learner's own data."""

    role: Literal["instructor", "learner"]
    learner_id: int | None = None

    @property
    def is_instructor(self) -> bool:
        return self.role == "instructor"

    def require_instructor(self, what: str) -> None:
        if not self.is_instructor:
            raise AccessDenied(f"{what} is for instructors only (unlock it with the instructor passphrase)")

    def require_learner(self, learner_id: int) -> None:
        """Instructors see every learner; a learner sees only themselves."""
        if self.is_instructor:
            return
        if self.learner_id is None or self.learner_id != learner_id:
            raise AccessDenied("learners can only see their own progress")


def learner_grant(learner_id: int) -> Grant:
    """A grant for one learner's own data (what the app gives the signed-in learner)."""
    return Grant("learner", int(learner_id))


def unlock(
    store: HashStore,
    passphrase: str | None,
    *,
    delay: float = FAIL_DELAY_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Grant:
    """An instructor grant for the right passphrase; AccessDenied (after ``delay`` s) otherwise."""
    stored = store.instructor_hash()
    if not stored:
        raise AccessDenied(f"no instructor passphrase is set: {SET_IT}")
    if not passphrase or not verify_passphrase(passphrase, stored):
        sleep(delay)
        raise AccessDenied("wrong instructor passphrase" if passphrase else "the instructor passphrase is required")
    return Grant("instructor")


def passphrase_from_env() -> str | None:
    """The passphrase a script put in ``TUTOR_INSTRUCTOR_PASS`` (None when unset or empty)."""
    return os.environ.get(PASS_ENV) or None
