"""``RemoteRepository`` keeps the promises of every repository (``RepositoryContract``),
against a real YataiService of its own, emptied before each test."""
from __future__ import annotations

import pathlib

import pytest

from bentoml.repository.cache import BundleCache
from bentoml.testing import RepositoryContract
from bentoml.yatai.client import RemoteRepository

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def contract_server(start_yatai, tmp_path_factory):
    return start_yatai(tmp_path_factory.mktemp("contract-server"), "--no-ui")


class TestRemoteRepository(RepositoryContract):
    @pytest.fixture(autouse=True)
    def _server(self, contract_server):
        self.server = contract_server

    def make_repository(self, tmp_path: pathlib.Path) -> RemoteRepository:
        repo = RemoteRepository(self.server.url, cache=BundleCache(str(tmp_path / "cache"), 1 << 30))
        for record in repo.list():
            repo.delete(record.tag)
        return repo
