"""The kernel's LocalRepository over this plugin's file storage holds to the repository contract."""
import os

from bentoml.repository.local_repository import LocalRepository
from bentoml.testing import RepositoryContract
from bentoml_storage_local import LocalStorage


class TestLocalRepository(RepositoryContract):
    def make_repository(self, tmp_path):
        return LocalRepository(str(tmp_path / "home"))


class TestLocalRepositoryElsewhere(RepositoryContract):
    """Metadata and files away from the home, as BENTOML_DB_URL and BENTOML_REPOSITORY_URL put them."""

    def make_repository(self, tmp_path):
        return LocalRepository(str(tmp_path / "home"), db_url=f"sqlite:///{tmp_path / 'meta.db'}",
                               base_url=f"file://{tmp_path / 'files'}")


class CopyingStorage(LocalStorage):
    """This plugin's backend as if it were remote: no local path, so the repository reads
    bundles through its cache (as it will from S3)."""

    uri_type = "COPY"

    def local_path(self, uri):
        return None


class TestLocalRepositoryOverRemoteStorage(RepositoryContract):
    def make_repository(self, tmp_path):
        repo = LocalRepository(str(tmp_path / "home"))
        repo._storage = CopyingStorage(str(tmp_path / "remote"))
        return repo

    def test_saved_and_fetched_copies_live_in_the_cache(self, repository, services, tmp_path):
        path = repository.save(services[0](), version="1")
        assert path == str(tmp_path / "home" / "cache" / "ContractAlpha" / "1")
        assert repository.get("ContractAlpha:1").uri == str(tmp_path / "remote" / "ContractAlpha" / "1")
        repository.delete("ContractAlpha:1")
        assert not os.path.exists(path)
