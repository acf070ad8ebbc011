"""``BundleCache``: verified fetches, LRU eviction, locking across threads and real processes.

The "server" is a folder of files; a download copies it into the folder the
cache gives.  Processes are real (``fork``): concurrent fetches of one bundle,
an entry held by another process, and a download killed with SIGKILL.
"""
from __future__ import annotations

import multiprocessing
import os
import pathlib
import shutil
import signal
import threading
import time

import pytest

from bentoml import configuration
from bentoml.bundle.manifest import file_manifest, manifest_checksum
from bentoml.exceptions import InvalidArgument, RepositoryError
from bentoml.repository.cache import BundleCache

KB = 1000
_fork = multiprocessing.get_context("fork")


@pytest.fixture(autouse=True)
def _home(bentoml_home):
    yield bentoml_home


def _bundle(tmp_path: pathlib.Path, label: str, size: int = 10 * KB) -> tuple:
    """A bundle folder on the "server" and its checksum."""
    src = tmp_path / "server" / label
    (src / "Svc" / "artifacts").mkdir(parents=True)
    (src / "bentoml.yml").write_text(f"name: Svc\nlabel: {label}\n")
    (src / "Svc" / "artifacts" / "model.bin").write_bytes(os.urandom(size))
    return str(src), manifest_checksum(file_manifest(str(src)))


class Downloads:
    """A download function copying ``src``; counts its calls in a file (shared by processes)."""

    def __init__(self, src: str, log: pathlib.Path, delay: float = 0.0):
        self.src, self.log, self.delay = src, log, delay

    def __call__(self, target: str) -> None:
        with open(self.log, "a") as f:
            f.write(f"{os.getpid()}\n")
        time.sleep(self.delay)
        shutil.copytree(self.src, target, dirs_exist_ok=True)

    @property
    def count(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0


def _tmp_leftovers(cache: BundleCache) -> list:
    tmp = os.path.join(cache.root, ".tmp")
    return sorted(os.listdir(tmp)) if os.path.isdir(tmp) else []


# -- fetching ----------------------------------------------------------------------------------

def test_fetch_downloads_once_then_reuses(tmp_path):
    src, checksum = _bundle(tmp_path, "a")
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9)
    download = Downloads(src, tmp_path / "log")
    path = cache.fetch("Svc", "1", checksum, download)
    assert file_manifest(path) == file_manifest(src)
    assert cache.fetch("Svc", "1", checksum, download) == path
    assert BundleCache(str(tmp_path / "cache")).fetch("Svc", "1", checksum, download) == path  # another object
    assert download.count == 1
    assert cache.lookup("Svc", "1") == path and cache.lookup("Svc", "2") is None
    assert cache.size() == sum(os.path.getsize(os.path.join(src, rel)) for rel in file_manifest(src))
    assert _tmp_leftovers(cache) == []


def test_a_download_that_does_not_match_its_checksum_is_not_cached(tmp_path):
    src, checksum = _bundle(tmp_path, "a")
    other, _ = _bundle(tmp_path, "b")
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9)
    with pytest.raises(RepositoryError, match=r"the download of Svc:1 does not match its checksum "
                                              rf"\(expected {checksum}, got [0-9a-f]{{64}}\)"):
        cache.fetch("Svc", "1", checksum, Downloads(other, tmp_path / "log"))
    assert cache.lookup("Svc", "1") is None and cache.size() == 0
    assert _tmp_leftovers(cache) == []
    assert cache.fetch("Svc", "1", checksum, Downloads(src, tmp_path / "log"))  # the retry works


def test_a_download_that_fails_leaves_nothing(tmp_path):
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9)

    def broken(target):
        (pathlib.Path(target) / "half").write_text("x")
        raise ConnectionError("the server went away")

    with pytest.raises(ConnectionError):
        cache.fetch("Svc", "1", "0" * 64, broken)
    assert cache.lookup("Svc", "1") is None and _tmp_leftovers(cache) == []


