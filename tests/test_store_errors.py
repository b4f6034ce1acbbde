"""Bad database locations: one clear StoreError, and nothing on disk changes."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tutor.store import Store, StoreError


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_explicit_path_in_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "deeper"
    with pytest.raises(StoreError, match="does not exist") as err:
        Store.open(f"sqlite:///{missing / 'tutor.db'}")
    assert "\n" not in str(err.value)
    assert not (tmp_path / "nope").exists()


def test_default_location_creates_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUTOR_HOME", str(tmp_path / "home"))
    with Store.open() as store:
        store.get_or_create_learner("ann")
    assert (tmp_path / "home" / "data" / "tutor.db").is_file()


@pytest.fixture
def read_only(tmp_path: Path):  # noqa: ANN201
    folder = tmp_path / "ro"
    folder.mkdir()
    yield folder
    folder.chmod(0o755)


def test_new_database_in_read_only_folder(read_only: Path) -> None:
    read_only.chmod(0o555)
    with pytest.raises(StoreError, match="read-only"):
        Store.open(f"sqlite:///{read_only / 'tutor.db'}")
    assert list(read_only.iterdir()) == []


def test_existing_database_in_read_only_folder_is_untouched(read_only: Path) -> None:
    path = read_only / "tutor.db"
    with Store.open(f"sqlite:///{path}") as store:
        store.get_or_create_learner("ann")
    before = _snapshot(read_only)
    read_only.chmod(0o555)
    with pytest.raises(StoreError, match="read-only"):
        Store.open(f"sqlite:///{path}")
    assert _snapshot(read_only) == before


def test_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "tutor.db"
    with Store.open(f"sqlite:///{path}"):
        pass
    path.chmod(0o444)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="read-only"):
        Store.open(f"sqlite:///{path}")
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    "content",
    [
        b"name,score\nann,3\n",  # a CSV someone pointed --db at
        b"SQLite format 3",  # too short to be a database
        b"\x00" * 4096,
        b"SQLite format 3\x00" + b"\xff" * 200,  # right magic, garbage after it
    ],
    ids=["csv", "short", "zeros", "bad-header"],
)
def test_file_that_is_not_a_database_is_unchanged(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as err:
        Store.open(f"sqlite:///{path}")
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_sqlite_database_of_another_program_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE recipes (name TEXT)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another program"):
        Store.open(f"sqlite:///{path}")
    assert path.read_bytes() == before


def test_newer_schema_sqlite_file_unchanged_byte_for_byte(tmp_path: Path) -> None:
    """A file from a future tutor: refused before SQLite even switches it to WAL."""
    path = tmp_path / "future.db"
    con = sqlite3.connect(path)  # rollback-journal mode, as a different build might leave it
    con.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    con.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    con.execute("CREATE TABLE learners (id INTEGER PRIMARY KEY)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="9999_from_the_future is newer"):
        Store.open(f"sqlite:///{path}")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["future.db"]


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a file"):
        Store.open(f"sqlite:///{tmp_path}")


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://u@h/db", "unsupported database"),
        ("not a url at all", "not a database URL"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        Store.open(url)


def test_unreachable_postgres_is_a_one_line_error() -> None:
    with pytest.raises(StoreError, match="cannot open database") as err:
        Store.open("postgresql://nobody:secret@127.0.0.1:9/none")  # port 9: nothing listens
    assert "secret" not in str(err.value)
    assert "\n" not in str(err.value)


def test_empty_file_becomes_a_database(tmp_path: Path) -> None:
    """SQLite treats a zero-byte file as an empty database; `touch tutor.db` is fine."""
    path = tmp_path / "tutor.db"
    path.touch()
    with Store.open(f"sqlite:///{path}") as store:
        store.get_or_create_learner("ann")
    assert os.path.getsize(path) > 0
