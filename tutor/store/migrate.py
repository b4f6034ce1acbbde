"""Schema migrations with Alembic, configured in code.

There is no alembic.ini: the Config is built here with ``script_location``
pointing at the shipped migrations (``db/`` in a checkout, ``tutor/_data/db``
in the wheel), and every command runs on a connection tutor already opened, so
the same code path serves ``Store.open``, ``tutor db`` and the tests.

Upgrades never recreate a database: they apply the missing revisions in place.
On SQLite the upgrade runs inside ``BEGIN IMMEDIATE`` (SQLite DDL is
transactional), on PostgreSQL under an advisory lock, so two processes opening
a fresh database at once do not both try to create the tables.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from tutor import config
from tutor.store.errors import StoreError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Connection, Engine

# Any constant works; it only has to be the same for every tutor process.
_PG_LOCK_KEY = 0x7475746F72  # "tutor"


def migrations_dir() -> Path:
    """The folder holding env.py and versions/: the checkout's db/, else the wheel's copy."""
    return config._bundled("db")


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()).replace("%", "%%"))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision this tutor ships."""
    heads = _script().get_heads()
    if len(heads) != 1:
        raise StoreError(f"the shipped migrations have {len(heads)} heads; expected one")
    return heads[0]


def is_known(revision: str) -> bool:
    """Whether ``revision`` is one of the shipped migrations."""
    from alembic.util import CommandError

    try:
        return _script().get_revision(revision) is not None
    except CommandError:
        return False


def current(connection: Connection) -> str | None:
    """The database's revision; None for a database tutor has not set up yet."""
    from alembic.runtime.migration import MigrationContext

    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


def check_known(connection: Connection, where: str) -> str | None:
    """The current revision, or StoreError when it is newer than this tutor."""
    revision = current(connection)
    if revision is not None and not is_known(revision):
        raise StoreError(
            f"cannot open database {where}: its schema revision {revision} is newer than this "
            "tutor knows; upgrade tutor to use it"
        )
    return revision


def upgrade(engine: Engine, where: str, target: str = "head") -> tuple[str | None, str | None]:
    """Bring the database to ``target``; returns (revision before, revision after)."""
    return _run(engine, where, "upgrade", target)


def downgrade(engine: Engine, where: str, target: str) -> tuple[str | None, str | None]:
    """Step the schema back (tests and emergencies; drops the tables it undoes)."""
    return _run(engine, where, "downgrade", target)


def _run(engine: Engine, where: str, direction: str, target: str) -> tuple[str | None, str | None]:
    from alembic import command
    from sqlalchemy import text

    with engine.connect() as connection:
        before = check_known(connection, where)
        connection.rollback()
        if direction == "upgrade" and target == "head" and before == head():
            return before, before
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        before = check_known(connection, where)  # another process may have upgraded meanwhile
        getattr(command, direction)(alembic_config(connection), target)
        after = current(connection)
        connection.commit()
    return before, after


def revision(message: str, url: str) -> None:
    """Developer helper: autogenerate a new migration against a database at head."""
    from alembic import command
    from sqlalchemy import create_engine

    with create_engine(url).connect() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True)
