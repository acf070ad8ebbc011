"""``LocalRepository``: metadata rows in a SQL database plus bundle files on a storage backend.

Default location ``$BENTOML_HOME`` (``~/bentoml``): metadata in
``storage.db`` (SQLite), files under ``repository/NAME/VERSION``.
``BENTOML_DB_URL`` and ``BENTOML_REPOSITORY_URL`` point elsewhere (any
SQLAlchemy URL, ``postgresql://USER:PASSWORD@HOST:5432/DB`` for a shared
PostgreSQL; any storage backend's URL).

The invariant: a bundle is visible only after its metadata commits.  A save
reserves ``NAME:VERSION`` as a pending row, stores the files, then marks the row
ready; a save killed midway leaves a pending row that the next save cleans up,
together with its files and its working directories (``tmp/save-*``, owned by
a lock its process holds: :mod:`bentoml.repository.workdirs`).

A read-only home (a container image, a read-only volume) is read in place:
listing, getting, running and serving work; saving and deleting say it is
read-only.  Reading never writes to the home.
"""
from __future__ import annotations

import logging
import os
import shutil
from typing import TYPE_CHECKING, List, Optional

from bentoml.bundle.checks import check_saveable, fresh_version
from bentoml.bundle.config import BundleConfig
from bentoml.bundle.naming import validate_name, validate_version
from bentoml.bundle.save import write_bundle
from bentoml.exceptions import BentoMLException, BundleExists, InvalidArgument, NotFound, RepositoryError
from bentoml.repository.fs_state import disk_full_message, is_no_space, unwritable_reason
from bentoml.repository.interface import Repository, check_list_arguments
from bentoml.repository.metadata import MetadataStore
from bentoml.repository.record import BundleRecord, ServiceSummary
from bentoml.repository.storage import StorageBackend, StoredBundle, get_storage, url_scheme
from bentoml.repository.streamed_add import StreamedAdd
from bentoml.repository.tags import LATEST, parse_tag
from bentoml.repository.workdirs import owned_workdir, remove_abandoned

if TYPE_CHECKING:
    from bentoml.service import BentoService

logger = logging.getLogger(__name__)


