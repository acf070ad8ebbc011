"""The kernel's LocalRepository over this plugin's file storage holds to the repository contract."""
from bentoml.repository.local_repository import LocalRepository
from bentoml.testing import RepositoryContract


class TestLocalRepository(RepositoryContract):
    def make_repository(self, tmp_path):
        return LocalRepository(str(tmp_path / "home"))


class TestLocalRepositoryElsewhere(RepositoryContract):
    """Metadata and files away from the home, as BENTOML_DB_URL and BENTOML_REPOSITORY_URL put them."""

    def make_repository(self, tmp_path):
        return LocalRepository(str(tmp_path / "home"), db_url=f"sqlite:///{tmp_path / 'meta.db'}",
                               base_url=f"file://{tmp_path / 'files'}")
