"""``RepositoryContract``: what every :class:`~bentoml.repository.Repository` promises.

``LocalRepository`` and the team server's client subclass it, so a bundle
saved, listed, fetched or deleted behaves the same wherever it is kept.
"""
from __future__ import annotations

import os
import pathlib
import re
import uuid
from typing import Iterator, Tuple

import pytest

from bentoml.bundle.config import BundleConfig
from bentoml.bundle.load import load_from_dir
from bentoml.exceptions import BundleError, InvalidArgument, NotFound, RepositoryError
from bentoml.repository import Repository
from bentoml.testing.services import PLAIN_SERVICES, service_module


class RepositoryContract:
    """Tests for a repository implementation.

    Implement ``make_repository(tmp_path)`` returning an empty repository;
    the tests save services that need no plugin (:data:`PLAIN_SERVICES`).
    """

    def make_repository(self, tmp_path: pathlib.Path) -> Repository:
        raise NotImplementedError

    @pytest.fixture
    def repository(self, tmp_path: pathlib.Path) -> Iterator[Repository]:
        repo = self.make_repository(tmp_path)
        try:
            yield repo
        finally:
            repo.close()

    @pytest.fixture
    def services(self, tmp_path: pathlib.Path) -> Iterator[Tuple[type, type]]:
        """The classes ``ContractAlpha`` and ``ContractBeta``, importable for the test."""
        module = f"repository_contract_{uuid.uuid4().hex[:8]}"
        with service_module(PLAIN_SERVICES, module, tmp_path / "services") as loaded:
            yield loaded.ContractAlpha, loaded.ContractBeta

    def test_save_returns_a_local_bundle(self, repository, services) -> None:
        """``save`` returns a local directory holding the new version, and ``get`` lists it."""
        path = repository.save(services[0]())
        config = BundleConfig.load(path)
        assert config.name == "ContractAlpha" and re.match(r"^\d{14}_[0-9A-F]{6}$", config.version)
        record = repository.get(f"ContractAlpha:{config.version}")
        assert (record.name, record.version, record.tag) == ("ContractAlpha", config.version,
                                                            f"ContractAlpha:{config.version}")
        assert record.config["version"] == config.version

    def test_latest_is_the_newest_save(self, repository, services) -> None:
        """``NAME`` and ``NAME:latest`` name the version saved last, whatever its name."""
        for version in ("b2", "a1", "c3"):
            repository.save(services[0](), version=version)
        assert repository.get("ContractAlpha:latest").version == "c3"
        assert repository.get("ContractAlpha").version == "c3"
        assert repository.get("ContractAlpha:a1").version == "a1"

    def test_a_taken_version_is_refused(self, repository, services) -> None:
        """Saving an existing version again is a RepositoryError; the first stays."""
        first = repository.save(services[0](), version="1.0")
        with pytest.raises(RepositoryError, match="1.0"):
            repository.save(services[0](), version="1.0")
        assert [r.version for r in repository.list()] == ["1.0"]
        assert BundleConfig.load(repository.resolve("ContractAlpha:1.0")).version == "1.0"
        assert os.path.isdir(first)

    def test_unknown_tags_are_not_found(self, repository, services, tmp_path) -> None:
        """Every read names a missing bundle with NotFound, and an invalid tag with InvalidArgument."""
        repository.save(services[0](), version="1")
        for call in (lambda: repository.get("ContractAlpha:2"), lambda: repository.get("Nothing"),
                     lambda: repository.delete("Nothing:latest"), lambda: repository.resolve("Nothing:1"),
                     lambda: repository.retrieve("Nothing:1", str(tmp_path / "out"))):
            with pytest.raises(NotFound):
                call()
        with pytest.raises(InvalidArgument):
            repository.get("../ContractAlpha:1")
        with pytest.raises(InvalidArgument):
            repository.get("ContractAlpha:../1")

    def test_list_pages_and_orders(self, repository, services) -> None:
        """``list`` is newest first; ``limit`` and ``offset`` cut pages; ``name`` and ``order_by`` select."""
        alpha, beta = services
        for version in ("1", "2", "3"):
            repository.save(alpha(), version=version)
        repository.save(beta(), version="1")
        tags = [r.tag for r in repository.list()]
        assert tags == ["ContractBeta:1", "ContractAlpha:3", "ContractAlpha:2", "ContractAlpha:1"]
        assert [r.tag for r in repository.list(limit=2)] == tags[:2]
        assert [r.tag for r in repository.list(limit=2, offset=2)] == tags[2:]
        assert repository.list(offset=10) == []
        assert [r.tag for r in repository.list(ascending=True)] == tags[::-1]
        assert [r.version for r in repository.list(name="ContractAlpha")] == ["3", "2", "1"]
        assert [r.tag for r in repository.list(order_by="name", ascending=True)] == [
            "ContractAlpha:3", "ContractAlpha:2", "ContractAlpha:1", "ContractBeta:1"]
        with pytest.raises(InvalidArgument):
            repository.list(order_by="size")

    def test_delete_unlists_one_version(self, repository, services) -> None:
        """``delete`` removes one version and returns it; latest falls back to the one before."""
        for version in ("1", "2"):
            repository.save(services[0](), version=version)
        assert repository.delete("ContractAlpha:latest").version == "2"
        with pytest.raises(NotFound):
            repository.get("ContractAlpha:2")
        assert repository.get("ContractAlpha").version == "1"
        repository.save(services[0](), version="2")  # the version is free again
        assert repository.get("ContractAlpha").version == "2"

    def test_retrieve_copies_into_an_empty_directory_only(self, repository, services, tmp_path) -> None:
        """``retrieve`` copies the bundle into a missing or empty directory and never overwrites."""
        repository.save(services[0](), version="1")
        target = tmp_path / "copy"
        assert repository.retrieve("ContractAlpha:1", str(target)) == str(target)
        assert BundleConfig.load(str(target)).version == "1"
        busy = tmp_path / "busy"
        busy.mkdir()
        (busy / "mine.txt").write_text("keep")
        with pytest.raises(RepositoryError):
            repository.retrieve("ContractAlpha:1", str(busy))
        assert os.listdir(busy) == ["mine.txt"]

    def test_retrieve_refuses_a_target_inside_the_bundle(self, repository, services, tmp_path) -> None:
        """``retrieve`` into the bundle's own folder (or below it) is a RepositoryError, and the
        stored bundle is left as it was."""
        repository.save(services[0](), version="1")
        local = repository.resolve("ContractAlpha:1")
        before = sorted(p.relative_to(local) for p in pathlib.Path(local).rglob("*"))
        for inside in (os.path.join(local, "copy"), os.path.join(local, "ContractAlpha", "copy")):
            with pytest.raises(RepositoryError, match="cannot retrieve ContractAlpha:1"):
                repository.retrieve("ContractAlpha:1", inside)
        assert sorted(p.relative_to(local) for p in pathlib.Path(local).rglob("*")) == before

    def test_delete_from_inside_the_bundle_folder(self, repository, services, monkeypatch) -> None:
        """``delete`` run with the working directory in the bundle's folder removes its files too."""
        repository.save(services[0](), version="1")
        local = repository.resolve("ContractAlpha:1")
        monkeypatch.chdir(local)
        repository.delete("ContractAlpha:1")
        with pytest.raises(NotFound):
            repository.get("ContractAlpha:1")
        assert not os.path.exists(local)

    def test_resolve_takes_paths_and_tags(self, repository, services, tmp_path) -> None:
        """An existing directory resolves to itself, a tag to a loadable local bundle, a
        path-like name that is not a directory to a BundleError."""
        repository.save(services[0](), version="1")
        resolved = repository.resolve("ContractAlpha:latest")
        assert load_from_dir(resolved).version == "1"
        assert repository.resolve(resolved) == resolved
        with pytest.raises(BundleError):
            repository.resolve(str(tmp_path / "no-such-dir"))
