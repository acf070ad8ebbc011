"""Alembic's environment for the metadata schema.

bentoml runs it through :func:`bentoml.repository.migrations.upgrade`, which hands
over a connection inside its own transaction.  A developer's ``alembic`` command
(``alembic.ini`` beside this file, ``-x url=...`` or ``sqlalchemy.url``) gets an
engine of its own; ``--sql`` writes the SQL for a DBA instead of running it.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from bentoml.repository.metadata import engine_url, schema_metadata
from bentoml.repository.migrations import VERSION_TABLE


def _options() -> dict:
    # batch mode: SQLite alters a table by copying it, Alembic's documented way
    return {"target_metadata": schema_metadata(), "version_table": VERSION_TABLE, "render_as_batch": True}


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("name the database: alembic -x url=sqlite:///PATH/storage.db ...")
    return engine_url(url)


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if context.is_offline_mode():
        context.configure(url=_url(), literal_binds=True, **_options())
        with context.begin_transaction():
            context.run_migrations()
        return
    if connection is not None:  # bentoml's own call: its transaction, which it commits
        context.configure(connection=connection, **_options())
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = sa.create_engine(_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as own:
        context.configure(connection=own, **_options())
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


_run()