def test_a_checksum_changed_on_the_server_replaces_the_entry(tmp_path):
    old_src, old = _bundle(tmp_path, "old")
    new_src, new = _bundle(tmp_path, "new")
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9)
    old_path = cache.fetch("Svc", "1", old, Downloads(old_src, tmp_path / "log"))
    new_path = cache.fetch("Svc", "1", new, Downloads(new_src, tmp_path / "log"))
    assert new_path != old_path and not os.path.exists(old_path)
    assert cache.lookup("Svc", "1") == new_path
    assert file_manifest(new_path) == file_manifest(new_src)
    assert cache.size() == sum(os.path.getsize(os.path.join(new_src, r)) for r in file_manifest(new_src))


def test_a_folder_left_without_its_entry_is_replaced(tmp_path):
    """A crash between moving the folder into place and writing its entry: the next fetch redoes it."""
    src, checksum = _bundle(tmp_path, "a")
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9)
    leftover = pathlib.Path(cache.root) / "Svc" / "1" / checksum[:16]
    leftover.mkdir(parents=True)
    (leftover / "junk").write_text("half")
    download = Downloads(src, tmp_path / "log")
    assert cache.fetch("Svc", "1", checksum, download) == str(leftover)
    assert download.count == 1 and not (leftover / "junk").exists()


@pytest.mark.parametrize("name, version, checksum, says", [
    ("../x", "1", "0" * 64, "invalid bundle name"), ("Svc", "../1", "0" * 64, "invalid version"),
    ("Svc", "1", "abc", "not a sha256 checksum"), ("Svc", "1", "G" * 64, "not a sha256 checksum"),
])
def test_bad_names_are_refused_before_anything_is_written(tmp_path, name, version, checksum, says):
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9)
    with pytest.raises(InvalidArgument, match=says):
        cache.fetch(name, version, checksum, lambda target: None)
    assert not os.path.exists(cache.root)


def test_root_and_limit_come_from_the_configuration(bentoml_home, monkeypatch, tmp_path):
    configuration.set_config_values({"cache.max_size": "1MB"})
    cache = BundleCache()
    assert (cache.root, cache.max_bytes) == (str(bentoml_home / "cache"), 10 ** 6)
    monkeypatch.setenv("BENTOML_CACHE_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("BENTOML__CACHE__MAX_SIZE", "2KiB")
    cache = BundleCache()
    assert (cache.root, cache.max_bytes) == (str(tmp_path / "elsewhere"), 2048)


def test_an_unwritable_cache_folder_is_named(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    cache = BundleCache(str(tmp_path / "file" / "cache"), max_bytes=10 ** 9)
    with pytest.raises(RepositoryError, match=r"cannot cache Svc:1: the cache folder .*file/cache cannot be "
                                              r"written .*; set BENTOML_CACHE_DIR"):
        cache.fetch("Svc", "1", "0" * 64, lambda target: None)


# -- put, lookup, evict -------------------------------------------------------------------------

def test_put_copies_or_moves_a_saved_bundle(tmp_path):
    src, checksum = _bundle(tmp_path, "a")
    os.symlink("Svc/artifacts/model.bin", os.path.join(src, "link.bin"))
    checksum = manifest_checksum(file_manifest(src))
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9)
    path = cache.put("Svc", "1", checksum, src)
    assert file_manifest(path) == file_manifest(src) and os.path.isdir(src)
    assert not os.path.islink(os.path.join(path, "link.bin"))
    moved_src, moved = _bundle(tmp_path, "b")
    path = cache.put("Svc", "2", moved, moved_src, move=True)
    assert not os.path.exists(moved_src) and cache.lookup("Svc", "2") == path
    with pytest.raises(RepositoryError, match="Svc:3 does not match its checksum"):
        cache.put("Svc", "3", "0" * 64, src)


def test_evict_removes_a_bundle_unless_another_process_uses_it(tmp_path):
    src, checksum = _bundle(tmp_path, "a")
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9)
    path = cache.fetch("Svc", "1", checksum, Downloads(src, tmp_path / "log"))
    with _held_by_another_process(cache.root, "Svc", "1", checksum, src, tmp_path):
        assert cache.evict("Svc", "1") is False
        assert os.path.isdir(path)
    assert cache.evict("Svc", "1") is True
    assert not os.path.exists(path) and cache.lookup("Svc", "1") is None and cache.size() == 0
    assert not os.path.exists(os.path.join(cache.root, "Svc"))  # empty folders go too
    assert cache.evict("Nothing", "1") is True


