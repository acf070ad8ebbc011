"""The repository under faults: a first save killed at every step, a read-only home, a full disk.

The mounts (a read-only bind mount, a small tmpfs) need root and a machine that
allows ``mount``; elsewhere those tests skip and say why.  The read-only SQLite
modes are also tested without a mount, in ``tests/kernel/test_metadata_store.py``.
"""
import contextlib
import errno
import itertools
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

import bentoml.repository
from bentoml.exceptions import RepositoryError
from bentoml.repository import get_repository
from bentoml.repository.local_repository import LocalRepository
from bentoml.repository.metadata import MetadataStore
from bentoml.testing.services import PLAIN_SERVICES, service_module

PLAIN_MODULE = "faults_plain_services"

# The first save into a new home, SIGKILLed just before its KILL_AT_STATEMENT-th SQL statement.
KILLED_SAVER = f"""
import os, signal
import sqlalchemy as sa
from {PLAIN_MODULE} import ContractAlpha

statements = 0

@sa.event.listens_for(sa.Engine, "before_cursor_execute")
def _kill_at(*_):
    global statements
    statements += 1
    if statements == int(os.environ["KILL_AT_STATEMENT"]):
        os.kill(os.getpid(), signal.SIGKILL)

print("SAVED", ContractAlpha().save(), flush=True)
"""


@pytest.fixture
def plain_services(tmp_path):
    with service_module(PLAIN_SERVICES, PLAIN_MODULE, tmp_path / "plain_src") as module:
        yield module


def _leftovers(home):
    """Working copies under the home (there must be none once no save is running)."""
    return [os.path.join(d, e) for d in (home / "tmp", home / "repository" / ".staging")
            if d.is_dir() for e in os.listdir(d)]


def test_a_first_save_killed_at_any_statement_leaves_a_usable_repository(tmp_path, plain_services, cli):
    killed_at = []
    for kill_at in itertools.count(1):
        home = tmp_path / f"home{kill_at}"
        env = dict(os.environ, BENTOML_HOME=str(home), KILL_AT_STATEMENT=str(kill_at),
                   PYTHONPATH=str(tmp_path / "plain_src"))
        saver = subprocess.run([sys.executable, "-c", KILLED_SAVER], env=env, capture_output=True, text=True,
                               timeout=120)
        if saver.returncode == 0:
            break  # the save had fewer statements: every point was tried
        assert saver.returncode == -signal.SIGKILL, saver.stderr
        killed_at.append(kill_at)

        started = time.monotonic()
        repo = LocalRepository(str(home))
        try:
            assert repo.list() == []
            took = time.monotonic() - started
            assert took < 2, f"killed before statement {kill_at}: opening took {took:.1f}s"
            listed = cli("list", "-o", "json", env={"BENTOML_HOME": str(home)})
            assert listed.returncode == 0, (kill_at, listed.stderr)
            assert json.loads(listed.stdout) == []
            repo.save(plain_services.ContractAlpha(), version="next")
            assert [r.tag for r in repo.list()] == ["ContractAlpha:next"]
            assert repo.metadata.stale_pending() == []
            assert _leftovers(home) == []
        finally:
            repo.close()
    assert len(killed_at) >= 10, killed_at  # the schema, the reservation and the commit of a save

    # and a database that is not ours is still refused, at once
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    with sqlite3.connect(foreign / "storage.db") as conn:
        conn.execute("CREATE TABLE bentos (id INTEGER PRIMARY KEY)")
    started = time.monotonic()
    with pytest.raises(RepositoryError, match="another program"):
        LocalRepository(str(foreign))
    assert time.monotonic() - started < 2


# -- mounts ------------------------------------------------------------------------------------------------


def _mount(*args):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a read-only or a small file system needs root and mount(8)")
    out = subprocess.run(["mount", *args], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"this machine does not allow `mount {' '.join(args)}`: {out.stderr.strip()}")


def _umount(target):
    subprocess.run(["umount", str(target)], check=True, capture_output=True, timeout=60)


@contextlib.contextmanager
def _read_only(path):
    """``path`` bind-mounted read-only onto itself for the block."""
    _mount("--bind", str(path), str(path))
    try:
        remount = subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], capture_output=True, text=True)
        if remount.returncode != 0:
            pytest.skip(f"this machine does not allow a read-only bind mount: {remount.stderr.strip()}")
        yield
    finally:
        bentoml.repository.reset_repository()  # no open database file may keep the mount busy
        _umount(path)


def _snapshot(root):
    return sorted((os.path.relpath(os.path.join(d, f), root), os.stat(os.path.join(d, f)).st_mtime_ns)
                  for d, dirs, files in os.walk(root) for f in files + dirs)


