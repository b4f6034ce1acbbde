"""PostgreSQL and database-URL helpers for the store tests.

The server comes from ``tests/setup_postgres.sh`` (``make test`` runs it) or
from ``TUTOR_TEST_PG_URL``. Each test gets its own freshly created database, so
tests never see each other's rows and can run next to other helpers' tests.
When no server answers, PostgreSQL cases skip and say why.

Test modules import the ``db_url`` fixture from here:
``from pg import db_url  # noqa: F401`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:54329/tutor_test"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _normalise(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@cache
def server() -> tuple[str | None, str]:
    """(URL of a reachable server's test database, or None; why not)."""
    from sqlalchemy import create_engine, text

    url = _normalise(os.environ.get("TUTOR_TEST_PG_URL") or DEFAULT_PG_URL)
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        first = str(getattr(exc, "orig", exc)).strip().splitlines()
        reason = first[0] if first else type(exc).__name__
        return None, (
            f"no PostgreSQL at {engine.url.render_as_string(hide_password=True)} ({reason}); "
            "run tests/setup_postgres.sh or set TUTOR_TEST_PG_URL"
        )
    finally:
        engine.dispose()
    return url, ""


def pg_server_url() -> str:
    """The server's test database URL, or skip the calling test."""
    url, why = server()
    if url is None:
        pytest.skip(why)
    return url


def _admin(url: str):  # noqa: ANN202 - an SQLAlchemy Engine
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_pg_database() -> str:
    """A new, empty database on the test server; drop it with ``drop_pg_database``."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    base = pg_server_url()
    name = f"tutor_t_{uuid.uuid4().hex[:12]}"
    admin = _admin(base)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))  # name is generated above, not input
    finally:
        admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    assert name and name.startswith("tutor_t_")
    admin = _admin(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "progress.db")
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)