# -- eviction ----------------------------------------------------------------------------------

def _fetch_and_release(cache: BundleCache, tmp_path, label: str) -> str:
    src, checksum = _bundle(tmp_path, label, size=100 * KB)
    with cache.use("Svc", label, checksum, Downloads(src, tmp_path / f"log-{label}")) as path:
        pass
    time.sleep(0.02)  # distinct last-use times
    return path


def test_least_recently_used_entries_are_evicted_beyond_the_limit(tmp_path):
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=250 * KB)
    a = _fetch_and_release(cache, tmp_path, "a")
    b = _fetch_and_release(cache, tmp_path, "b")
    src_a = str(tmp_path / "server" / "a")
    with cache.use("Svc", "a", manifest_checksum(file_manifest(src_a)), Downloads(src_a, tmp_path / "log-a")):
        pass  # a is now more recently used than b
    time.sleep(0.02)
    c = _fetch_and_release(cache, tmp_path, "c")
    assert os.path.isdir(a) and os.path.isdir(c) and not os.path.exists(b)
    assert cache.lookup("Svc", "b") is None
    assert cache.size() <= 250 * KB
    assert (tmp_path / "log-a").read_text().count("\n") == 1  # a was reused, not downloaded again


def test_the_bundle_just_fetched_is_never_evicted(tmp_path):
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=0)
    a = _fetch_and_release(cache, tmp_path, "a")
    assert os.path.isdir(a)  # alone, over the limit: kept
    b = _fetch_and_release(cache, tmp_path, "b")
    assert os.path.isdir(b) and not os.path.exists(a)


def test_entries_this_process_holds_are_not_evicted(tmp_path):
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=0)
    src, checksum = _bundle(tmp_path, "a", size=100 * KB)
    held = cache.fetch("Svc", "a", checksum, Downloads(src, tmp_path / "log"))  # held until release()
    other = _fetch_and_release(BundleCache(str(tmp_path / "cache"), max_bytes=0), tmp_path, "b")
    assert os.path.isdir(held) and os.path.isdir(other)
    cache.release(held)
    _fetch_and_release(cache, tmp_path, "c")
    assert not os.path.exists(held) and not os.path.exists(other)


def _hold_entry(root, name, version, checksum, src, log, ready, done) -> None:
    cache = BundleCache(root, max_bytes=10 ** 9)
    with cache.use(name, version, checksum, Downloads(src, log)):
        ready.set()
        done.wait(30)


class _held_by_another_process:
    """A child process holding one entry through ``BundleCache.use`` for the ``with`` block."""

    def __init__(self, root, name, version, checksum, src, tmp_path):
        self.ready, self.done = _fork.Event(), _fork.Event()
        self.proc = _fork.Process(target=_hold_entry, args=(root, name, version, checksum, src,
                                                            tmp_path / "log-child", self.ready, self.done))

    def __enter__(self):
        self.proc.start()
        assert self.ready.wait(30)

    def __exit__(self, *exc):
        self.done.set()
        self.proc.join(30)
        assert self.proc.exitcode == 0


def test_an_entry_another_process_uses_is_not_evicted(tmp_path):
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=150 * KB)
    a = _fetch_and_release(cache, tmp_path, "a")
    src_a = str(tmp_path / "server" / "a")
    with _held_by_another_process(cache.root, "Svc", "a", manifest_checksum(file_manifest(src_a)), src_a, tmp_path):
        b = _fetch_and_release(cache, tmp_path, "b")
        assert os.path.isdir(a) and os.path.isdir(b)  # over the limit, but a is in use
    c = _fetch_and_release(cache, tmp_path, "c")
    assert not os.path.exists(a) and not os.path.exists(b) and os.path.isdir(c)


