"""Alembic environment for the tutor progress database.

tutor builds its Alembic ``Config`` in code (``tutor.store.migrate``) and hands
an open connection over in ``config.attributes["connection"]``, so the same
migrations run from a checkout and from an installed wheel with no alembic.ini.
For developers, ``alembic -x url=sqlite:///path.db revision --autogenerate``
style use is supported too through ``sqlalchemy.url`` / ``-x url=``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from tutor.store.schema import Base, UTCDateTime

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url", ""
    )


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        with create_engine(_url()).connect() as own:
            _run(own)
            own.commit()
        return
    _run(connection)


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write UTCDateTime as a plain timestamp so migrations never import tutor code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection) -> None:  # noqa: ANN001 - an SQLAlchemy Connection
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs table copies for ALTERs; batch mode does them
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
