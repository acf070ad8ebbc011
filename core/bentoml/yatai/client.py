"""``RemoteRepository``: the :class:`~bentoml.repository.Repository` interface over a YataiService.

``bentoml.repository.get_repository()`` returns one when ``yatai_service.url``
is configured.  Saving writes the bundle locally, uploads it in a session
(:mod:`bentoml.yatai.sessions`: each file with its sha256, then a commit the
server verifies) and keeps the written bundle in the client's cache
(:class:`~bentoml.repository.cache.BundleCache`), so ``svc.save()`` still
returns a local directory.  Reading a bundle's files (``run``, ``serve``,
``bentoml.load``) fetches it into the cache first, verified against the
server's checksum; ``retrieve`` streams it straight into the target.  A save
killed at any moment leaves nothing listed on the server (its session expires
there), and running it again opens a new session.
"""
from __future__ import annotations

import logging
import os
import shutil
from typing import TYPE_CHECKING, Any, BinaryIO, Dict, List, Optional

from bentoml.bundle.checks import check_saveable, fresh_version
from bentoml.bundle.manifest import file_manifest, manifest_checksum, safe_extract_tar
from bentoml.bundle.save import write_bundle
from bentoml.exceptions import BundleExists, InvalidArgument, RepositoryError
from bentoml.progress import CopyProgress
from bentoml.repository.interface import Repository, check_list_arguments
from bentoml.repository.record import BundleRecord
from bentoml.repository.tags import LATEST, parse_tag
from bentoml.repository.workdirs import owned_workdir
from bentoml.yatai.protocol import API_PREFIX, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, SHA256_HEADER, record_from_json
from bentoml.yatai.transport import YataiTransport, quote_path

if TYPE_CHECKING:
    from bentoml.repository.cache import BundleCache
    from bentoml.service import BentoService

logger = logging.getLogger(__name__)


class _CountingReader:
    """A file read for an upload, counting its bytes into a progress bar."""

    def __init__(self, f: BinaryIO, progress: CopyProgress):
        self._f = f
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        """Read from the file, counting what was read."""
        data = self._f.read(size)
        self._progress.update(len(data))
        return data


