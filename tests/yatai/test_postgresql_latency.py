"""``bentoml list`` against a server whose 10,000 bundles are in PostgreSQL: paginated, well under a second.

As ``test_list_latency.py`` does for SQLite: the rows go straight into the
server's database in one transaction, each a ready row with a real bundle
config; the latencies are printed (``-s`` shows them).  The plan of one name's
newest versions is checked to use revision 0002's (name, seq) index.
"""
from __future__ import annotations

import json
import statistics
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bentoml.repository.local_repository import LocalRepository
from bentoml.repository.metadata import READY, bundles_table, engine_url
from bentoml.yatai.protocol import API_PREFIX

from .conftest import cli
from .test_list_latency import BUNDLES, CONFIG, _timed

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg_loaded_server(start_yatai, tmp_path_factory, postgresql):
    """A server on a PostgreSQL database holding 10,000 ready rows (50 names), analyzed."""
    home = tmp_path_factory.mktemp("pg-latency-home")
    url = postgresql.new_database("latency")
    repo = LocalRepository(str(home), db_url=url)
    start = datetime.now(timezone.utc) - timedelta(days=1)
    rows = [{"name": f"Load{i % 50}", "version": f"v{i:05d}", "status": READY,
             "uri": str(home / "repository" / f"Load{i % 50}" / f"v{i:05d}"), "uri_type": "LOCAL",
             "created_at": start + timedelta(seconds=i), "owner": "test:0",
             "bundle_config": json.dumps(dict(CONFIG, name=f"Load{i % 50}", version=f"v{i:05d}"))}
            for i in range(BUNDLES)]
    with repo.metadata.engine.begin() as conn:
        conn.execute(bundles_table.insert(), rows)
        conn.exec_driver_sql("ANALYZE bentoml_bundles")
    repo.close()
    server = start_yatai(home, "--no-ui", "--db-url", url)
    server.db_url = url
    return server


def test_list_of_10000_bundles_on_postgresql_is_paginated_and_fast(pg_loaded_server, tmp_path):
    base = pg_loaded_server.url + f"{API_PREFIX}/bundles"
    _timed(base)  # warm: the pool's first connection
    first = [_timed(base)[0] for _ in range(5)]
    _, page = _timed(base)
    assert len(page["bundles"]) == 100 and page["next_offset"] == 100
    assert page["bundles"][0]["version"] == f"v{BUNDLES - 1:05d}", "newest first"
    last = [_timed(f"{base}?offset={BUNDLES - 100}")[0] for _ in range(5)]
    _, tail = _timed(f"{base}?offset={BUNDLES - 100}")
    assert tail["bundles"][-1]["version"] == "v00000" and tail["next_offset"] is None
    by_name = [_timed(f"{base}?name=Load7&limit=1000")[0] for _ in range(5)]
    big = [_timed(f"{base}?limit=1000")[0] for _ in range(3)]

    began = time.perf_counter()
    out = cli(tmp_path / "client", pg_loaded_server.url, "list")
    cli_seconds = time.perf_counter() - began
    began = time.perf_counter()
    cli(tmp_path / "client", pg_loaded_server.url, "--help")
    startup = time.perf_counter() - began
    rows = [line for line in out.stdout.splitlines()[1:] if line.strip()]
    assert len(rows) == 100 and rows[0].startswith(f"Load49:v{BUNDLES - 1:05d}")
    assert "--offset=100" in out.stderr
    print(f"\nPostgreSQL, {BUNDLES} bundles: API first page (100) median {statistics.median(first) * 1000:.1f} ms, "
          f"last page (offset {BUNDLES - 100}) {statistics.median(last) * 1000:.1f} ms, "
          f"one name (200 rows) {statistics.median(by_name) * 1000:.1f} ms, "
          f"1000 rows {statistics.median(big) * 1000:.1f} ms; "
          f"`bentoml list` wall {cli_seconds:.2f} s (of which `bentoml --help` start-up {startup:.2f} s)")
    assert statistics.median(first) < 0.5 and statistics.median(last) < 0.5
    assert cli_seconds - startup < 1.0


def test_a_names_newest_versions_come_from_the_name_seq_index(pg_loaded_server):
    engine = sa.create_engine(engine_url(pg_loaded_server.db_url))
    with engine.connect() as conn:
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(
            "EXPLAIN SELECT * FROM bentoml_bundles WHERE status='ready' AND name='Load7' "
            "ORDER BY seq DESC LIMIT 100"))
    engine.dispose()
    assert "ix_bentoml_bundles_name_seq" in plan and "Sort" not in plan, plan
