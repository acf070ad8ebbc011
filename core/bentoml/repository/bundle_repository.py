"""The bundle repository: metadata rows plus bundle files on a storage backend.

Default location ``$BENTOML_HOME`` (``~/bentoml``): metadata in
``storage.db`` (SQLite), files under ``repository/NAME/VERSION``.
``BENTOML_DB_URL`` and ``BENTOML_REPOSITORY_URL`` point elsewhere (any
SQLAlchemy URL; any storage backend's URL).

The invariant: a bundle is visible only after its metadata commits.  A save
reserves ``NAME:VERSION`` as a pending row, stores the files, then marks the row
ready; a save killed midway leaves a pending row that the next save cleans up,
together with its files.
"""
from __future__ import annotations

import glob
import logging
import os
import shutil
import tempfile
from typing import TYPE_CHECKING, List, Optional

from bentoml.bundle.config import BundleConfig
from bentoml.bundle.naming import LATEST, new_version, parse_tag, validate_name, validate_version
from bentoml.exceptions import BentoMLException, NotFound, RepositoryError
from bentoml.repository.metadata import BundleRecord, MetadataStore
from bentoml.repository.storage import StorageBackend, get_storage

if TYPE_CHECKING:
    from bentoml.service import BentoService

logger = logging.getLogger(__name__)


class Repository:
    """Saves, finds, lists and deletes bundles."""

    def __init__(self, home: str, db_url: Optional[str] = None, base_url: Optional[str] = None):
        self.home = home
        try:
            os.makedirs(home, exist_ok=True)
            if not os.access(home, os.W_OK):
                raise PermissionError(f"{home} is not writable")
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

    # -- saving -----------------------------------------------------------------
    def save_service(self, service: "BentoService", version: Optional[str] = None) -> str:
        """Save ``service`` as a new bundle; returns its URI (a local path for local storage)."""
        from bentoml.bundle.save import save_to_dir

        name = validate_name(service.name)
        explicit = version is not None
        version = validate_version(version) if explicit else new_version()
        self.storage.check_writable()
        self.cleanup_interrupted()
        while not self.metadata.insert_pending(name, version, self.storage.uri_for(name, version),
                                               self.storage.uri_type):
            if explicit:
                raise RepositoryError(f"{name}:{version} already exists in the repository")
            version = new_version()
        uri = None
        # Named after the reservation, so cleanup_interrupted finds it if this process dies.
        tmp = tempfile.mkdtemp(prefix=f"save-{name}-{version}-", dir=self._tmp_dir())
        try:
            local = save_to_dir(service, os.path.join(tmp, "bundle"), version=version)
            config = BundleConfig.load(local)
            uri = self.storage.put_dir(local, name, version)
            self.metadata.mark_ready(name, version, uri, config.to_dict())
        except BaseException:
            self.metadata.delete(name, version)
            if uri is not None:
                self.storage.delete(uri)
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        service._bundle_path = self.storage.local_path(uri) or uri
        logger.info("saved %s:%s to %s", name, version, uri)
        return service._bundle_path

    def _tmp_dir(self) -> str:
        path = os.path.join(self.home, "tmp")
        os.makedirs(path, exist_ok=True)
        return path

    def cleanup_interrupted(self) -> None:
        """Remove what killed saves left: their pending rows and files."""
        for row in self.metadata.stale_pending():
            logger.info("removing interrupted save %s:%s", row["name"], row["version"])
            try:
                self.storage.delete(row["uri"])
            except BentoMLException as exc:
                logger.warning("could not remove files of %s:%s: %s", row["name"], row["version"], exc)
                continue
            self.metadata.delete(row["name"], row["version"])
            for tmp in glob.glob(os.path.join(self.home, "tmp", f"save-{row['name']}-{row['version']}-*")):
                shutil.rmtree(tmp, ignore_errors=True)

    # -- reading -------------------------------------------------------------------
    def get(self, tag: str) -> BundleRecord:
        """The bundle named by ``NAME``, ``NAME:latest`` or ``NAME:VERSION``."""
        name, version = parse_tag(tag)
        record = self.metadata.get(name, None if version in (None, LATEST) else version)
        if record is None:
            what = f"{name}:{version}" if version not in (None, LATEST) else f"any version of {name}"
            raise NotFound(f"{what} is not in the repository at {self.home} (see `bentoml list`)")
        return record

    def list(self, name: Optional[str] = None, limit: Optional[int] = None,
             order_by: str = "created_at", ascending: bool = False) -> List[BundleRecord]:
        if name is not None:
            validate_name(name)
        return self.metadata.list(name, limit, order_by, ascending)

    def local_path(self, tag: str) -> str:
        """A local directory holding the bundle (downloaded to a cache when remote)."""
        record = self.get(tag)
        path = self.storage.local_path(record.uri)
        if path is not None:
            return path
        cache = os.path.join(self.home, "cache", record.name, record.version)
        if not os.path.isdir(cache):
            partial = tempfile.mkdtemp(prefix="download-", dir=self._tmp_dir())
            try:
                self.storage.get_dir(record.uri, os.path.join(partial, "bundle"))
                os.makedirs(os.path.dirname(cache), exist_ok=True)
                os.rename(os.path.join(partial, "bundle"), cache)
            finally:
                shutil.rmtree(partial, ignore_errors=True)
        return cache

    def retrieve(self, tag: str, target_dir: str) -> str:
        """Copy a bundle into ``target_dir``, which must not exist or be empty."""
        record = self.get(tag)
        target = os.path.abspath(os.path.expanduser(target_dir))
        if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
            raise RepositoryError(f"{target} exists and is not empty; it is never overwritten")
        if os.path.isdir(target):
            os.rmdir(target)
        self.storage.get_dir(record.uri, target)
        return target

    def delete(self, tag: str) -> BundleRecord:
        """Remove one version; it is unlisted first, then its files go."""
        record = self.get(tag)
        self.metadata.delete(record.name, record.version)
        self.storage.delete(record.uri)
        return record
