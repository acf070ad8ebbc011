"""The repository under stress: unusable homes, foreign databases, concurrent and killed saves."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from bentoml.exceptions import RepositoryError
from bentoml.repository import get_repository
from bentoml.repository.metadata import PENDING, bundles_table

# A subprocess that trains the iris model and saves it; {before_save} may patch the kernel.
SAVER = textwrap.dedent("""
    import os, sys, time
    {before_save}
    from sklearn import datasets, svm
    from robustness_iris_classifier import IrisClassifier

    iris = datasets.load_iris()
    clf = svm.SVC(gamma="scale").fit(iris.data, iris.target)
    print("READY", flush=True)
    go = os.environ.get("GO_FILE")
    while go and not os.path.exists(go):
        time.sleep(0.01)
    for _ in range(int(os.environ.get("SAVES", "1"))):
        svc = IrisClassifier().pack("model", clf)
        print("SAVED", svc.save(), svc.version, flush=True)
""")


def _saver(iris_src, before_save="", **env):
    full_env = dict(os.environ, PYTHONPATH=str(iris_src), **env)
    return subprocess.Popen([sys.executable, "-c", SAVER.format(before_save=before_save)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env)


def _wait_for(proc, prefix, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line.split()
        if not line and proc.poll() is not None:
            raise AssertionError(f"saver exited {proc.returncode}: {proc.stderr.read()}")
    raise AssertionError(f"saver never printed {prefix}")


# -- an unusable $BENTOML_HOME ----------------------------------------------------------------------


def test_home_beneath_a_regular_file(tmp_path, monkeypatch, iris_service, cli, clean_failure):
    # tests run as root, so chmod cannot make a directory unwritable; a file in the path does
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    home = blocker / "bentoml"
    monkeypatch.setenv("BENTOML_HOME", str(home))
    import bentoml.repository

    bentoml.repository.reset_repository()
    try:
        with pytest.raises(RepositoryError) as err:
            iris_service.save()
        message = str(err.value)
        assert f"BENTOML_HOME={home}" in message and "Not a directory" in message
        assert "writable directory" in message
        clean_failure(cli("list"), "BENTOML_HOME", "Not a directory")
        clean_failure(cli("get", "IrisClassifier:latest"), "BENTOML_HOME")
    finally:
        bentoml.repository.reset_repository()
    assert blocker.read_text() == "not a directory"


# -- a storage.db that is not ours --------------------------------------------------------------------


def _foreign_db(path):
    """BentoML 0.x's metadata table, with one row."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE bentos (id INTEGER PRIMARY KEY, name VARCHAR, version VARCHAR, "
                 "created_at DATETIME, uri VARCHAR, uri_type INTEGER, bento_service_metadata JSON, "
                 "status JSON, deleted BOOLEAN)")
    conn.execute("INSERT INTO bentos (name, version, uri) VALUES ('IrisClassifier', '20200121114004_360ECB', "
                 "'/home/me/bentoml/repository/IrisClassifier/20200121114004_360ECB')")
    conn.commit()
    conn.close()


def test_storage_db_written_by_another_program(bentoml_home, iris_service, cli, clean_failure):
    bentoml_home.mkdir()
    db = bentoml_home / "storage.db"
    _foreign_db(str(db))
    before = db.read_bytes()
    listing = sorted(os.listdir(bentoml_home))

    started = time.monotonic()
    with pytest.raises(RepositoryError) as err:
        iris_service.save()
    assert time.monotonic() - started < 2  # at once: no waiting for a schema to appear
    message = str(err.value)
    assert "another program" in message and "bentos" in message and str(db) in message
    clean_failure(cli("list"), "another program")
    clean_failure(cli("get", "IrisClassifier:latest"), "another program")

    assert db.read_bytes() == before  # not migrated, not even switched to WAL
    assert sorted(os.listdir(bentoml_home)) == listing  # no -wal/-shm, no repository dir


def test_storage_db_that_is_not_a_database(bentoml_home, cli, clean_failure):
    bentoml_home.mkdir()
    db = bentoml_home / "storage.db"
    db.write_bytes(b"this is a text file, not SQLite\n" * 100)
    before = db.read_bytes()
    with pytest.raises(RepositoryError, match="storage.db"):
        get_repository()
    clean_failure(cli("list"), "storage.db")
    assert db.read_bytes() == before


# -- concurrency ----------------------------------------------------------------------------------


def test_two_processes_saving_at_once(bentoml_home, iris_src, tmp_path):
    go = tmp_path / "go"
    procs = [_saver(iris_src, SAVES="3", GO_FILE=str(go)) for _ in range(2)]
    try:
        for proc in procs:
            _wait_for(proc, "READY")
        go.write_text("go")  # both start saving into the same fresh $BENTOML_HOME together
        outputs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    saved = [line.split() for out, _ in outputs for line in out.splitlines() if line.startswith("SAVED")]
    assert len(saved) == 6
    versions = {version for _, _, version in saved}
    assert len(versions) == 6

    records = get_repository().list()
    assert {r.version for r in records} == versions
    assert {r.name for r in records} == {"IrisClassifier"}
    assert len({r.seq for r in records}) == 6
    for _, path, version in saved:
        assert os.path.isfile(os.path.join(path, "bentoml.yml"))
        assert path.endswith(os.path.join("IrisClassifier", version))
    assert get_repository().metadata.stale_pending() == []
    # our own database runs in WAL mode (concurrent readers while one process writes)
    conn = sqlite3.connect(str(bentoml_home / "storage.db"))
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


# -- a save killed midway --------------------------------------------------------------------------

