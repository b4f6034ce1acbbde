"""Online backup of an SQLite progress database (``tutor db backup``).

Uses SQLite's backup API, which copies a consistent snapshot page by page even
while the app is writing, unlike copying the file (which can catch a
half-written page or miss what is still in the WAL file).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tutor.store import connect
from tutor.store.errors import StoreError


def backup(url: str | None, dest: Path, *, overwrite: bool = False) -> int:
    """Copy the database at ``url`` to ``dest``; returns the number of pages copied."""
    target = connect.parse(url)
    if not target.is_sqlite:
        raise StoreError("backup works on SQLite databases; for PostgreSQL use pg_dump")
    if target.path is None:
        raise StoreError("an in-memory database cannot be backed up")
    if not target.path.exists():
        raise StoreError(f"no database at {target.path}")
    connect.check_sqlite_file(target, known=None)  # copying a newer schema is harmless
    dest = dest.expanduser().absolute()
    if dest == target.path:
        raise StoreError("the backup file must differ from the database")
    if dest.exists() and not overwrite:
        raise StoreError(f"{dest} already exists (use --force to overwrite it)")
    if not dest.parent.is_dir():
        raise StoreError(f"cannot write {dest}: folder {dest.parent} does not exist")
    try:
        source = sqlite3.connect(str(target.path), timeout=connect.BUSY_TIMEOUT_MS / 1000)
        try:
            copy = sqlite3.connect(str(dest))
            try:
                source.backup(copy, pages=1024)
                pages = copy.execute("PRAGMA page_count").fetchone()[0]
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise StoreError(f"backup to {dest} failed: {exc}") from None
    return int(pages)
