"""`tutor db`: upgrade, inspect, back up, export and import the progress database.

Every subcommand takes ``--db URL`` (default: ``tutor.config.db_url()``) and
reports problems as one ``Error: ...`` line. SQLAlchemy and Alembic are
imported inside the commands so ``tutor --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tutor.store.errors import StoreError

db_option = click.option(
    "--db",
    "db_url",
    metavar="URL",
    default=None,
    help="Database URL (sqlite:///path.db or postgresql://...); default: TUTOR_DB_URL or the data folder.",
)


@click.group()
def db() -> None:
    """Upgrade, inspect, back up, export and import the progress database."""


@db.command()
@db_option
def upgrade(db_url: str | None) -> None:
    """Apply any pending schema migrations (the data is kept)."""
    from tutor.store import connect, migrate

    from sqlalchemy.exc import SQLAlchemyError

    try:
        target = connect.parse(db_url)
        if target.path is not None:
            connect.check_sqlite_file(target, known=migrate.is_known)
        engine = connect.create_engine(target)
        try:
            before, after = migrate.upgrade(engine, target.display())
        except SQLAlchemyError as exc:  # connection refused, permission denied ...
            raise StoreError(f"cannot upgrade {target.display()}: {connect.describe_error(exc)}") from None
        finally:
            engine.dispose()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    if before == after:
        click.echo(f"{target.display()}: already at the latest schema ({after}).")
    else:
        click.echo(f"{target.display()}: upgraded schema {before or '(empty)'} -> {after}.")


@db.command()
@db_option
def current(db_url: str | None) -> None:
    """Print the database's schema revision and the newest one this tutor knows."""
    from tutor.store import connect, migrate

    from sqlalchemy.exc import SQLAlchemyError

    try:
        target = connect.parse(db_url)
        head = migrate.head()
        if target.path is not None and not target.path.exists():
            click.echo(f"revision: none (no database at {target.path} yet)")
            click.echo(f"head:     {head}")
            return
        if target.path is not None:
            connect.check_sqlite_file(target, known=None)
        engine = connect.create_engine(target)
        try:
            with engine.connect() as connection:
                revision = migrate.current(connection)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read {target.display()}: {connect.describe_error(exc)}") from None
        finally:
            engine.dispose()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revision: {revision or 'none (empty database)'}")
    click.echo(f"head:     {head}")
    if revision == head:
        click.echo("status:   up to date")
    elif revision is None or migrate.is_known(revision):
        click.echo("status:   behind; run `tutor db upgrade` (tutor also upgrades on first use)")
    else:
        click.echo("status:   newer than this tutor; upgrade tutor")


@db.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE when it exists.")
@db_option
def backup(file: Path, force: bool, db_url: str | None) -> None:
    """Copy the SQLite database to FILE while it may be in use (SQLite online backup)."""
    from tutor.store.backup import backup as do_backup

    try:
        pages = do_backup(db_url, file, overwrite=force)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backed up {pages} pages to {file}.")


@db.command()
@click.option("--learner", default=None, metavar="NAME", help="Only this learner.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the JSON here (default: standard output).",
)
@db_option
def export(learner: str | None, out: Path | None, db_url: str | None) -> None:
    """Export learners' progress as JSON (ids left out; import it anywhere)."""
    from tutor.store import Store
    from tutor.store.transfer import dumps, export_data, write_export

    try:
        with Store.open(db_url) as store:
            if out is None:
                sys.stdout.write(dumps(export_data(store, learner)))
                return
            data = write_export(store, out, learner)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    n_attempts = sum(len(p["attempts"]) for p in data["learners"])
    click.echo(f"Exported {len(data['learners'])} learner(s), {n_attempts} attempt(s) to {out}.")


@db.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@db_option
def import_(file: Path, db_url: str | None) -> None:
    """Import a JSON export into the database (learners must not exist there yet)."""
    from tutor.store import Store
    from tutor.store.transfer import import_data, read_export

    try:
        data = read_export(file)
        with Store.open(db_url) as store:
            counts = import_data(store, data)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Imported " + ", ".join(f"{n} {what}" for what, n in counts.items()) + ".")

