"""Alembic's environment for obsnet: migrates the connection it is handed (see adapters.sqlalchemy.migrate).

Run through ``adapters.sqlalchemy.migrate.upgrade``, Alembic gets an open connection in
``config.attributes["connection"]``; run from the ``alembic`` command line it builds an engine from the
``sqlalchemy.url`` option instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from adapters.sqlalchemy.tables import metadata
from adapters.sqlalchemy.uow import make_engine


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
