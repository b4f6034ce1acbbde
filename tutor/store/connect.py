"""Turning a database URL into a working SQLAlchemy engine, safely.

Everything a user can get wrong about a database location is checked here
*before* SQLite or Alembic touch the file, because opening a foreign file with
SQLite in WAL mode, or stamping a schema table into it, would modify it:
a missing folder, a read-only folder or file, a file that is not SQLite, an
SQLite file that belongs to another program, a schema newer than this tutor.
Each becomes a one-line ``StoreError`` and the file stays byte-for-byte as it was.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tutor import config
from tutor.store.errors import StoreError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Target:
    """A parsed database location: the URL to connect to and, for SQLite files, the path."""

    url: URL
    path: Path | None  # None: a server database, an in-memory SQLite or a file: URI
    memory: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def display(self) -> str:
        """The location for messages: a path, or the URL without its password."""
        if self.path is not None:
            return str(self.path)
        return self.url.render_as_string(hide_password=True)


def parse(url: str | None) -> Target:
    """Resolve ``url`` (None: the configured default) and normalise the driver.

    ``postgresql://`` and ``postgres://`` mean psycopg 3, the driver tutor ships
    with; SQLAlchemy would otherwise look for psycopg2.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    raw = config.db_url(url)
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    try:
        parsed = make_url(raw)
    except ArgumentError:
        raise StoreError(f"not a database URL: {raw!r} (try sqlite:///path/to/tutor.db)") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    path = None
    memory = False
    if backend == "sqlite":
        database = parsed.database or ""
        memory = database in ("", ":memory:") or "mode=memory" in database
        if not memory and not database.startswith("file:"):
            path = Path(database).expanduser().absolute()
            parsed = parsed.set(database=str(path))
    return Target(parsed, path, memory)


def _writable(path: Path) -> bool:
    """Writable, counting "no write bit for anyone" as read-only even for root.

    ``os.access`` always says yes to root; a folder or file whose mode has no
    write bit at all was made read-only on purpose, so tutor respects it.
    """
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return os.access(path, os.W_OK) and bool(mode & 0o222)


def check_sqlite_file(target: Target, *, known: Callable[[str], bool] | None) -> None:
    """Refuse a SQLite location tutor must not write to, without modifying anything.

    ``known`` says whether a schema revision is one this tutor knows; None skips
    that check (``tutor db current`` reports unknown revisions instead).
    """
    path = target.path
    assert path is not None
    where = f"cannot open database {path}"
    parent = path.parent
    if not parent.is_dir():
        if path == config.paths().default_db_path.absolute():
            parent.mkdir(parents=True, exist_ok=True)
        else:
            raise StoreError(f"{where}: folder {parent} does not exist")
    if path.exists() and not path.is_file():
        raise StoreError(f"{where}: it is not a file")
    if not _writable(parent):
        raise StoreError(f"{where}: folder {parent} is read-only")
    if not path.exists():
        return
    if not _writable(path):
        raise StoreError(f"{where}: the file is read-only")
    size = path.stat().st_size
    if size == 0:
        return  # SQLite treats an empty file as an empty database
    with path.open("rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise StoreError(f"{where}: it is not an SQLite database")
    tables, revisions = _peek(path)
    if tables and "alembic_version" not in tables:
        raise StoreError(f"{where}: it is an SQLite database of another program (no tutor schema)")
    if known is not None:
        for revision in revisions:
            if not known(revision):
                raise StoreError(
                    f"{where}: its schema revision {revision} is newer than this tutor knows; "
                    "upgrade tutor to use it"
                )


def _peek(path: Path) -> tuple[set[str], list[str]]:
    """Table names and Alembic revisions of an SQLite file, opened read-only."""
    uri = f"file:{quote(str(path))}?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from None
    try:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        revisions = []
        if "alembic_version" in tables:
            revisions = [row[0] for row in con.execute("SELECT version_num FROM alembic_version")]
        return tables, revisions
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from None
    finally:
        con.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Per-connection SQLite settings: WAL, enforced foreign keys, wait instead of failing."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable across process crashes
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def create_engine(target: Target) -> Engine:
    """An engine for ``target``; safe to share between threads (one connection each)."""
    from sqlalchemy import create_engine as sa_create_engine
    from sqlalchemy import event
    from sqlalchemy.pool import StaticPool

    if target.is_sqlite:
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        }
        if target.memory:
            kwargs["poolclass"] = StaticPool  # one shared in-memory database for every thread
        engine = sa_create_engine(target.url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa_create_engine(target.url, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def describe_error(exc: BaseException) -> str:
    """The first line of the driver's own message, without SQLAlchemy's boilerplate."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__
