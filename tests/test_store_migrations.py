"""Schema migrations: every revision goes up and down, and matches the ORM tables."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pg import db_url  # noqa: F401 - fixture
from sqlalchemy import create_engine, inspect, text

from tutor.store import Store, StoreError, migrate
from tutor.store.connect import create_engine as store_engine
from tutor.store.connect import parse
from tutor.store.schema import Base

TABLES = {
    "learners",
    "instructor_credentials",
    "study_sessions",
    "chat_messages",
    "quiz_attempts",
    "hints",
    "concept_mastery",
    "review_schedule",
}


def _tables(engine) -> set[str]:  # noqa: ANN001
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_empty_to_head_to_base_to_head(db_url: str) -> None:  # noqa: F811
    engine = store_engine(parse(db_url))
    try:
        assert _tables(engine) == set()
        assert migrate.upgrade(engine, db_url) == (None, migrate.head())
        assert _tables(engine) == TABLES
        assert migrate.downgrade(engine, db_url, "base") == (migrate.head(), None)
        assert _tables(engine) == set()
        assert migrate.upgrade(engine, db_url) == (None, migrate.head())
        assert _tables(engine) == TABLES
        assert migrate.upgrade(engine, db_url) == (migrate.head(), migrate.head())  # no-op at head
    finally:
        engine.dispose()


def test_migrations_match_the_orm_tables(db_url: str) -> None:  # noqa: F811
    """Autogenerate finds nothing to do: the shipped migrations build exactly schema.py."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = store_engine(parse(db_url))
    try:
        migrate.upgrade(engine, db_url)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_open_upgrades_an_older_database_in_place(tmp_path: Path) -> None:
    """A database at an older revision (here: base, tables gone) is upgraded, not replaced."""
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    engine = store_engine(parse(url))
    migrate.upgrade(engine, url)
    migrate.downgrade(engine, url, "base")
    with engine.begin() as conn:  # something of the user's that an upgrade must keep
        conn.execute(text("CREATE TABLE notes (body TEXT)"))
        conn.execute(text("INSERT INTO notes VALUES ('keep me')"))
    engine.dispose()
    inode = path.stat().st_ino

    with Store.open(url) as store:
        learner = store.get_or_create_learner("ada")
        assert store.get_learner("ada") == learner
    assert path.stat().st_ino == inode
    check = create_engine(url)
    with check.connect() as conn:
        assert conn.execute(text("SELECT body FROM notes")).scalar_one() == "keep me"
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == migrate.head()
    check.dispose()
    with Store.open(url) as store:  # reopening at head keeps the data
        assert [r.name for r in store.list_learners()] == ["ada"]


def test_newer_schema_is_refused_untouched(db_url: str) -> None:  # noqa: F811
    with Store.open(db_url) as store:
        store.get_or_create_learner("ada")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff9999'"))
    engine.dispose()
    path = Path(db_url.removeprefix("sqlite:///")) if db_url.startswith("sqlite") else None
    before = path.read_bytes() if path else None

    with pytest.raises(StoreError, match="newer than this tutor"):
        Store.open(db_url)

    if path:
        assert path.read_bytes() == before
    engine = create_engine(db_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "ffff9999"
        assert conn.execute(text("SELECT name FROM learners")).scalar_one() == "ada"
    engine.dispose()


def test_two_first_opens_at_once_both_succeed(tmp_path: Path) -> None:
    """Opening a new database from two threads at once: the migration lock lets one create it."""
    url = f"sqlite:///{tmp_path / 'race.db'}"
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def opener() -> None:
        barrier.wait()
        try:
            with Store.open(url) as store:
                store.get_or_create_learner("same")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with Store.open(url) as store:
        assert [r.name for r in store.list_learners()] == ["same"]


def test_migrations_folder_is_found_and_shipped() -> None:
    """The checkout's db/ holds env.py and the versions; pyproject ships it as tutor/_data/db."""
    import tomllib

    folder = migrate.migrations_dir()
    assert (folder / "env.py").is_file()
    assert any((folder / "versions").glob("0001_*.py"))
    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    force = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force["db"] == "tutor/_data/db"


def test_installed_layout_resolves_to_the_wheel_copy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without a checkout next to the package, migrations come from tutor/_data/db."""
    import tutor.config as config

    monkeypatch.setattr(config, "_SOURCE_ROOT", tmp_path)
    assert migrate.migrations_dir() == config._PACKAGE_DIR / "_data" / "db"
