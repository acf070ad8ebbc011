"""A team on one YataiService: a writer saves, a reader (another ``$BENTOML_HOME``) lists, gets,
runs, serves and retrieves, over real HTTP on loopback, each through the real CLI or a script."""
from __future__ import annotations

import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from bentoml.bundle.config import BundleConfig

from .conftest import cli, client_env, save

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def writer(tmp_path_factory):
    return tmp_path_factory.mktemp("writer-home")


@pytest.fixture(scope="module")
def reader(tmp_path_factory):
    return tmp_path_factory.mktemp("reader-home")


@pytest.fixture(scope="module")
def saved(yatai, writer, service_src):
    """The writer's ``svc.save()``: the version and the local directory it returned."""
    proc = save(service_src, writer, yatai.url)
    config = BundleConfig.load(proc.saved)
    return config.version, proc.saved


def test_save_returns_a_local_bundle_in_the_writers_cache(saved, writer):
    version, path = saved
    assert pathlib.Path(path).is_relative_to(writer / "cache"), path
    assert BundleConfig.load(path).name == "TeamText"
    assert not any((writer / "cache" / ".tmp").glob("save-*")), "the save's working folder is gone"
    assert not (writer / "storage.db").exists(), "nothing was saved to the writer's local repository"


def test_the_reader_lists_and_gets_it(yatai, saved, reader):
    version, _ = saved
    out = cli(reader, yatai.url, "list")
    assert f"TeamText:{version}" in out.stdout and "predict<JsonInput>" in out.stdout
    record = json.loads(cli(reader, yatai.url, "get", f"TeamText:{version}").stdout)
    assert record["uri"] == {"type": "LOCAL", "uri": str(yatai.home / "repository" / "TeamText" / version)}
    assert "localPath" not in record, "the reader holds no copy yet"
    out = cli(reader, yatai.url, "get", "TeamText")
    assert f"TeamText:{version}" in out.stdout


def test_the_reader_runs_it_through_its_cache(yatai, saved, reader):
    version, _ = saved
    out = cli(reader, yatai.url, "run", "TeamText:latest", "predict", "--input", '"hello"')
    assert json.loads(out.stdout) == "greeting"
    record = json.loads(cli(reader, yatai.url, "get", f"TeamText:{version}").stdout)
    assert pathlib.Path(record["localPath"]).is_relative_to(reader / "cache")
    assert BundleConfig.load(record["localPath"]).version == version
    location = cli(reader, yatai.url, "get", "TeamText:latest", "--print-location", "-q").stdout.strip()
    assert location == record["localPath"]


@pytest.mark.parametrize("command", [["serve"], ["serve-gunicorn", "--workers", "2"]])
def test_the_reader_serves_it(yatai, saved, reader, command):
    proc = subprocess.Popen([sys.executable, "-m", "bentoml", *command, "TeamText:latest", "--port", "0"],
                            env=client_env(reader, yatai.url), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            found = re.search(r"Serving TeamText:\S+ on http://127\.0\.0\.1:(\d+)", line)
            if found:
                port = int(found.group(1))
                break
            if not line and proc.poll() is not None:
                break
        assert port, "".join(lines)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=b'"hello"',
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert json.loads(answer.read()) == "greeting"
    finally:
        proc.terminate()
        proc.wait(30)


def test_the_reader_retrieves_it(yatai, saved, reader, tmp_path):
    version, path = saved
    target = tmp_path / "bundle_copy"
    out = cli(reader, yatai.url, "retrieve", "TeamText:latest", f"--target_dir={target}")
    assert out.stdout.strip() == str(target)
    assert BundleConfig.load(str(target)).version == version
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == \
        sorted(p.relative_to(path) for p in pathlib.Path(path).rglob("*"))
    assert os.access(pathlib.Path(path) / "docker-entrypoint.sh", os.X_OK)
    assert os.access(target / "docker-entrypoint.sh", os.X_OK), "the upload and the download keep the mode"
    again = cli(reader, yatai.url, "retrieve", "TeamText:latest", f"--target_dir={target}", ok=False)
    assert "exists and is not empty" in again.stderr and len(again.stderr.strip().splitlines()) == 1


def test_a_second_client_saving_the_same_version_gets_409(yatai, writer, reader, service_src):
    save(service_src, writer, yatai.url, version="team-1")
    proc = save(service_src, reader, yatai.url, version="team-1", ok=False)
    lines = proc.stderr.strip().splitlines()
    assert "BundleExists: TeamText:team-1 already exists in the repository" in lines[-1], proc.stderr


def test_one_line_errors(yatai, reader, tmp_path):
    out = cli(reader, yatai.url, "get", "NoSuchService:1", ok=False)
    assert out.stderr.strip().splitlines() == ["Error: NoSuchService:1 is not in the repository at "
                                               f"{yatai.home} (see `bentoml list`)"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{s.getsockname()[1]}"
    out = cli(reader, f"http://{closed}", "list", ok=False)
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert f"cannot reach the YataiService at http://{closed}: connection refused" in out.stderr
    out = cli(reader, closed, "list", ok=False)  # a bare host:port, as `bentoml config set` takes it
    assert f"http://{closed}: connection refused" in out.stderr


def test_delete_removes_it_for_everyone(yatai, writer, reader, service_src):
    proc = save(service_src, writer, yatai.url, version="doomed-1")
    cli(reader, yatai.url, "run", "TeamText:doomed-1", "predict", "--input", '"hello"')
    cached = json.loads(cli(reader, yatai.url, "get", "TeamText:doomed-1").stdout)["localPath"]
    cli(reader, yatai.url, "delete", "TeamText:doomed-1", "-y")
    assert not os.path.exists(cached), "the reader's own copy goes with it"
    out = cli(writer, yatai.url, "get", "TeamText:doomed-1", ok=False)
    assert "TeamText:doomed-1 is not in the repository" in out.stderr
    assert "doomed-1" not in cli(reader, yatai.url, "list").stdout
    assert proc.saved


def test_the_saved_path_loads(saved, writer):
    _, path = saved
    code = f"import bentoml; print(bentoml.load({path!r}).predict(['hello']))"
    out = subprocess.run([sys.executable, "-c", code], env=client_env(writer, None), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "['greeting']", out.stderr


def test_uploads_and_downloads_show_progress_on_a_terminal(yatai, tmp_path, service_src):
    import pty

    from .conftest import save_command

    def on_a_terminal(command, home):
        leader, follower = pty.openpty()
        proc = subprocess.Popen(command, env=client_env(home, yatai.url), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=follower)
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        os.close(leader)
        assert proc.wait(120) == 0, seen.decode(errors="replace")
        return seen.decode(errors="replace")

    shown = on_a_terminal(save_command(service_src, version="big-1", padding=60_000_000), tmp_path / "w")
    assert "Uploading TeamText:big-1" in shown
    shown = on_a_terminal([sys.executable, "-m", "bentoml", "retrieve", "TeamText:big-1",
                           f"--target_dir={tmp_path / 'copy'}"], tmp_path / "r")
    assert "Downloading TeamText:big-1" in shown
