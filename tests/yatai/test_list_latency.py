"""``bentoml list`` against a server holding 10,000 bundles: paginated, and well under a second.

The rows are registered straight into the server-side metadata store in one
transaction (saving 10,000 real bundles would take minutes); each is a ready
row with a real bundle config, as a save leaves it.  The latencies are printed
(run with ``-s`` to see them).
"""
from __future__ import annotations

import json
import statistics
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from bentoml.repository.local_repository import LocalRepository
from bentoml.repository.metadata import READY, bundles_table
from bentoml.yatai.protocol import API_PREFIX

from .conftest import cli

pytestmark = pytest.mark.slow

BUNDLES = 10_000
CONFIG = {"schema_version": 1, "kind": "BentoService", "name": "Load", "version": "v",
          "apis": [{"name": "predict", "input_type": "JsonInput"}],
          "artifacts": [{"name": "clf", "artifact_type": "PickleArtifact"}]}


def load_rows(repo: LocalRepository, home) -> None:
    """Register BUNDLES ready rows (50 names, one a second, the newest last) in ``repo``'s
    metadata store in one transaction, each with a real bundle config."""
    start = datetime.now(timezone.utc) - timedelta(days=1)
    rows = [{"name": f"Load{i % 50}", "version": f"v{i:05d}", "status": READY,
             "uri": str(home / "repository" / f"Load{i % 50}" / f"v{i:05d}"), "uri_type": "LOCAL",
             "created_at": start + timedelta(seconds=i), "owner": "test:0",
             "bundle_config": json.dumps(dict(CONFIG, name=f"Load{i % 50}", version=f"v{i:05d}"))}
            for i in range(BUNDLES)]
    with repo.metadata.engine.begin() as conn:
        conn.execute(bundles_table.insert(), rows)
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE bentoml_bundles")


@pytest.fixture(scope="module")
def loaded_server(start_yatai, tmp_path_factory):
    home = tmp_path_factory.mktemp("latency-home")
    repo = LocalRepository(str(home))
    load_rows(repo, home)
    repo.close()
    return start_yatai(home, "--no-ui")


def _timed(url: str) -> tuple:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as answer:
        data = json.loads(answer.read())
    return time.perf_counter() - began, data


def measure_list(server, tmp_path, label: str) -> None:
    """Time the API's pages and ``bentoml list`` against ``server`` (holding :func:`load_rows`'s
    rows), check what they answer, print the latencies and hold them to their bounds."""
    base = server.url + f"{API_PREFIX}/bundles"
    _timed(base)  # warm: the first connection
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
    out = cli(tmp_path / "client", server.url, "list")
    cli_seconds = time.perf_counter() - began
    began = time.perf_counter()
    cli(tmp_path / "client", server.url, "--help")
    startup = time.perf_counter() - began
    rows = [line for line in out.stdout.splitlines()[1:] if line.strip()]
    assert len(rows) == 100 and rows[0].startswith(f"Load49:v{BUNDLES - 1:05d}")
    assert "--offset=100" in out.stderr
    print(f"\n{label}, {BUNDLES} bundles: API first page (100) median {statistics.median(first) * 1000:.1f} ms, "
          f"last page (offset {BUNDLES - 100}) {statistics.median(last) * 1000:.1f} ms, "
          f"one name (200 rows) {statistics.median(by_name) * 1000:.1f} ms, "
          f"1000 rows {statistics.median(big) * 1000:.1f} ms; "
          f"`bentoml list` wall {cli_seconds:.2f} s (of which `bentoml --help` start-up {startup:.2f} s)")
    assert statistics.median(first) < 0.5 and statistics.median(last) < 0.5
    assert cli_seconds - startup < 1.0


def test_list_of_10000_bundles_is_paginated_and_fast(loaded_server, tmp_path):
    measure_list(loaded_server, tmp_path, "SQLite")


def test_the_indexes_serve_the_list_queries(loaded_server):
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{loaded_server.home / 'storage.db'}")
    with engine.connect() as conn:
        newest = " ".join(r[-1] for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT * FROM bentoml_bundles WHERE status='ready' ORDER BY seq DESC LIMIT 100"))
        by_name = " ".join(r[-1] for r in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT * FROM bentoml_bundles WHERE status='ready' AND name='Load7' "
            "ORDER BY seq DESC LIMIT 100"))
    engine.dispose()
    assert "SCAN bentoml_bundles" in newest and "TEMP B-TREE" not in newest, newest  # the primary key's order
    assert "USING INDEX" in by_name, by_name
