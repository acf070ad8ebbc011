"""The client's cache of a server's bundles: reused while unchanged, evicted beyond its size,
and where ``BENTOML_CACHE_DIR`` says."""
from __future__ import annotations

import json

import pytest

from .conftest import cli, save

pytestmark = pytest.mark.slow


def _archive_requests(server, version):
    return server.text.count(f"GET /api/v1/bundles/TeamText/{version}/archive 200")


def test_a_fetched_bundle_is_reused(yatai, tmp_path, service_src):
    save(service_src, tmp_path / "writer", yatai.url, version="cached-1")
    reader = tmp_path / "reader"
    for _ in range(2):
        out = cli(reader, yatai.url, "run", "TeamText:cached-1", "predict", "--input", '"hello"')
        assert json.loads(out.stdout) == "greeting"
    assert _archive_requests(yatai, "cached-1") == 1, "the second run used the cached copy"


def test_least_recently_used_bundles_are_evicted(yatai, tmp_path, service_src):
    writer, reader = tmp_path / "writer", tmp_path / "reader"
    for version in ("lru-1", "lru-2"):
        save(service_src, writer, yatai.url, version=version)
    small = {"BENTOML__CACHE__MAX_SIZE": "1"}  # less than any bundle: only the one in use stays
    cli(reader, yatai.url, "run", "TeamText:lru-1", "predict", "--input", '"hello"', **small)
    first = json.loads(cli(reader, yatai.url, "get", "TeamText:lru-1").stdout)["localPath"]
    cli(reader, yatai.url, "run", "TeamText:lru-2", "predict", "--input", '"hello"', **small)
    assert "localPath" not in json.loads(cli(reader, yatai.url, "get", "TeamText:lru-1").stdout)
    assert json.loads(cli(reader, yatai.url, "get", "TeamText:lru-2").stdout)["localPath"]
    import os

    assert not os.path.exists(first)


def test_the_cache_dir_can_be_elsewhere(yatai, tmp_path, service_src):
    save(service_src, tmp_path / "writer", yatai.url, version="elsewhere-1")
    cache = tmp_path / "shared-cache"
    reader = tmp_path / "reader"
    cli(reader, yatai.url, "run", "TeamText:elsewhere-1", "predict", "--input", '"hello"',
        BENTOML_CACHE_DIR=str(cache))
    path = json.loads(cli(reader, yatai.url, "get", "TeamText:elsewhere-1",
                          BENTOML_CACHE_DIR=str(cache)).stdout)["localPath"]
    assert path.startswith(str(cache))
    assert not (reader / "cache").exists()