@pytest.fixture
def read_only_home(bentoml_home, iris_service):
    """A home holding one saved IrisClassifier, mounted read-only (as a container image would hold it)."""
    iris_service.save()
    bentoml.repository.reset_repository()
    before = _snapshot(bentoml_home)
    with _read_only(bentoml_home):
        with pytest.raises(OSError) as err:
            open(bentoml_home / "probe", "w")
        assert err.value.errno == errno.EROFS
        yield bentoml_home, iris_service.version
    assert _snapshot(bentoml_home) == before  # nothing was written, not even tmp/ or -shm


def test_a_read_only_home_is_read_in_place(read_only_home, iris_service, cli, clean_failure, start_server):
    home, version = read_only_home
    listed = cli("list", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert [b["version"] for b in json.loads(listed.stdout)] == [version]
    got = cli("get", f"IrisClassifier:{version}")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["uri"]["uri"] == str(home / "repository" / "IrisClassifier" / version)
    assert cli("get", "IrisClassifier").returncode == 0
    assert cli("info", "IrisClassifier:latest").returncode == 0
    ran = cli("run", "IrisClassifier:latest", "predict", "--input", "[[5.1, 3.5, 1.4, 0.2]]")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == [0]

    server = start_server("serve", "IrisClassifier:latest", "--port", "0")
    try:
        reply = server.post("/predict", [[5.1, 3.5, 1.4, 0.2]])
        assert reply.status == 200, (reply, server.log)
        assert reply.json() == [0]
    finally:
        server.stop()

    assert get_repository().metadata.access == "immutable"  # a read-only file system: no -shm to make
    with pytest.raises(RepositoryError, match=r"SQLite needs to create .*storage\.db-shm"):
        MetadataStore(f"sqlite:///{home / 'storage.db'}", access="ro")  # as where only permissions forbid it
    with pytest.raises(RepositoryError) as err:
        iris_service.save()
    assert str(err.value) == f"cannot save: BENTOML_HOME={home} is read-only"
    clean_failure(cli("delete", "-y", f"IrisClassifier:{version}"), "cannot delete", "is read-only")


def test_an_empty_read_only_home_holds_nothing(bentoml_home, cli, clean_failure):
    bentoml_home.mkdir()
    with _read_only(bentoml_home):
        listed = cli("list", "-o", "json")
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == []
        clean_failure(cli("get", "IrisClassifier:latest"), "not in the repository")
    assert os.listdir(bentoml_home) == []


# -- a full disk ---------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """A 4 MiB tmpfs holding ``$BENTOML_HOME`` (``disk/home``)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk))
    home = disk / "home"
    monkeypatch.setenv("BENTOML_HOME", str(home))
    bentoml.repository.reset_repository()
    try:
        yield disk, home
    finally:
        bentoml.repository.reset_repository()
        _umount(disk)


def _fill(disk, leave=0):
    """Fill ``disk`` up, but for about ``leave`` bytes; returns the filler file."""
    reserve = disk / "reserve"
    reserve.write_bytes(b"\0" * leave)
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        for chunk in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    f.write(b"\0" * chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    reserve.unlink()
    return filler


def _assert_intact(home, versions):
    with contextlib.closing(sqlite3.connect(home / "storage.db")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT version, status FROM bentoml_bundles ORDER BY seq").fetchall()
    assert rows == [(v, "ready") for v in versions]
    assert _leftovers(home) == []
    stored = home / "repository" / "IrisClassifier"
    assert sorted(os.listdir(stored)) == sorted(versions)
    for version in versions:
        assert (stored / version / "bentoml.yml").is_file()


def test_a_full_disk_is_named_and_nothing_is_lost(small_disk, iris_service, cli, clean_failure):
    disk, home = small_disk
    iris_service.save()
    saved = iris_service.version
    bentoml.repository.reset_repository()
    filler = _fill(disk)
    for out in (cli("list"), cli("get", "IrisClassifier:latest")):
        clean_failure(out, f"the disk holding {home / 'storage.db'} is full", "No space left on device")
    with pytest.raises(RepositoryError, match="is full"):
        iris_service.save()
    bentoml.repository.reset_repository()

    filler.unlink()
    listed = cli("list", "-o", "json")
    assert [b["version"] for b in json.loads(listed.stdout)] == [saved]
    _assert_intact(home, [saved])


def test_a_save_that_does_not_fit_fails_cleanly(small_disk, iris_service, cli):
    disk, home = small_disk
    iris_service.save()
    first = iris_service.version
    bentoml.repository.reset_repository()
    filler = _fill(disk, leave=160 * 1024)  # room for the metadata, not for a bundle

    with pytest.raises(RepositoryError) as err:
        iris_service.save()
    message = str(err.value)
    assert re.match(rf"cannot save IrisClassifier:\S+: the disk holding {home / 'tmp'} is full", message), message
    assert "No space left on device" in message
    listed = cli("list", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert [b["version"] for b in json.loads(listed.stdout)] == [first]
    _assert_intact(home, [first])

    filler.unlink()
    iris_service.save()
    _assert_intact(home, [first, iris_service.version])
