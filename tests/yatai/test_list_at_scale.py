"""``bentoml list`` against a server holding 10,000 bundles: paginated, newest first, each page right.

The rows are registered straight into the server-side metadata store
(:func:`bentoml.testing.metadata_rows.register_ready_rows`).  How fast the pages
come is measured by ``bench/yatai_list_bench.py`` (SQLite and PostgreSQL in one
run), not here.
"""
from __future__ import annotations

import json
import urllib.request

import pytest

from bentoml.repository.local_repository import LocalRepository
from bentoml.testing.metadata_rows import register_ready_rows
from bentoml.yatai.protocol import API_PREFIX

from .conftest import cli

pytestmark = pytest.mark.slow

BUNDLES = 10_000


def load_rows(repo: LocalRepository, home) -> None:
    register_ready_rows(repo, home, BUNDLES)


@pytest.fixture(scope="module")
def loaded_server(start_yatai, tmp_path_factory):
    home = tmp_path_factory.mktemp("latency-home")
    repo = LocalRepository(str(home))
    load_rows(repo, home)
    repo.close()
    return start_yatai(home, "--no-ui")


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


def check_list(server, tmp_path) -> None:
    """The API's first and last pages, one name's versions and ``bentoml list`` against
    ``server`` (holding :func:`load_rows`'s rows) answer what they should."""
    base = server.url + f"{API_PREFIX}/bundles"
    page = _get(base)
    assert len(page["bundles"]) == 100 and page["next_offset"] == 100
    assert page["bundles"][0]["version"] == f"v{BUNDLES - 1:05d}", "newest first"
    tail = _get(f"{base}?offset={BUNDLES - 100}")
    assert tail["bundles"][-1]["version"] == "v00000" and tail["next_offset"] is None
    by_name = _get(f"{base}?name=Load7&limit=1000")["bundles"]
    assert len(by_name) == BUNDLES // 50 and {b["name"] for b in by_name} == {"Load7"}
    assert len(_get(f"{base}?limit=1000")["bundles"]) == 1000
    out = cli(tmp_path / "client", server.url, "list")
    rows = [line for line in out.stdout.splitlines()[1:] if line.strip()]
    assert len(rows) == 100 and rows[0].startswith(f"Load49:v{BUNDLES - 1:05d}")
    assert "--offset=100" in out.stderr


def test_list_of_10000_bundles_is_paginated(loaded_server, tmp_path):
    check_list(loaded_server, tmp_path)


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
