"""The S3 backend against a real moto server: the storage contract, and what only S3 has."""
import json
import os
import stat
import subprocess
import sys

import pytest

from bentoml.exceptions import RepositoryError
from bentoml.repository.storage import get_storage
from bentoml.testing import StorageBackendContract
from bentoml.testing.contracts.storage import small_bundle as bundle
from bentoml_storage_s3 import S3Storage
from bentoml_storage_s3.testing import AWS_VARIABLES, aws_env


class TestS3Storage(StorageBackendContract):
    scheme = "s3"
    distribution = "bentoml-storage-s3"
    framework_module = "s3fs"

    @pytest.fixture(autouse=True)
    def _bucket(self, bucket):
        self.bucket = bucket

    def make_backend(self, tmp_path):
        return S3Storage(f"s3://{self.bucket}/team/bentos")


def test_get_storage_picks_s3_for_s3_urls(plugin_registry):
    backend = get_storage("s3://some-bucket/a//b/")
    assert isinstance(backend, S3Storage) and backend.base_url == "s3://some-bucket/a/b"
    assert backend.uri_for("Svc", "1") == "s3://some-bucket/a/b/Svc/1"


@pytest.mark.parametrize("url", ["s3://", "s3:///prefix", "s3://bucket/a/../b", "s3://bucket/p?x=1"])
def test_bad_base_urls_are_refused(url):
    with pytest.raises(RepositoryError):
        S3Storage(url)


def test_layout_modes_and_empty_dirs_survive(moto, bucket, tmp_path):
    backend = S3Storage(f"s3://{bucket}")
    uri = backend.put_dir(str(bundle(tmp_path)), "Svc", "1")
    assert uri == f"s3://{bucket}/Svc/1"
    assert moto.keys(bucket) == [".manifests/Svc/1.json", "Svc/1/bentoml.yml", "Svc/1/docker-entrypoint.sh"]
    backend.get_dir(uri, str(tmp_path / "out"))
    assert os.stat(tmp_path / "out" / "docker-entrypoint.sh").st_mode & stat.S_IXUSR
    assert not os.stat(tmp_path / "out" / "bentoml.yml").st_mode & stat.S_IXUSR
    assert os.path.isdir(tmp_path / "out" / "empty")


def test_delete_takes_one_version_not_its_prefix_siblings(moto, bucket, tmp_path):
    """Version 1's objects are a prefix of version 10's keys: deleting 1 leaves 10 whole."""
    backend = S3Storage(f"s3://{bucket}/p")
    one = backend.put_dir(str(bundle(tmp_path)), "Svc", "1")
    ten = backend.put_dir(str(bundle(tmp_path)), "Svc", "10")
    backend.delete(one)
    assert not backend.exists(one) and backend.exists(ten)
    assert moto.keys(bucket) == ["p/.manifests/Svc/10.json", "p/Svc/10/bentoml.yml", "p/Svc/10/docker-entrypoint.sh"]


def test_objects_without_a_manifest_are_no_bundle(moto, bucket, tmp_path):
    """A save killed before its manifest was written left objects: they are not a bundle,
    a new save of that version goes through, and delete removes the leftovers."""
    backend = S3Storage(f"s3://{bucket}")
    backend.fs.pipe_file(f"{bucket}/Svc/1/half-uploaded.bin", b"x" * 10)
    assert not backend.exists(f"s3://{bucket}/Svc/1")
    with pytest.raises(RepositoryError, match="no bundle is stored"):
        backend.get_dir(f"s3://{bucket}/Svc/1", str(tmp_path / "out"))
    backend.delete(f"s3://{bucket}/Svc/1")
    assert moto.keys(bucket) == []


