"""A YataiService keeping its Bentos in S3 (``--repo-base-url s3://...``), on a real moto
server reached through the standard AWS variables only."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import urllib3

from bentoml.bundle.config import BundleConfig
from bentoml.yatai.protocol import API_PREFIX, SHA256_HEADER

from .conftest import cli, clean_env, save

pytestmark = pytest.mark.slow
http = urllib3.PoolManager(retries=False, timeout=30)


@pytest.fixture(scope="module")
def s3_server(moto_s3, start_yatai, tmp_path_factory):
    moto_s3.create_bucket("team-bentos")
    return start_yatai(tmp_path_factory.mktemp("s3-server"), "--no-ui", "--upload-timeout", "3",
                       "--repo-base-url", "s3://team-bentos/bentos")


@pytest.fixture(scope="module")
def saved_on_s3(s3_server, service_src, tmp_path_factory):
    writer = tmp_path_factory.mktemp("s3-writer")
    save(service_src, writer, s3_server.url, version="s3-1")
    return "s3-1"


def _bundle_keys(moto_s3):
    return [k for k in moto_s3.keys("team-bentos") if k.startswith("bentos/TeamText/")]


def test_get_shows_the_s3_uri(s3_server, saved_on_s3, moto_s3, tmp_path):
    assert "* Repository: metadata " in s3_server.text and "files s3://team-bentos/bentos" in s3_server.text
    record = json.loads(cli(tmp_path / "reader", s3_server.url, "get", "TeamText:s3-1").stdout)
    assert record["uri"] == {"type": "S3", "uri": "s3://team-bentos/bentos/TeamText/s3-1"}
    keys = moto_s3.keys("team-bentos")
    assert "bentos/.manifests/TeamText/s3-1.json" in keys and "bentos/TeamText/s3-1/bentoml.yml" in keys


def test_a_reader_runs_and_retrieves_from_s3(s3_server, saved_on_s3, tmp_path):
    reader = tmp_path / "reader"
    out = cli(reader, s3_server.url, "run", "TeamText:s3-1", "predict", "--input", '"hello"')
    assert json.loads(out.stdout) == "greeting"
    target = tmp_path / "copy"
    cli(reader, s3_server.url, "retrieve", "TeamText:s3-1", f"--target_dir={target}")
    assert BundleConfig.load(str(target)).version == "s3-1"
    # streamed from S3: the server never copied the bundle to its own disk
    assert not list((s3_server.home / "cache").glob("*/*")), list((s3_server.home / "cache").rglob("*"))


def test_delete_removes_the_objects(s3_server, service_src, moto_s3, tmp_path):
    save(service_src, tmp_path / "writer", s3_server.url, version="s3-doomed")
    assert any(k.startswith("bentos/TeamText/s3-doomed/") for k in moto_s3.keys("team-bentos"))
    cli(tmp_path / "writer", s3_server.url, "delete", "TeamText:s3-doomed", "-y")
    assert not [k for k in moto_s3.keys("team-bentos") if "s3-doomed" in k]


def _open_and_send(server, version):
    answer = http.request("POST", f"{server.url}{API_PREFIX}/uploads",
                          body=json.dumps({"name": "TeamText", "version": version}),
                          headers={"Content-Type": "application/json"})
    assert answer.status == 201, answer.data
    session = json.loads(answer.data)["session"]
    import hashlib

    data = b"x" * 4096
    answer = http.request("PUT", f"{server.url}{API_PREFIX}/uploads/{session}/files/bentoml.yml", body=data,
                          headers={SHA256_HEADER: hashlib.sha256(data).hexdigest()})
    assert answer.status == 201, answer.data
    return session


def test_aborted_and_expired_uploads_leave_no_objects(s3_server, moto_s3):
    aborted = _open_and_send(s3_server, "s3-aborted")
    assert http.request("DELETE", f"{s3_server.url}{API_PREFIX}/uploads/{aborted}").status == 200
    expired = _open_and_send(s3_server, "s3-expired")
    deadline = time.monotonic() + 10
    while f"upload session {expired} for TeamText:s3-expired expired" not in s3_server.text:
        assert time.monotonic() < deadline, s3_server.text
        time.sleep(0.1)
    assert not [k for k in moto_s3.keys("team-bentos") if "s3-aborted" in k or "s3-expired" in k]


@pytest.mark.parametrize("url, unset, said", [
    ("s3://no-such-bucket/bentos", (), "the S3 bucket 'no-such-bucket' of s3://no-such-bucket/bentos does not exist"),
    ("s3://team-bentos/bentos", ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), "no AWS credentials"),
])
def test_a_missing_bucket_or_credentials_are_one_line_at_start(moto_s3, tmp_path, url, unset, said):
    env = clean_env(BENTOML_HOME=str(tmp_path / "home"))
    for var in unset:
        del env[var]
    proc = subprocess.run([sys.executable, "-m", "bentoml", "yatai-service-start", "--api-port", "0", "--no-ui",
                           "--repo-base-url", url], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and said in proc.stderr, proc.stderr
    assert "Running on" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_local_mode_stores_in_s3_through_bentoml_repository_url(moto_s3, service_src, tmp_path):
    """No server: BENTOML_REPOSITORY_URL=s3://... puts a local repository's files in the bucket."""
    moto_s3.create_bucket("solo-bentos")
    home = tmp_path / "solo"
    save(service_src, home, None, version="solo-1", BENTOML_REPOSITORY_URL="s3://solo-bentos/mine")
    record = json.loads(cli(home, None, "get", "TeamText:solo-1", BENTOML_REPOSITORY_URL="s3://solo-bentos/mine").stdout)
    assert record["uri"] == {"type": "S3", "uri": "s3://solo-bentos/mine/TeamText/solo-1"}
    assert "mine/TeamText/solo-1/bentoml.yml" in moto_s3.keys("solo-bentos")