class RemoteRepository(Repository):
    """The repository served by the YataiService at ``url`` (see the module docstring).

    :param url: ``http://host:port`` or ``https://...`` (``yatai_service.url``, normalized).
    :param cache: where fetched and saved bundles are kept locally; None: the configured
        one (``BENTOML_CACHE_DIR`` or ``$BENTOML_HOME/cache``, ``cache.max_size``), opened
        when first needed (listing needs none).
    :param work_dir: where a save writes its bundle before uploading it; None: the
        cache's own working folder (on the cache's file system: the saved bundle is then
        moved into the cache, not copied).
    """

    default_list_limit = DEFAULT_LIST_LIMIT

    def __init__(self, url: str, cache: Optional["BundleCache"] = None, work_dir: Optional[str] = None,
                 ca_bundle: Optional[str] = None, token: Optional[str] = None):
        self.url = url.rstrip("/")
        self._work_dir = work_dir
        self._cache = cache
        self.transport = YataiTransport(self.url, ca_bundle, token)

    @property
    def cache(self) -> "BundleCache":
        """The local cache of this client's bundles (opened on first use)."""
        if self._cache is None:
            from bentoml.configuration import cache_dir, cache_max_bytes
            from bentoml.repository.cache import BundleCache

            self._cache = BundleCache(cache_dir(), cache_max_bytes())
        return self._cache

    @property
    def work_dir(self) -> str:
        """Where a save writes its bundle before uploading it."""
        return self._work_dir or os.path.join(self.cache.root, ".tmp")

    def __repr__(self) -> str:
        return f"RemoteRepository({self.url!r})"

    def close(self) -> None:
        """Close the connections.  The cached bundles this process uses stay held (a server
        closes its repository before it forks workers that serve such a bundle)."""
        self.transport.close()

    # -- saving -----------------------------------------------------------------------
    def save(self, service: "BentoService", version: Optional[str] = None) -> str:
        explicit = version is not None
        version = check_saveable(service, version)
        name = service.name
        while True:  # the version is refused before anything is written or sent
            try:
                session = self.transport.json("POST", f"{API_PREFIX}/uploads",
                                              json_body={"name": name, "version": version})["session"]
                break
            except BundleExists:
                if explicit:
                    raise
                version = fresh_version(service)
        with owned_workdir(self.work_dir, f"save-{name}-{version}-") as tmp:
            try:
                staged = write_bundle(service, os.path.join(tmp, "bundle"), version).path
                manifest = file_manifest(staged)
                self._upload(session, f"{name}:{version}", staged, manifest)
            except BaseException:
                self._abort(session)
                raise
            return self.cache.put(name, version, manifest_checksum(manifest), staged, move=True)

    def _upload(self, session: str, tag: str, staged: str, manifest: Dict[str, str]) -> None:
        sizes = {rel: os.path.getsize(os.path.join(staged, *rel.split("/"))) for rel in manifest}
        with CopyProgress(f"Uploading {tag}", sum(sizes.values())) as progress:
            for rel, sha256 in manifest.items():
                path = os.path.join(staged, *rel.split("/"))
                headers = {SHA256_HEADER: sha256, "Content-Length": str(sizes[rel]),
                           "Content-Type": "application/octet-stream"}
                if os.access(path, os.X_OK):
                    headers["X-File-Executable"] = "1"
                with open(path, "rb") as f:
                    self.transport.json("PUT", f"{API_PREFIX}/uploads/{session}/files/{quote_path(rel)}",
                                        body=_CountingReader(f, progress), headers=headers)
        self.transport.json("POST", f"{API_PREFIX}/uploads/{session}/commit", json_body={"files": manifest})

    def _abort(self, session: str) -> None:
        """Tell the server to drop the session now (it expires anyway when this fails)."""
        try:
            self.transport.request("DELETE", f"{API_PREFIX}/uploads/{session}")
        except Exception as exc:  # noqa: BLE001 - the save's own error is the one to report
            logger.debug("could not abort upload session %s: %s", session, exc)

    # -- reading ------------------------------------------------------------------------
    @staticmethod
    def _path(tag: str) -> str:
        name, version = parse_tag(tag)
        return f"{API_PREFIX}/bundles/{name}/{version or LATEST}"

    def get(self, tag: str) -> BundleRecord:
        return record_from_json(self.transport.json("GET", self._path(tag)))

    def list(self, name: Optional[str] = None, limit: Optional[int] = None, offset: int = 0,
             order_by: str = "created_at", ascending: bool = False) -> List[BundleRecord]:
        check_list_arguments(name, limit, offset, order_by)
        records: List[BundleRecord] = []
        next_offset: Optional[int] = offset
        while next_offset is not None and (limit is None or len(records) < limit):
            page = MAX_LIST_LIMIT if limit is None else min(MAX_LIST_LIMIT, limit - len(records))
            if page == 0:
                break
            fields: Dict[str, Any] = {"limit": page, "offset": next_offset, "order_by": order_by,
                                      "ascending": "true" if ascending else "false"}
            if name is not None:
                fields["name"] = name
            answer = self.transport.json("GET", f"{API_PREFIX}/bundles", fields=fields)
            records.extend(record_from_json(r) for r in answer["bundles"])
            next_offset = answer.get("next_offset")
        return records

    def delete(self, tag: str) -> BundleRecord:
        record = record_from_json(self.transport.json("DELETE", self._path(tag)))
        self.cache.evict(record.name, record.version)
        return record

    def checksum(self, record: BundleRecord) -> str:
        """The server's checksum of ``record``'s files."""
        answer = self.transport.json("GET", f"{API_PREFIX}/bundles/{record.name}/{record.version}/checksum")
        if answer.get("seq") != record.seq:
            raise RepositoryError(f"{record.tag} changed on the YataiService while it was read; try again")
        return str(answer["checksum"])

    def _download(self, record: BundleRecord, target_dir: str) -> None:
        """Stream ``record``'s tar into the new or empty ``target_dir`` (every member checked)."""
        response = self.transport.request("GET", f"{API_PREFIX}/bundles/{record.name}/{record.version}/archive",
                                          stream=True)
        try:
            total = int(response.headers.get("X-Bundle-Size") or 0)
            with CopyProgress(f"Downloading {record.tag}", total) as progress:
                safe_extract_tar(_CountingReader(response, progress), target_dir)  # type: ignore[arg-type]
        finally:
            response.release_conn()

    def local_path(self, tag: str) -> str:
        record = self.get(tag)
        checksum = self.checksum(record)
        return self.cache.fetch(record.name, record.version, checksum,
                                lambda tmp_dir: self._download(record, tmp_dir))

    def cached_path(self, tag: str) -> Optional[str]:
        name, version = parse_tag(tag)
        if version in (None, LATEST):
            version = self.get(tag).version
        return self.cache.lookup(name, version)

    def retrieve(self, tag: str, target_dir: str) -> str:
        record = self.get(tag)
        if "\0" in target_dir:
            raise InvalidArgument(f"cannot retrieve into {target_dir!r}: the path contains a NUL byte")
        target = os.path.abspath(os.path.expanduser(target_dir))
        real = os.path.realpath(target)
        for folder, what in ((self.cache.root, "the bundle cache"), (self.work_dir, "the client's working folder")):
            folder = os.path.realpath(folder)
            if real == folder or real.startswith(folder + os.sep):
                raise RepositoryError(f"cannot retrieve {record.tag} into {target}: it is inside {what} {folder}")
            if folder.startswith(real + os.sep):
                raise RepositoryError(f"cannot retrieve {record.tag} into {target}: it holds {what} {folder}")
        if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
            raise RepositoryError(f"{target} exists and is not empty; it is never overwritten")
        checksum = self.checksum(record)
        self._download(record, target)
        if manifest_checksum(file_manifest(target)) != checksum:
            shutil.rmtree(target, ignore_errors=True)
            raise RepositoryError(f"{record.tag} arrived with other files than the YataiService holds "
                                  "(checksum mismatch); nothing was kept, try again")
        return target
