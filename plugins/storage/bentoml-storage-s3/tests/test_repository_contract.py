"""The kernel's LocalRepository with its files on S3 (``BENTOML_REPOSITORY_URL=s3://...``)
holds to the repository contract; bundles are read through its local cache."""
import os

import pytest

from bentoml.repository.local_repository import LocalRepository
from bentoml.testing import RepositoryContract


class TestLocalRepositoryOnS3(RepositoryContract):
    @pytest.fixture(autouse=True)
    def _bucket(self, bucket):
        self.bucket = bucket

    def make_repository(self, tmp_path):
        return LocalRepository(str(tmp_path / "home"), base_url=f"s3://{self.bucket}/repo")

    def test_records_say_s3_and_copies_live_in_the_cache(self, repository, services, tmp_path, moto):
        path = repository.save(services[0](), version="1")
        assert path == str(tmp_path / "home" / "cache" / "ContractAlpha" / "1")
        record = repository.get("ContractAlpha:1")
        assert (record.uri_type, record.uri) == ("S3", f"s3://{self.bucket}/repo/ContractAlpha/1")
        repository.delete("ContractAlpha:1")
        assert not os.path.exists(path)
        assert moto.keys(self.bucket) == []