SLOW_PUT = """
from bentoml_storage_local import LocalStorage
def _slow_put_dir(self, local_dir, name, version):
    print("STALLED", local_dir, flush=True)
    time.sleep(600)
LocalStorage.put_dir = _slow_put_dir
"""

SLOW_ARTIFACT = """
from bentoml_sklearn import SklearnModelArtifact
def _slow_save(self, obj, path):
    print("STALLED", path, flush=True)
    time.sleep(600)
SklearnModelArtifact._save = _slow_save
"""


def _pending_rows():
    import sqlalchemy as sa

    with get_repository().metadata.engine.connect() as conn:
        return conn.execute(sa.select(bundles_table).where(bundles_table.c.status == PENDING)).mappings().all()


@pytest.mark.parametrize("stall", [SLOW_PUT, SLOW_ARTIFACT], ids=["in-put_dir", "in-artifact-save"])
def test_save_killed_midway(bentoml_home, iris_src, iris_service, cli, stall):
    proc = _saver(iris_src, before_save=stall)
    try:
        stalled_at = _wait_for(proc, "STALLED")[1]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert os.path.exists(stalled_at)
    # the orphan: the killed save's working directory under $BENTOML_HOME/tmp
    tmp_root = bentoml_home / "tmp"
    orphans = [tmp_root / p for p in os.listdir(tmp_root)]
    assert orphans and all(o.is_dir() for o in orphans)
    assert any(str(stalled_at).startswith(str(o) + os.sep) for o in orphans)

    [row] = _pending_rows()
    killed_version = row["version"]
    listed = cli("list", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    assert cli("get", f"IrisClassifier:{killed_version}").returncode != 0
    assert cli("get", "IrisClassifier:latest").returncode != 0

    path = iris_service.save()  # the next save cleans up after the killed one
    assert _pending_rows() == []
    for orphan in orphans:
        assert not orphan.exists(), f"orphan {orphan} was left behind"
    assert not (bentoml_home / "repository" / "IrisClassifier" / killed_version).exists()
    assert [r.version for r in get_repository().list()] == [iris_service.version]
    assert os.path.isfile(os.path.join(path, "bentoml.yml"))
    listed = json.loads(cli("list", "-o", "json").stdout)
    assert [b["version"] for b in listed] == [iris_service.version]


def test_a_live_save_is_never_cleaned_up(bentoml_home, iris_src, iris_service):
    proc = _saver(iris_src, before_save=SLOW_PUT)
    try:
        stalled_at = _wait_for(proc, "STALLED")[1]
        iris_service.save()  # another process is mid-save: its work must survive
        survived, pending = os.path.exists(stalled_at), len(_pending_rows())
    finally:
        proc.kill()
        proc.wait(timeout=30)
    stderr = proc.stderr.read()
    assert survived, stderr
    assert pending == 1, stderr
    assert [r.version for r in get_repository().list()] == [iris_service.version]


# A save that stalls once its bundle is copied into <repository>/.staging, before the rename.
STALL_IN_STAGING = """
import bentoml_storage_local
_copy_tree = bentoml_storage_local._copy_tree
def _copy_then_stall(src, dst, *names):
    _copy_tree(src, dst, *names)
    print("STALLED", dst, flush=True)
    time.sleep(600)
bentoml_storage_local._copy_tree = _copy_then_stall
"""

# A save that stalls once its bundle is registered, before it removes its tmp/save-* copy.
STALL_AFTER_READY = """
from bentoml.repository.metadata import MetadataStore
_mark_ready = MetadataStore.mark_ready
def _mark_ready_then_stall(self, *args):
    _mark_ready(self, *args)
    print("STALLED", flush=True)
    time.sleep(600)
MetadataStore.mark_ready = _mark_ready_then_stall
"""


def _working_copies(home):
    return {os.path.join(d, e) for d in (home / "tmp", home / "repository" / ".staging")
            if d.is_dir() for e in os.listdir(d)}


def _age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_copies_of_a_killed_save_go_and_a_live_saves_stay(bentoml_home, iris_src, iris_service):
    killed = _saver(iris_src, before_save=STALL_IN_STAGING)
    live = None
    try:
        _wait_for(killed, "STALLED")
        killed_copies = _working_copies(bentoml_home)
        assert len(killed_copies) == 2  # tmp/save-*, .staging/*
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)

        live = _saver(iris_src, before_save=STALL_IN_STAGING)
        _wait_for(live, "STALLED")
        live_copies = _working_copies(bentoml_home) - killed_copies
        assert len(live_copies) == 2
        for copy in live_copies:  # old, yet alive: its owner holds the lock, age decides nothing
            _age(copy, 2 * 3600)

        iris_service.save()
        left = _working_copies(bentoml_home)
    finally:
        for proc in (killed, live):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    assert left == live_copies, (left, killed_copies, live_copies)
    assert [r.version for r in get_repository().list()] == [iris_service.version]


def test_a_save_killed_after_it_registered_leaves_no_copy(bentoml_home, iris_src, iris_service):
    proc = _saver(iris_src, before_save=STALL_AFTER_READY)
    try:
        _wait_for(proc, "STALLED")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    [killed] = get_repository().list()  # registered: a bundle, not an interrupted save
    [leftover] = _working_copies(bentoml_home)
    assert os.path.basename(leftover).startswith(f"save-IrisClassifier-{killed.version}-")

    iris_service.save()
    assert _working_copies(bentoml_home) == set()
    assert [r.version for r in get_repository().list()] == [iris_service.version, killed.version]
    assert os.path.isfile(os.path.join(get_repository().local_path(killed.tag), "bentoml.yml"))
