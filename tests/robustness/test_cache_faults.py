"""``BundleCache`` on a read-only file system and on a full disk (real mounts).

The mounts need root and a machine that allows ``mount``; elsewhere these tests
skip and say why.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import subprocess

import pytest

from bentoml.bundle.manifest import file_manifest, manifest_checksum
from bentoml.exceptions import RepositoryError
from bentoml.repository.cache import BundleCache


def _mount(*args: str) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a read-only or a small file system needs root and mount(8)")
    out = subprocess.run(["mount", *args], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip(f"this machine does not allow `mount {' '.join(args)}`: {out.stderr.strip()}")


@contextlib.contextmanager
def _read_only(path: pathlib.Path):
    _mount("--bind", str(path), str(path))
    try:
        out = subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], capture_output=True, text=True)
        if out.returncode != 0:
            pytest.skip(f"this machine does not allow a read-only bind mount: {out.stderr.strip()}")
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True, capture_output=True, timeout=60)


def _bundle(root: pathlib.Path, size: int) -> tuple:
    (root / "Svc").mkdir(parents=True)
    (root / "bentoml.yml").write_text("name: Svc\n")
    (root / "Svc" / "model.bin").write_bytes(os.urandom(size))
    return str(root), manifest_checksum(file_manifest(str(root)))


def _copy_from(src: str):
    def download(target: str) -> None:
        shutil.copytree(src, target, dirs_exist_ok=True)
    return download


def _never(target: str) -> None:
    raise AssertionError("a cached bundle was downloaded again")


@pytest.mark.parametrize("without_lock_files", [False, True])
def test_a_read_only_cache_serves_what_it_holds(tmp_path, without_lock_files):
    """A cache baked into an image: its entries are used in place; a new one is refused clearly."""
    src, checksum = _bundle(tmp_path / "server", 10_000)
    root = tmp_path / "cache"
    cache = BundleCache(str(root), max_bytes=10 ** 9)
    path = cache.fetch("Svc", "1", checksum, _copy_from(src))
    cache.close()
    if without_lock_files:
        for lock in root.rglob("*.lock"):
            lock.unlink()
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    with _read_only(root):
        cache = BundleCache(str(root), max_bytes=0)
        assert cache.fetch("Svc", "1", checksum, _never) == path
        assert file_manifest(path) == file_manifest(src)
        assert cache.lookup("Svc", "1") == path and cache.size() > 0
        with pytest.raises(RepositoryError, match=r"cannot cache Svc:2: the cache folder .* cannot be written "
                                                  r"\(read-only\); set BENTOML_CACHE_DIR"):
            cache.fetch("Svc", "2", "0" * 64, _never)
        cache.close()
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == before


def test_a_full_disk_is_named_and_leaves_the_cache_as_it_was(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    _mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk))
    try:
        small, small_sum = _bundle(tmp_path / "small", 100_000)
        big, big_sum = _bundle(tmp_path / "big", 6_000_000)
        cache = BundleCache(str(disk / "cache"), max_bytes=10 ** 9)
        try:
            kept = cache.fetch("Svc", "1", small_sum, _copy_from(small))
            with pytest.raises(RepositoryError, match=r"cannot cache Svc:2: the disk holding .*cache is full"):
                cache.fetch("Svc", "2", big_sum, _copy_from(big))
            assert os.listdir(disk / "cache" / ".tmp") == []
            assert cache.lookup("Svc", "2") is None and file_manifest(kept) == file_manifest(small)
            assert cache.fetch("Svc", "1", small_sum, _never) == kept
        finally:
            cache.close()  # an open lock file would keep the mount busy
    finally:
        subprocess.run(["umount", str(disk)], check=True, capture_output=True, timeout=60)
