"""``BundleCache``: the client's verified, size-limited cache of bundles fetched from a server.

Root: ``$BENTOML_CACHE_DIR``, else ``$BENTOML_HOME/cache``
(:func:`bentoml.configuration.cache_dir`); size limit ``cache.max_size``.
Layout (names and versions never start with a dot, so nothing clashes)::

    NAME/VERSION/<checksum[:16]>/       the bundle's files (the path callers get)
    NAME/VERSION/<checksum[:16]>.json   the entry: full checksum, size; its mtime is its last use
    NAME/VERSION/<checksum[:16]>.lock   held shared (flock) by every process using the entry
    NAME/VERSION/.fetch.lock            held exclusively while NAME:VERSION is being fetched
    .tmp/fetch-*, .tmp/evict-*          working folders, owned by a live process (workdirs.py)

An entry exists once its ``.json`` does; the ``.json`` is written after its
folder is in place, so a crash between the two leaves a folder without an entry
that the next fetch of that bundle removes.  Fetching takes the bundle's fetch
lock, so concurrent fetches of one bundle (threads or processes) wait for each
other and exactly one download happens; the download fills a fresh folder in
``.tmp`` that is verified against the checksum (``manifest_checksum(file_manifest(...))``)
before it is renamed into place.  A process killed mid-download leaves only its
``.tmp`` folder, whose owner lock died with it, and the next fetch removes it.

The path :meth:`BundleCache.fetch` and :meth:`BundleCache.put` return stays
valid while this process lives (or until :meth:`BundleCache.release`): the
process holds the entry's lock shared, and eviction removes only entries whose
lock it can take exclusively at once, least recently used first, never the one
just fetched.  An entry whose checksum changed on the server is replaced by a
new one; the old one goes as soon as no process uses it.  Lock files are
removed with their entries; a locker checks that the file it locked is still
the one at the path (the usual flock-and-unlink race).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import json
import logging
import os
import re
import shutil
import threading
import time
import weakref
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Set

from bentoml.bundle.manifest import file_manifest, manifest_checksum
from bentoml.bundle.naming import validate_name, validate_version
from bentoml.exceptions import BentoMLException, InvalidArgument, RepositoryError
from bentoml.repository.fs_state import disk_full_message, is_disk_full, is_no_space, unwritable_reason
from bentoml.repository.workdirs import owned_workdir, remove_abandoned

__all__ = ["BundleCache"]

logger = logging.getLogger(__name__)

_CHECKSUM = re.compile(r"^[0-9a-f]{64}$")
_ENTRY_ID = 16  # hex digits of the checksum naming an entry's folder
_TMP = ".tmp"
#: An entry's ``.json``: named by the checksum's first digits (never a bundle's own file, were
#: a bundle's files ever put straight into ``NAME/VERSION`` by an older bentoml)
_META_GLOB = "[0-9a-f]" * _ENTRY_ID + ".json"
_ENTRY_NAME = re.compile(rf"^[0-9a-f]{{{_ENTRY_ID}}}(\.lock)?$")
_FETCH_LOCK = ".fetch.lock"


class _Entry(NamedTuple):
    name: str
    version: str
    checksum: str
    size: int
    last_used: float
    fetched_at: float
    path: str

    @property
    def meta(self) -> str:
        return self.path + ".json"

    @property
    def lock(self) -> str:
        return self.path + ".lock"


def _lock(path: str, shared: bool, blocking: bool = True) -> Optional[int]:
    """An fd holding ``flock`` on ``path`` (created as needed), or None if ``blocking`` is
    False and another holder conflicts.  Retries when the file was unlinked or replaced
    between open and lock, so a lock is only ever held on the file at ``path``."""
    mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if blocking else fcntl.LOCK_NB)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the folder was removed by an eviction: make it again
            os.makedirs(os.path.dirname(path), exist_ok=True)
            continue
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            return _lock_read_only(path, mode)
        if not _flock_or_close(fd, mode):
            return None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _lock_read_only(path: str, mode: int) -> Optional[int]:
    """A cache this process cannot write (an image's): nothing in it can be evicted or
    replaced, so the lock only keeps up the protocol with processes that can; without a
    lock file, its folder is locked instead."""
    fd = os.open(path if os.path.exists(path) else os.path.dirname(path), os.O_RDONLY)
    return fd if _flock_or_close(fd, mode) else None


def _flock_or_close(fd: int, mode: int) -> bool:
    """Lock ``fd``; False (and ``fd`` closed) when a non-blocking lock is held elsewhere."""
    try:
        fcntl.flock(fd, mode)
    except BlockingIOError:
        os.close(fd)
        return False
    except BaseException:
        os.close(fd)
        raise
    return True


def _close_all(held: Dict[str, int]) -> None:
    for fd in held.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    held.clear()


def _tree_size(path: str, manifest: Dict[str, str]) -> int:
    return sum(os.path.getsize(os.path.join(path, rel)) for rel in manifest)


class BundleCache:
    """Verified local copies of remote bundles, keyed by ``NAME:VERSION`` and checksum.

    ``root`` defaults to :func:`bentoml.configuration.cache_dir`, ``max_bytes`` to
    ``cache.max_size``.  See the module docstring for layout, locking and eviction.

    >>> cache = BundleCache()  # doctest: +SKIP
    >>> path = cache.fetch("IrisClassifier", "20200121114004_360ECB", checksum,
    ...                    lambda tmp: client.download_into(tmp))  # doctest: +SKIP
    """

    def __init__(self, root: Optional[str] = None, max_bytes: Optional[int] = None):
        from bentoml import configuration  # a cache built with explicit values reads no config

        self.root = os.path.abspath(os.path.expanduser(root)) if root else configuration.cache_dir()
        self.max_bytes = configuration.cache_max_bytes() if max_bytes is None else int(max_bytes)
        if self.max_bytes < 0:
            raise InvalidArgument(f"the cache size limit cannot be negative ({self.max_bytes})")
        self._held: Dict[str, int] = {}  # entry path -> fd of its shared lock
        self._held_lock = threading.Lock()
        # A cache object dropped without close() must not pin its entries until the process ends.
        weakref.finalize(self, _close_all, self._held)

    # -- public -----------------------------------------------------------------------------------
    def fetch(self, name: str, version: str, checksum: str, download: Callable[[str], None]) -> str:
        """The path of a verified local copy of ``name:version`` with ``checksum``.

        Reused (and marked used) when cached; otherwise ``download(tmp_dir)`` fills an empty
        folder, which is verified and moved into place, and least recently used entries
        beyond ``max_bytes`` are evicted.  A download whose files do not match ``checksum``
        is removed and raises :class:`~bentoml.exceptions.RepositoryError` naming the bundle.
        """
        path = self._entry_path(name, version, checksum)
        if self._use_existing(path, checksum):
            return path
        self._check_writable(f"cache {name}:{version}")
        with self._fetch_lock(name, version):
            if not self._use_existing(path, checksum):
                self._install(name, version, checksum, path, download)
        self._forget_replaced(name, version, keep=path)
        self._evict_beyond_limit(keep={path})
        return path

    @contextlib.contextmanager
    def use(self, name: str, version: str, checksum: str, download: Callable[[str], None]) -> Iterator[str]:
        """:meth:`fetch`, with the entry's lock held for the block only: released after it,
        unless this cache object already held the entry (from an earlier fetch)."""
        held_before = self._entry_path(name, version, checksum) in self._held
        path = self.fetch(name, version, checksum, download)
        try:
            yield path
        finally:
            if not held_before:
                self.release(path)

    def put(self, name: str, version: str, checksum: str, source_dir: str, move: bool = False) -> str:
        """Store the bundle in ``source_dir`` (just saved) and return its cached path.

        The files are copied (links inside the bundle become the files they point to),
        or renamed into the cache when ``move`` and on the same file system, then
        verified against ``checksum`` like a download.
        """
        source = os.path.abspath(source_dir)
        if not os.path.isdir(source):
            raise RepositoryError(f"cannot cache {name}:{version}: {source} is not a folder")

        def copy(target: str) -> None:
            if move:
                try:
                    os.rmdir(target)
                    os.rename(source, target)
                    return
                except OSError as exc:
                    if exc.errno != errno.EXDEV:
                        raise
                    os.makedirs(target, exist_ok=True)
            shutil.copytree(source, target, symlinks=False, dirs_exist_ok=True)

        return self.fetch(name, version, checksum, copy)

    def lookup(self, name: str, version: str) -> Optional[str]:
        """The cached path of ``name:version`` (the newest entry), or None; marks nothing used."""
        entries = self._entries_of(validate_name(name), validate_version(version))
        return max(entries, key=lambda e: e.fetched_at).path if entries else None

    def evict(self, name: str, version: str) -> bool:
        """Remove the cached copies of ``name:version`` that no process uses (this one's
        own are released first); whether none is left."""
        validate_name(name), validate_version(version)
        entries = self._entries_of(name, version)
        for entry in entries:
            self.release(entry.path)
        left = [e for e in entries if not self._remove_entry(e)]
        self._sweep_version(name, version)
        return not left

    def size(self) -> int:
        """Bytes of the files of every cached entry."""
        return sum(e.size for e in self._all_entries())

    def release(self, path: str) -> None:
        """Stop holding the entry at ``path`` (from :meth:`fetch` or :meth:`put`): it may be evicted."""
        with self._held_lock:
            fd = self._held.pop(path, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        """Release every entry this cache object holds."""
        for path in list(self._held):
            self.release(path)

    def _check_writable(self, doing: str) -> None:
        try:
            os.makedirs(self.root, exist_ok=True)
            reason = unwritable_reason(self.root)
        except OSError as exc:
            reason = exc.strerror or str(exc)
        if reason is not None:
            raise RepositoryError(f"cannot {doing}: the cache folder {self.root} cannot be written "
                                  f"({reason}); set BENTOML_CACHE_DIR to a writable folder")

    # -- entries ------------------------------------------------------------------------------------
    def _entry_path(self, name: str, version: str, checksum: str) -> str:
        validate_name(name), validate_version(version)
        if not isinstance(checksum, str) or not _CHECKSUM.match(checksum):
            raise InvalidArgument(f"{name}:{version}: {checksum!r} is not a sha256 checksum")
        return os.path.join(self.root, name, version, checksum[:_ENTRY_ID])

    def _read_entry(self, path: str) -> Optional[_Entry]:
        try:
            with open(path + ".json") as f:
                meta = json.load(f)
            last_used = os.stat(path + ".json").st_mtime
            name, version = os.path.relpath(path, self.root).split(os.sep)[:2]
            return _Entry(name, version, meta["checksum"], int(meta["size"]), last_used,
                          float(meta.get("fetched_at", 0)), path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("ignoring the unreadable cache entry %s: %s", path, exc)
            return None

    def _entries_of(self, name: str, version: str) -> List[_Entry]:
        pattern = os.path.join(glob.escape(os.path.join(self.root, name, version)), _META_GLOB)
        found = [self._read_entry(meta[: -len(".json")]) for meta in glob.glob(pattern)]
        return [e for e in found if e is not None and os.path.isdir(e.path)]

    def _all_entries(self) -> List[_Entry]:
        found = [self._read_entry(meta[: -len(".json")])
                 for meta in glob.glob(os.path.join(glob.escape(self.root), "*", "*", _META_GLOB))]
        return [e for e in found if e is not None and os.path.isdir(e.path)]

    def _hold(self, path: str, blocking: bool = True) -> bool:
        """Take and keep the entry's shared lock (once per process and entry)."""
        with self._held_lock:
            if path in self._held:
                return True
        fd = _lock(path + ".lock", shared=True, blocking=blocking)
        if fd is None:
            return False
        with self._held_lock:
            if path in self._held:  # another thread of ours took it meanwhile
                os.close(fd)
            else:
                self._held[path] = fd
        return True

    def _use_existing(self, path: str, checksum: str) -> bool:
        """Whether the entry at ``path`` holds ``checksum``; if so it is held and marked used."""
        entry = self._read_entry(path)
        if entry is None or entry.checksum != checksum or not os.path.isdir(path):
            return False
        self._hold(path)  # waits for an eviction in progress, which removes the .json first
        entry = self._read_entry(path)
        if entry is None or entry.checksum != checksum or not os.path.isdir(path):
            self.release(path)
            return False
        with contextlib.suppress(OSError):  # gone, or a read-only cache
            os.utime(entry.meta)  # last used: now
        return True

    @contextlib.contextmanager
    def _fetch_lock(self, name: str, version: str) -> Iterator[None]:
        fd = _lock(os.path.join(self.root, name, version, _FETCH_LOCK), shared=False)
        try:
            yield
        finally:
            os.close(fd)  # type: ignore[arg-type]

    def _install(self, name: str, version: str, checksum: str, path: str,
                 download: Callable[[str], None]) -> None:
        """Download, verify and move into place (the fetch lock is held)."""
        tmp_root = os.path.join(self.root, _TMP)
        remove_abandoned(tmp_root)
        self._sweep_version(name, version, locked=True)
        with owned_workdir(tmp_root, f"fetch-{name}-{version}-") as work:
            target = os.path.join(work, "bundle")
            os.makedirs(target)
            try:
                download(target)
            except OSError as exc:
                if is_no_space(exc) or is_disk_full(self.root):  # shutil.Error carries no errno
                    shutil.rmtree(target, ignore_errors=True)  # the room is needed to say so
                    raise RepositoryError(f"cannot cache {name}:{version}: {disk_full_message(self.root)}; "
                                          f"or set cache.max_size lower, or BENTOML_CACHE_DIR elsewhere") from None
                raise
            try:
                manifest = file_manifest(target)
            except BentoMLException as exc:
                raise RepositoryError(f"the download of {name}:{version} cannot be cached: {exc}") from None
            actual = manifest_checksum(manifest)
            if actual != checksum:
                raise RepositoryError(
                    f"the download of {name}:{version} does not match its checksum (expected {checksum}, "
                    f"got {actual}); nothing was cached, try again")
            size = _tree_size(target, manifest)
            self._hold(path)  # before the entry exists: no eviction can take it from here on
            if os.path.lexists(path):  # a folder whose .json was never written: a crash left it
                shutil.rmtree(path)
            os.rename(target, path)
            self._write_meta(path, {"checksum": checksum, "size": size, "name": name, "version": version,
                                    "fetched_at": time.time()}, work)
        logger.debug("cached %s:%s (%d bytes) at %s", name, version, size, path)

    @staticmethod
    def _write_meta(path: str, meta: dict, work: str) -> None:
        tmp = os.path.join(work, "entry.json")
        with open(tmp, "w") as f:
            json.dump(meta, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path + ".json")

    # -- removing -----------------------------------------------------------------------------------
    def _remove_entry(self, entry: _Entry) -> bool:
        """Remove ``entry`` if no process holds it; whether it is gone."""
        fd = _lock(entry.lock, shared=False, blocking=False)
        if fd is None:
            return False
        try:
            with contextlib.suppress(FileNotFoundError):
                os.remove(entry.meta)  # first: from here on the entry does not exist
            with owned_workdir(os.path.join(self.root, _TMP), "evict-") as trash:
                with contextlib.suppress(FileNotFoundError):
                    os.rename(entry.path, os.path.join(trash, "bundle"))
                with contextlib.suppress(FileNotFoundError):
                    os.remove(entry.lock)  # while locked: a waiting locker sees it was replaced
                os.close(fd)
                fd = None
        finally:
            if fd is not None:
                os.close(fd)
        logger.debug("evicted %s:%s (%d bytes)", entry.name, entry.version, entry.size)
        return True

    def _forget_replaced(self, name: str, version: str, keep: str) -> None:
        """Entries of ``name:version`` other than ``keep`` (a checksum that changed): our own
        hold on them is dropped, and they go now unless another process uses them."""
        for entry in self._entries_of(name, version):
            if entry.path != keep:
                self.release(entry.path)
                self._remove_entry(entry)

    def _sweep_version(self, name: str, version: str, locked: bool = False) -> None:
        """Remove what crashes left in ``NAME/VERSION`` (folders without an entry, lock files of
        gone entries), and the folders once empty; needs that bundle's fetch lock (taken here
        unless ``locked``), so an install in progress is never taken for a leftover."""
        folder = os.path.join(self.root, name, version)
        fd = None
        if not locked:
            fd = _lock(os.path.join(folder, _FETCH_LOCK), shared=False, blocking=False)
            if fd is None:
                return
        try:
            for item in os.listdir(folder) if os.path.isdir(folder) else []:
                full = os.path.join(folder, item)
                if not _ENTRY_NAME.match(item):
                    continue  # not ours: only entries' folders and locks are ever removed
                if os.path.isdir(full) and not os.path.exists(full + ".json"):
                    self._remove_unused(full, lambda: shutil.rmtree(full, ignore_errors=True))
                elif item.endswith(".lock") and item != _FETCH_LOCK and not os.path.exists(full[:-5]):
                    self._remove_unused(full[:-5], lambda: None)  # a lock left by a reader that lost a race
            if not locked and not [i for i in os.listdir(folder) if i != _FETCH_LOCK]:
                os.remove(os.path.join(folder, _FETCH_LOCK))  # while locked, as in _remove_entry
                with contextlib.suppress(OSError):
                    os.rmdir(folder)
                    os.rmdir(os.path.dirname(folder))
        except FileNotFoundError:
            pass
        finally:
            if fd is not None:
                os.close(fd)

    @staticmethod
    def _remove_unused(path: str, remove: Callable[[], None]) -> None:
        """``remove()`` and the lock file of ``path``, if no process holds that lock."""
        fd = _lock(path + ".lock", shared=False, blocking=False)
        if fd is None:
            return
        try:
            remove()
            with contextlib.suppress(FileNotFoundError):
                os.remove(path + ".lock")  # while locked: a waiting locker sees it was replaced
        finally:
            os.close(fd)

    def _evict_beyond_limit(self, keep: Set[str]) -> None:
        """Evict least recently used entries until the cache fits ``max_bytes`` (or only
        entries in use, or in ``keep``, are left)."""
        entries = self._all_entries()
        total = sum(e.size for e in entries)
        for entry in sorted(entries, key=lambda e: e.last_used):
            if total <= self.max_bytes:
                break
            if entry.path in keep or entry.path in self._held:
                continue
            if self._remove_entry(entry):
                total -= entry.size
                self._sweep_version(entry.name, entry.version)
