"""`tutor instructor`: set the passphrase that guards the instructor reports.

Only a salted scrypt hash is stored (``tutor.reports.access``). Changing an
existing passphrase asks for the current one first, so a learner at the same
machine cannot simply replace it. Scripts give the passphrases in
``TUTOR_INSTRUCTOR_PASS`` (the current one, or the first one) and
``TUTOR_INSTRUCTOR_NEW_PASS`` (a replacement).
"""

from __future__ import annotations

import os

import click

from tutor.store.errors import StoreError


@click.group()
def instructor() -> None:
    """Instructor access (set the passphrase)."""


@instructor.command("set-passphrase")
@click.option("--db", "db_url", metavar="URL", default=None,
              help="Database URL (default: TUTOR_DB_URL or the data folder).")
def set_passphrase(db_url: str | None) -> None:
    """Set (or change) the instructor passphrase: at least 8 characters, asked twice."""
    from tutor.reports import access
    from tutor.reports.errors import ReportError, UnreadableHash
    from tutor.store import Store

    try:
        with Store.open(db_url) as store:
            existing = store.instructor_hash()
            new_env = access.PASS_ENV
            if existing:
                new_env = access.NEW_PASS_ENV
                current = access.passphrase_from_env() or click.prompt(
                    "Current instructor passphrase", hide_input=True, err=True
                )
                try:
                    access.unlock(store, current)
                except UnreadableHash:
                    click.echo("The stored passphrase hash was unreadable; replacing it.", err=True)
            new = os.environ.get(new_env) or click.prompt(
                "New instructor passphrase", hide_input=True, confirmation_prompt=True, err=True
            )
            store.set_instructor_hash(access.hash_passphrase(access.check_new_passphrase(new)))
            location = store.location
    except (StoreError, ReportError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Instructor passphrase {'changed' if existing else 'set'} for {location}.")