def _put(server, session, rel, data, sha256=None):
    import hashlib

    return http.request("PUT", f"{server.url}{API_PREFIX}/uploads/{session}/files/{rel}", body=data,
                        headers={SHA256_HEADER: sha256 or hashlib.sha256(data).hexdigest()})


def test_an_upload_streams_into_the_bucket_not_the_servers_disk(s3_server, moto_s3):
    """Each file goes to its final key as it arrives (only bentoml.yml stays on the server's
    disk, for the commit); nothing is listed until the commit."""
    session = _open_and_send(s3_server, "s3-streamed")
    big = bytes(range(256)) * 12 * 1024  # 3 MiB
    assert _put(s3_server, session, "artifacts/weights.bin", big).status == 201
    keys = moto_s3.keys("team-bentos")
    assert "bentos/TeamText/s3-streamed/artifacts/weights.bin" in keys
    assert "bentos/.manifests/TeamText/s3-streamed.json" not in keys
    on_disk = [p.name for p in (s3_server.home / "tmp").rglob("*") if p.is_file() and p.name != ".lock"]
    assert "weights.bin" not in on_disk and "bentoml.yml" in on_disk
    listed = s3_server.get_json(f"{API_PREFIX}/bundles?name=TeamText")
    assert "s3-streamed" not in json.dumps(listed)
    # a second upload of the same version is refused while this one runs
    answer = http.request("POST", f"{s3_server.url}{API_PREFIX}/uploads",
                          body=json.dumps({"name": "TeamText", "version": "s3-streamed"}),
                          headers={"Content-Type": "application/json"})
    assert answer.status == 409 and b"being uploaded" in answer.data
    assert http.request("DELETE", f"{s3_server.url}{API_PREFIX}/uploads/{session}").status == 200
    assert not [k for k in moto_s3.keys("team-bentos") if "s3-streamed" in k]


def test_a_file_with_wrong_bytes_leaves_no_object(s3_server, moto_s3):
    session = _open_and_send(s3_server, "s3-corrupt")
    answer = _put(s3_server, session, "artifacts/model.pkl", b"good bytes" * 1000, sha256="0" * 64)
    assert answer.status == 400 and b"do not match their sha256" in answer.data
    assert "bentos/TeamText/s3-corrupt/artifacts/model.pkl" not in moto_s3.keys("team-bentos")
    http.request("DELETE", f"{s3_server.url}{API_PREFIX}/uploads/{session}")


def test_a_server_killed_mid_upload_leaves_no_objects_after_restart(moto_s3, start_yatai, tmp_path):
    moto_s3.create_bucket("killed-bentos")
    args = ("--no-ui", "--repo-base-url", "s3://killed-bentos/b")
    server = start_yatai(tmp_path / "home", *args)
    session = _open_and_send(server, "s3-killed")
    assert _put(server, session, "artifacts/part.bin", b"p" * 100_000).status == 201
    assert "b/TeamText/s3-killed/artifacts/part.bin" in moto_s3.keys("killed-bentos")
    server.kill()
    restarted = start_yatai(tmp_path / "home", *args)
    assert not [k for k in moto_s3.keys("killed-bentos") if "s3-killed" in k]
    # and the version is free again: a new upload of it opens
    _open_and_send(restarted, "s3-killed")
