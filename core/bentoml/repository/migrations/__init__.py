"""Alembic migrations of the metadata schema, run in place when a repository opens.

The revisions live in ``versions/``, oldest first; :data:`REVISIONS` names them
in order, so opening a database already at :data:`HEAD` reads one row and never
imports Alembic (a test keeps the tuple and the scripts in step).

``0001`` is the baseline: the schema bentoml made before it used Alembic
(``bentoml_meta`` and ``bentoml_bundles``).  A complete database of that time
(a ``storage.db`` of an earlier release, or a server's PostgreSQL database) is
*stamped* with it, never created again; later revisions then upgrade it in
place, in the same transaction, so a process killed midway leaves the database
as it was.

A developer adding a revision: ``alembic -c core/bentoml/repository/migrations/alembic.ini
-x url=sqlite:///PATH/storage.db revision --autogenerate --rev-id 0003 -m "what changes"``
(autogenerate compares with :func:`~bentoml.repository.metadata.schema_metadata`), then
append its id to :data:`REVISIONS`.
"""
from __future__ import annotations

import logging
import os

import sqlalchemy as sa

#: Alembic's own table, the one table of a bentoml database that is not bentoml's.
VERSION_TABLE = "alembic_version"
#: Every revision, oldest first.
REVISIONS = ("0001", "0002")
BASELINE = REVISIONS[0]
HEAD = REVISIONS[-1]
#: The tables a database made before Alembic holds (what ``0001`` creates).
BASELINE_TABLES = frozenset({"bentoml_meta", "bentoml_bundles"})

SCRIPT_LOCATION = os.path.dirname(os.path.abspath(__file__))

logger = logging.getLogger(__name__)


def alembic_config(connection: "sa.Connection | None" = None):
    """An Alembic ``Config`` for these scripts; with ``connection``, env.py migrates on it
    (in the caller's transaction) instead of opening its own."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection: sa.Connection, current: "str | None", pre_alembic: bool, shown: str = "") -> None:
    """Bring the database on ``connection`` to :data:`HEAD` inside the caller's transaction.

    ``current`` is its revision (None: none recorded); ``pre_alembic`` says that it
    holds the complete schema of a bentoml before Alembic, which is stamped as the
    baseline instead of created.  Anything else without a revision (an empty database,
    or part of the baseline an older bentoml was killed while creating) runs every
    revision from the start: the baseline creates only the tables that are missing.
    ``shown`` names the database in the log line (its URL without the password)."""
    from alembic import command

    config = alembic_config(connection)
    if current is None and pre_alembic:
        command.stamp(config, BASELINE)
        current = BASELINE
        logger.info("upgrading the metadata database %s, made before migrations, to revision %s", shown, HEAD)
    elif current is not None:
        logger.info("upgrading the metadata database %s from revision %s to %s", shown, current, HEAD)
    if current != HEAD:
        command.upgrade(config, HEAD)