def test_a_corrupt_manifest_is_named(moto, bucket, tmp_path):
    backend = S3Storage(f"s3://{bucket}")
    uri = backend.put_dir(str(bundle(tmp_path)), "Svc", "1")
    backend.fs.pipe_file(f"{bucket}/.manifests/Svc/1.json", json.dumps({"files": [{"path": "../x"}]}).encode())
    with pytest.raises(RepositoryError, match="manifest of .*Svc/1 is corrupt"):
        backend.get_dir(uri, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_check_writable_names_a_missing_bucket(moto):
    with pytest.raises(RepositoryError, match="the S3 bucket 'no-such-bucket' of s3://no-such-bucket/x does not exist"):
        S3Storage("s3://no-such-bucket/x").check_writable()


def test_check_writable_without_credentials_says_so(moto, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(RepositoryError, match="no AWS credentials .*set AWS_ACCESS_KEY_ID"):
        S3Storage("s3://any-bucket").check_writable()


def test_check_writable_names_an_unreachable_endpoint(moto, monkeypatch):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(RepositoryError, match=f"cannot reach S3 .*127.0.0.1:{port}") as err:
        S3Storage("s3://any-bucket").check_writable()
    assert "\n" not in str(err.value)


_ENV_ONLY = """
import sys
from bentoml.repository.storage import get_storage
backend = get_storage(sys.argv[1])
backend.check_writable()
uri = backend.put_dir(sys.argv[2], "Svc", "1")
print(uri, backend.exists(uri))
"""


def test_environment_variables_alone_configure_it(moto, bucket, tmp_path):
    """A fresh process with only the standard AWS variables (as for MinIO) reaches the server:
    AWS_ENDPOINT_URL_S3, and AWS_ENDPOINT_URL when that is all there is."""
    base = {k: v for k, v in os.environ.items() if k not in AWS_VARIABLES and not k.startswith("BENTOML")}
    for endpoint_var in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        env = {**base, **aws_env(None), endpoint_var: moto.endpoint}
        out = subprocess.run([sys.executable, "-c", _ENV_ONLY, f"s3://{bucket}/{endpoint_var}",
                              str(bundle(tmp_path))], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == [f"s3://{bucket}/{endpoint_var}/Svc/1", "True"]


def test_a_profile_in_the_aws_files_configures_it(moto, bucket, tmp_path):
    """AWS_PROFILE picks keys from the credentials file and the endpoint from the config file."""
    (tmp_path / "credentials").write_text("[team]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    (tmp_path / "config").write_text(f"[profile team]\nregion = us-east-1\nendpoint_url = {moto.endpoint}\n")
    env = {k: v for k, v in os.environ.items() if k not in AWS_VARIABLES and not k.startswith("BENTOML")}
    env.update(AWS_PROFILE="team", AWS_CONFIG_FILE=str(tmp_path / "config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"), AWS_EC2_METADATA_DISABLED="true")
    out = subprocess.run([sys.executable, "-c", _ENV_ONLY, f"s3://{bucket}/profile", str(bundle(tmp_path))],
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [f"s3://{bucket}/profile/Svc/1", "True"]


def test_check_writable_names_refused_credentials(tmp_path, monkeypatch):
    """A moto server that checks credentials (after creating the bucket) refuses unknown keys:
    one line saying S3 refused access."""
    from bentoml_storage_s3.testing import MotoServer

    strict = MotoServer(port=0 if "BENTOML_TEST_MOTO_PORT" not in os.environ else
                        int(os.environ["BENTOML_TEST_MOTO_PORT"]) + 1,
                        log_path=str(tmp_path / "moto.log"), env={"INITIAL_NO_AUTH_ACTION_COUNT": "1"})
    try:
        strict.create_bucket("guarded")
        for var, value in aws_env(strict.endpoint, key="AKIAWRONGWRONGWRONG1", secret="wrong").items():
            monkeypatch.setenv(var, value)
        with pytest.raises(RepositoryError, match="S3 refused access to bucket 'guarded'") as err:
            S3Storage("s3://guarded/team").check_writable()
        assert "\n" not in str(err.value)
    finally:
        strict.stop()