class LocalRepository(Repository):
    """The repository of one ``$BENTOML_HOME``: see the module docstring."""

    def __init__(self, home: str, db_url: Optional[str] = None, base_url: Optional[str] = None):
        self.home = home
        try:
            os.makedirs(home, exist_ok=True)  # an existing home may be read-only: reads work there
        except OSError as exc:
            raise RepositoryError(
                f"cannot use BENTOML_HOME={home}: {exc.strerror or exc}. "
                "Set BENTOML_HOME to a writable directory.") from None
        self.db_url = db_url or f"sqlite:///{os.path.join(home, 'storage.db')}"
        self.base_url = base_url or os.path.join(home, "repository")
        self.metadata = MetadataStore(self.db_url)
        self._storage: Optional[StorageBackend] = None

    @property
    def storage(self) -> StorageBackend:
        if self._storage is None:
            self._storage = get_storage(self.base_url)
        return self._storage

    def close(self) -> None:
        self.metadata.engine.dispose()

    # -- saving -----------------------------------------------------------------
    def save(self, service: "BentoService", version: Optional[str] = None) -> str:
        explicit = version is not None
        version = check_saveable(service, version)
        name = service.name
        self._require_writable("save")
        self.storage.check_writable()
        self.cleanup_interrupted()
        while not self.metadata.insert_pending(name, version, self.storage.uri_for(name, version),
                                               self.storage.uri_type):
            if explicit:
                raise BundleExists(f"{name}:{version} already exists in the repository")
            version = fresh_version(service)
        uri = None
        with owned_workdir(self._tmp_dir(), f"save-{name}-{version}-") as tmp:
            try:
                staged = write_bundle(service, os.path.join(tmp, "bundle"), version).path
                config = BundleConfig.load(staged)
                uri = self.storage.put_dir(staged, name, version)
                self.metadata.mark_ready(name, version, uri, config.to_dict())
            except BaseException as exc:
                shutil.rmtree(tmp, ignore_errors=True)  # first: on a full disk, undoing needs the room
                self._undo_save(name, version, uri)
                if is_no_space(exc):
                    raise RepositoryError(f"cannot save {name}:{version}: "
                                          f"{disk_full_message(self._tmp_dir())}") from None
                raise
            local = self.storage.local_path(uri) or self._keep_in_cache(staged, name, version)
        logger.debug("saved %s:%s to %s", name, version, uri)
        return local

    def add_dir(self, bundle_dir: str) -> BundleRecord:
        """Register the finished bundle in ``bundle_dir`` (a team server's verified upload)
        as the ``NAME:VERSION`` its ``bentoml.yml`` names; returns its record.

        The same invariant as :meth:`save`: a pending row first, the files stored, then
        the row marked ready, so an add killed midway leaves nothing listed.  A version
        that exists is :class:`~bentoml.exceptions.BundleExists`."""
        config = BundleConfig.load(bundle_dir)
        name, version = validate_name(config.name), validate_version(config.version)
        self._require_writable("save")
        self.storage.check_writable()
        self.cleanup_interrupted()
        if not self.metadata.insert_pending(name, version, self.storage.uri_for(name, version),
                                            self.storage.uri_type):
            raise BundleExists(f"{name}:{version} already exists in the repository")
        uri = None
        try:
            uri = self.storage.put_dir(bundle_dir, name, version)
            self.metadata.mark_ready(name, version, uri, config.to_dict())
        except BaseException as exc:
            self._undo_save(name, version, uri)
            if is_no_space(exc):
                raise RepositoryError(f"cannot save {name}:{version}: "
                                      f"{disk_full_message(self._tmp_dir())}") from None
            raise
        logger.debug("added %s:%s from %s", name, version, bundle_dir)
        return self.get(f"{name}:{version}")

    def reserve_streamed(self, name: str, version: str) -> Optional[StreamedAdd]:
        """Reserve ``name:version`` for an add whose files stream straight into storage (a
        team server's upload to S3: :mod:`bentoml.repository.streamed_add`); None where the
        storage has no :meth:`~bentoml.repository.storage.StorageBackend.bundle_writer`
        (write the files locally and call :meth:`add_dir`).  A version that exists or is
        being uploaded is :class:`~bentoml.exceptions.BundleExists`."""
        name, version = validate_name(name), validate_version(version)
        self._require_writable("save")
        self.storage.check_writable()
        self.cleanup_interrupted()
        writer = self.storage.bundle_writer(name, version)
        if writer is None:
            return None
        if not self.metadata.insert_pending(name, version, writer.uri, self.storage.uri_type):
            raise BundleExists(f"{name}:{version} already exists in the repository or is being uploaded")
        return StreamedAdd(self.metadata, name, version, writer)

    def _undo_save(self, name: str, version: str, uri: Optional[str]) -> None:
        """Forget a failed save; what cannot be undone now the next save does (its pid is gone)."""
        try:
            self.metadata.delete(name, version)
            if uri is not None:
                self.storage.delete(uri)
        except BentoMLException as exc:
            logger.warning("could not undo the failed save of %s:%s: %s", name, version, exc)

    def _require_writable(self, doing: str) -> None:
        reason = unwritable_reason(self.home)
        if reason is not None:
            raise RepositoryError(f"cannot {doing}: BENTOML_HOME={self.home} is {reason}")

    def _tmp_dir(self) -> str:
        return os.path.join(self.home, "tmp")

    def _cache_dir(self, name: str, version: str) -> str:
        return os.path.join(self.home, "cache", name, version)

    def _keep_in_cache(self, staged: str, name: str, version: str) -> str:
        """A remotely stored bundle's local copy: the staged files, moved into the cache."""
        cache = self._cache_dir(name, version)
        shutil.rmtree(cache, ignore_errors=True)  # a copy of a deleted bundle of this version
        os.makedirs(os.path.dirname(cache), exist_ok=True)
        os.rename(staged, cache)
        return cache

    def cleanup_interrupted(self) -> None:
        """Remove what killed saves left: their pending rows, files and working directories."""
        remove_abandoned(self._tmp_dir())
        for row in self.metadata.stale_pending():
            logger.info("removing interrupted save %s:%s", row["name"], row["version"])
            try:
                # Only where this save would have put its files: never a URI read from the row
                # (an edited row could name another version's folder, or a path outside).
                expected = self.storage.uri_for(validate_name(row["name"]), validate_version(row["version"]))
            except InvalidArgument:
                logger.warning("removing the pending row %r:%r, whose name or version is invalid; "
                               "no files are touched", row["name"], row["version"])
                self.metadata.delete(row["name"], row["version"])
                continue
            if row["uri"] != expected:
                logger.warning("pending row %s:%s records %r, not %s; only %s is removed",
                               row["name"], row["version"], row["uri"], expected, expected)
            try:
                self.storage.delete(expected)
            except BentoMLException as exc:
                logger.warning("could not remove files of %s:%s: %s", row["name"], row["version"], exc)
                continue
            self.metadata.delete(row["name"], row["version"])

    # -- reading -------------------------------------------------------------------
    def get(self, tag: str) -> BundleRecord:
        name, version = parse_tag(tag)
        record = self.metadata.get(name, None if version in (None, LATEST) else version)
        if record is None:
            what = f"{name}:{version}" if version not in (None, LATEST) else f"any version of {name}"
            raise NotFound(f"{what} is not in the repository at {self.home} (see `bentoml list`)")
        return record

    def list(self, name: Optional[str] = None, limit: Optional[int] = None, offset: int = 0,
             order_by: str = "created_at", ascending: bool = False) -> List[BundleRecord]:
        check_list_arguments(name, limit, offset, order_by)
        return self.metadata.list(name, limit, offset, order_by, ascending)

    def services(self, search: Optional[str] = None, limit: Optional[int] = None,
                 offset: int = 0) -> List[ServiceSummary]:
        """One summary per service, the latest saved first (:meth:`MetadataStore.services`)."""
        return self.metadata.services(search, limit, offset)

    def _stored_uri(self, record: BundleRecord) -> str:
        """``record``'s URI, if it is where the storage keeps ``record``'s version.

        A URI edited in the database could name another bundle's files, or a name's
        folder holding every version: it is refused before anything is read or removed.
        """
        expected = self.storage.uri_for(record.name, record.version)
        if record.uri != expected:
            raise RepositoryError(
                f"the metadata database {self.metadata.url} records {record.uri!r} as the files of "
                f"{record.tag}, which belong at {expected}; refusing to use it (was the database edited?)")
        return record.uri

    def local_path(self, tag: str) -> str:
        record = self.get(tag)
        uri = self._stored_uri(record)
        path = self.storage.local_path(uri)
        if path is not None:
            return path
        cache = self._cache_dir(record.name, record.version)
        if not os.path.isdir(cache):
            self._require_writable(f"fetch {record.tag} into the cache")
            with owned_workdir(self._tmp_dir(), "download-") as partial:
                self.storage.get_dir(uri, os.path.join(partial, "bundle"))
                os.makedirs(os.path.dirname(cache), exist_ok=True)
                os.rename(os.path.join(partial, "bundle"), cache)
        return cache

    def stored_bundle(self, record: BundleRecord) -> Optional[StoredBundle]:
        """``record``'s files to read in place from a remote storage (S3: a team server streams
        them to its client), or None where they are local or the storage offers no such
        reads (then :meth:`local_path` copies them into the cache)."""
        uri = self._stored_uri(record)
        if self.storage.local_path(uri) is not None:
            return None
        return self.storage.stored_bundle(uri)

    def _check_retrieve_target(self, record: BundleRecord, uri: str, target: str) -> None:
        """Refuse a target inside (or holding) the bundle or the repository's own folders,
        before anything is copied: a copy into its own source never ends."""
        real = os.path.realpath(target)
        owned = [(self.storage.local_path(uri), f"the stored bundle {record.tag}"),
                 (self.storage.base_url if url_scheme(self.storage.base_url) == "file" else None,
                  "the repository storage"),
                 (os.path.join(self.home, "cache"), "the repository cache"),
                 (os.path.join(self.home, "tmp"), "the repository's temporary folder")]
        for folder, what in owned:
            if folder is None:
                continue
            folder = os.path.realpath(folder)
            if real == folder or real.startswith(folder + os.sep):
                raise RepositoryError(f"cannot retrieve {record.tag} into {target}: it is inside {what} {folder}")
            if folder.startswith(real + os.sep):
                raise RepositoryError(f"cannot retrieve {record.tag} into {target}: it holds {what} {folder}")

    def retrieve(self, tag: str, target_dir: str) -> str:
        record = self.get(tag)
        uri = self._stored_uri(record)
        if "\0" in target_dir:
            raise InvalidArgument(f"cannot retrieve into {target_dir!r}: the path contains a NUL byte")
        target = os.path.abspath(os.path.expanduser(target_dir))
        self._check_retrieve_target(record, uri, target)
        if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
            raise RepositoryError(f"{target} exists and is not empty; it is never overwritten")
        if os.path.isdir(target):
            os.rmdir(target)
        try:
            self.storage.get_dir(uri, target)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)  # missing or empty before: only our partial copy
            raise
        return target

    def delete(self, tag: str) -> BundleRecord:
        record = self.get(tag)
        uri = self._stored_uri(record)
        self._require_writable(f"delete {record.tag}")
        self.metadata.delete(record.name, record.version)
        self.storage.delete(uri)
        shutil.rmtree(self._cache_dir(record.name, record.version), ignore_errors=True)
        return record