def test_a_replaced_entry_in_use_elsewhere_goes_once_released(tmp_path):
    old_src, old = _bundle(tmp_path, "old")
    new_src, new = _bundle(tmp_path, "new")
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9)
    with _held_by_another_process(cache.root, "Svc", "1", old, old_src, tmp_path):
        old_path = cache.lookup("Svc", "1")
        new_path = cache.fetch("Svc", "1", new, Downloads(new_src, tmp_path / "log"))
        assert os.path.isdir(old_path) and cache.lookup("Svc", "1") == new_path
        assert file_manifest(old_path) == file_manifest(old_src)  # the user's files are intact
    assert cache.evict("Svc", "1") is True  # both go (this process's own hold is dropped)


# -- concurrency -------------------------------------------------------------------------------

def _fetch_in_child(root, checksum, src, log, barrier, results) -> None:
    barrier.wait(30)
    path = BundleCache(root, max_bytes=10 ** 9).fetch("Svc", "1", checksum, Downloads(src, log, delay=0.3))
    results.put((path, file_manifest(path) == file_manifest(src)))


def test_concurrent_fetches_in_processes_download_once(tmp_path):
    src, checksum = _bundle(tmp_path, "a", size=200 * KB)
    root, log = str(tmp_path / "cache"), tmp_path / "log"
    barrier, results = _fork.Barrier(4), _fork.Queue()
    procs = [_fork.Process(target=_fetch_in_child, args=(root, checksum, src, log, barrier, results))
             for _ in range(4)]
    for p in procs:
        p.start()
    got = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert len({path for path, _ in got}) == 1 and all(ok for _, ok in got)
    assert Downloads(src, log).count == 1


def test_concurrent_fetches_in_threads_download_once(tmp_path):
    src, checksum = _bundle(tmp_path, "a")
    download = Downloads(src, tmp_path / "log", delay=0.2)
    shared = BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9)
    caches = [shared, shared, BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9),
              BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9)]
    paths, errors = [], []

    def run(cache):
        try:
            paths.append(cache.fetch("Svc", "1", checksum, download))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in caches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(paths) == 4 and len(set(paths)) == 1
    assert download.count == 1


def _killed_download(root, checksum, marker) -> None:
    def slow(target):
        (pathlib.Path(target) / "half.bin").write_bytes(b"x" * 1000)
        marker.touch()
        time.sleep(60)

    BundleCache(root, max_bytes=10 ** 9).fetch("Svc", "1", checksum, slow)


def test_a_download_killed_midway_leaves_only_what_the_next_fetch_cleans(tmp_path):
    src, checksum = _bundle(tmp_path, "a")
    root, marker = str(tmp_path / "cache"), tmp_path / "downloading"
    child = _fork.Process(target=_killed_download, args=(root, checksum, marker))
    child.start()
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline and child.is_alive()
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    assert child.exitcode == -signal.SIGKILL
    cache = BundleCache(root, max_bytes=10 ** 9)
    assert [name for name in _tmp_leftovers(cache) if name.startswith("fetch-")]  # the killed one's
    assert cache.lookup("Svc", "1") is None  # nothing half-fetched is an entry
    download = Downloads(src, tmp_path / "log")
    path = cache.fetch("Svc", "1", checksum, download)  # does not wait for the dead process's lock
    assert download.count == 1 and file_manifest(path) == file_manifest(src)
    assert _tmp_leftovers(cache) == []


def test_files_the_cache_did_not_write_are_left_alone(tmp_path):
    """A bundle copied straight into ``cache/NAME/VERSION`` (as LocalRepository keeps a copy of a
    bundle stored remotely) is neither an entry nor swept away."""
    src, checksum = _bundle(tmp_path, "a")
    cache = BundleCache(str(tmp_path / "cache"), max_bytes=10 ** 9)
    foreign = pathlib.Path(cache.root) / "Svc" / "1"
    shutil.copytree(src, foreign)
    (foreign / "package.json").write_text("{}")
    path = cache.fetch("Svc", "1", checksum, Downloads(src, tmp_path / "log"))
    assert cache.size() == sum(os.path.getsize(os.path.join(src, r)) for r in file_manifest(src))
    assert cache.evict("Svc", "1") is True and not os.path.exists(path)
    assert (foreign / "Svc" / "artifacts" / "model.bin").exists() and (foreign / "package.json").exists()
