"""Fixtures shared by every test folder: a throwaway PostgreSQL cluster on loopback.

``postgresql`` starts one :class:`bentoml.testing.postgres.PostgresCluster` for
the session; ``new_database()`` gives each test an empty database and its URL.
It is removed at the end.  Where the binaries or psycopg are missing, the
tests that use it are skipped, saying which.
"""
from __future__ import annotations

from typing import Iterator

import pytest

from bentoml.testing.postgres import PostgresCluster, find_bindir


@pytest.fixture(scope="session")
def postgresql() -> Iterator[PostgresCluster]:
    """A PostgreSQL server on 127.0.0.1 for the session (skipped where it cannot be had)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install 'bentoml[postgresql]'; tox envs postgresql, all)")
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql "
                    "package or set BENTOML_TEST_PG_BIN")
    try:
        cluster = PostgresCluster(bindir)
    except KeyError:
        pytest.skip("running as root, and there is no postgres user to run PostgreSQL as")
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    yield cluster
    cluster.stop()
