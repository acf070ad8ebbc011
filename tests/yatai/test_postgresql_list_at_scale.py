"""``bentoml list`` against a server whose 10,000 bundles are in PostgreSQL: paginated, newest first.

As ``test_list_at_scale.py`` does for SQLite; the plan of one name's newest
versions is checked to use revision 0002's (name, seq) index.  The latencies
are ``bench/yatai_list_bench.py``'s.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from bentoml.repository.local_repository import LocalRepository
from bentoml.repository.metadata import engine_url

from .test_list_at_scale import check_list, load_rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg_loaded_server(start_yatai, tmp_path_factory, postgresql):
    """A server on a PostgreSQL database holding 10,000 ready rows (50 names), analyzed."""
    home = tmp_path_factory.mktemp("pg-latency-home")
    url = postgresql.new_database("latency")
    repo = LocalRepository(str(home), db_url=url)
    load_rows(repo, home)
    repo.close()
    server = start_yatai(home, "--no-ui", "--db-url", url)
    server.db_url = url
    return server


def test_list_of_10000_bundles_on_postgresql_is_paginated(pg_loaded_server, tmp_path):
    check_list(pg_loaded_server, tmp_path)


def test_a_names_newest_versions_come_from_the_name_seq_index(pg_loaded_server):
    engine = sa.create_engine(engine_url(pg_loaded_server.db_url))
    with engine.connect() as conn:
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(
            "EXPLAIN SELECT * FROM bentoml_bundles WHERE status='ready' AND name='Load7' "
            "ORDER BY seq DESC LIMIT 100"))
    engine.dispose()
    assert "ix_bentoml_bundles_name_seq" in plan and "Sort" not in plan, plan
