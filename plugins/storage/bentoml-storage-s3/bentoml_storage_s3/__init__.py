"""The S3 storage backend (scheme ``s3``), through s3fs on fsspec.

``s3://BUCKET/PREFIX`` keeps bundle ``NAME:VERSION`` as the objects
``PREFIX/NAME/VERSION/<path>``, and its manifest (every file's path, size,
mode and sha256, and the folders) as ``PREFIX/.manifests/NAME/VERSION.json``.  The
manifest is written last and removed first, so it is what says a bundle is
stored: a save killed mid-upload leaves objects no manifest names (the
repository's pending row makes the next save remove them), and a read only
ever fetches the objects the manifest lists.  S3 has no links: an allowed link
in a bundle (one pointing inside it) is stored as what it points to, as the
team server's tar streams do; one leaving the bundle, dangling or making a loop
is refused before anything is sent (:func:`bentoml.bundle.manifest.walk_bundle`).
A team server streams a bundle to its clients from here (:meth:`S3Storage.stored_bundle`),
with the checksum the manifest's sums make, without a copy on its own disk, and
streams an upload straight into the bucket (:meth:`S3Storage.bundle_writer`):
each file to its final key as it arrives, the manifest at the commit.

Credentials, region and endpoint are botocore's own: ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` (``AWS_SESSION_TOKEN``), ``AWS_PROFILE`` with
``~/.aws/credentials`` and ``~/.aws/config``, ``AWS_DEFAULT_REGION``, and
``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` for MinIO or moto; nothing here
reads them.  Transient errors (5xx, throttling, dropped connections) are retried
by botocore's ``standard`` retry mode with backoff, :data:`MAX_ATTEMPTS` attempts,
unless ``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS`` say otherwise.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlparse

from bentoml.bundle.manifest import file_sha256, safe_relpath, walk_bundle
from bentoml.bundle.naming import validate_name, validate_version
from bentoml.exceptions import BentoMLException, InvalidArgument, RepositoryError
from bentoml.hookspecs import hookimpl
from bentoml.progress import CopyProgress
from bentoml.repository.storage import BundleWriter, StorageBackend, StoredBundle, StoredFile

__all__ = ["S3Storage", "MAX_ATTEMPTS"]

#: Attempts per S3 request (botocore's standard retry mode) when the environment sets none.
MAX_ATTEMPTS = 5
#: Multipart part size and parts in flight per file: memory stays at about their product.
PART_BYTES = 8 << 20
PARTS_IN_FLIGHT = 4
#: Block of a bundle read in place (a server streaming it): one ranged GET per block.
READ_BLOCK_BYTES = 32 << 20
_MANIFESTS = ".manifests"
_FORMAT = 1


def make_filesystem() -> Any:
    """An s3fs file system configured from the environment only (see the module docstring).

    Listings are never cached: another server or client may have saved or deleted a
    bundle since, and ``exists`` must see it."""
    import s3fs

    config: Dict[str, Any] = {}
    if not (os.environ.get("AWS_RETRY_MODE") or os.environ.get("AWS_MAX_ATTEMPTS")):
        config["retries"] = {"mode": "standard", "max_attempts": MAX_ATTEMPTS}
    return s3fs.S3FileSystem(config_kwargs=config, use_listings_cache=False, skip_instance_cache=True,
                             max_concurrency=PARTS_IN_FLIGHT)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _describe(exc: BaseException, where: str) -> str:
    """What went wrong talking to S3, in one line a user can act on."""
    try:
        from botocore.exceptions import EndpointConnectionError, NoCredentialsError, PartialCredentialsError
    except ImportError:  # pragma: no cover - s3fs brings botocore
        EndpointConnectionError = NoCredentialsError = PartialCredentialsError = ()  # type: ignore
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return (f"no AWS credentials for {where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "(or AWS_PROFILE with ~/.aws/credentials)")
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach S3 for {where}: {_one_line(exc)} (check AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)"
    if isinstance(exc, PermissionError):
        return (f"S3 refused access to {where}: {_one_line(exc)} (check the AWS credentials and the "
                "bucket's policy)")
    return f"S3 failed on {where}: {_one_line(exc)}"


@contextlib.contextmanager
def _s3_errors(where: str) -> Iterator[None]:
    """Any failure of S3 (or of the local side of a copy) as a one-line RepositoryError."""
    try:
        yield
    except BentoMLException:
        raise
    except Exception as exc:  # noqa: BLE001 - s3fs, aiobotocore and botocore raise many kinds
        raise RepositoryError(_describe(exc, where)) from None


class _Progress:
    """An fsspec callback counting one file's bytes into a :class:`CopyProgress`."""

    def __init__(self, progress: CopyProgress):
        from fsspec.callbacks import Callback

        outer = progress

        class _Callback(Callback):
            def call(self, *args: Any, **kwargs: Any) -> None:
                pass

            def relative_update(self, inc: int = 1) -> None:
                outer.update(inc)

        self.callback = _Callback()


class S3Storage(StorageBackend):
    """Bundles stored as objects under ``s3://BUCKET/PREFIX`` (see the module docstring).

    URIs are ``s3://BUCKET/PREFIX/NAME/VERSION``; a URI naming anything else (the
    base, a name's prefix, a path through ``..``) is refused, so a delete never
    takes more than one version.
    """

    uri_type = "S3"

    def __init__(self, base_url: str):
        parsed = urlparse(base_url)
        if parsed.scheme.lower() != "s3" or not parsed.netloc:
            raise RepositoryError(f"{base_url!r} is not an S3 URL: use s3://BUCKET or s3://BUCKET/PREFIX")
        if parsed.query or parsed.fragment:
            raise RepositoryError(f"{base_url!r}: an S3 base URL takes no query or fragment")
        self.bucket = parsed.netloc
        self.prefix = "/".join(part for part in parsed.path.split("/") if part)
        if any(part in (".", "..") for part in self.prefix.split("/")):
            raise RepositoryError(f"{base_url!r}: the prefix may not contain '.' or '..'")
        self._root = f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket
        super().__init__(f"s3://{self._root}")
        self._fs: Any = None
        self._transfer: Any = None
        self._fs_lock = threading.Lock()
        self._writable = False

    @property
    def fs(self) -> Any:
        """The s3fs file system, made on first use (so naming a URL does no network)."""
        with self._fs_lock:
            if self._fs is None:
                with _s3_errors(self.base_url):
                    self._fs = make_filesystem()
            return self._fs

    @property
    def transfer_client(self) -> Any:
        """A boto3 S3 client, configured from the environment like :func:`make_filesystem`'s,
        for the streamed uploads s3fs cannot send concurrently (its writable files send one
        part at a time)."""
        with self._fs_lock:
            if self._transfer is None:
                import boto3
                from botocore.config import Config

                retries = None if (os.environ.get("AWS_RETRY_MODE") or os.environ.get("AWS_MAX_ATTEMPTS")) \
                    else {"mode": "standard", "max_attempts": MAX_ATTEMPTS}
                with _s3_errors(self.base_url):
                    self._transfer = boto3.session.Session().client(
                        "s3", config=Config(retries=retries, max_pool_connections=2 * PARTS_IN_FLIGHT))
            return self._transfer

    # -- where things are ----------------------------------------------------------------
    def _version(self, uri: str) -> Tuple[str, str]:
        """``(name, version)`` of the one bundle ``uri`` names: exactly ``BASE/NAME/VERSION``."""
        base = self.base_url + "/"
        if not isinstance(uri, str) or not uri.startswith(base):
            raise RepositoryError(f"{uri!r} is not a bundle's URI under {self.base_url}")
        parts = uri[len(base):].split("/")
        if len(parts) != 2:
            raise RepositoryError(f"{uri!r} is not one bundle's URI {self.base_url}/NAME/VERSION")
        try:
            return validate_name(parts[0]), validate_version(parts[1])
        except InvalidArgument as exc:
            raise RepositoryError(f"{uri!r} is not a bundle's URI under {self.base_url}: {exc}") from None

    def _files(self, name: str, version: str) -> str:
        return f"{self._root}/{name}/{version}"

    def _manifest(self, name: str, version: str) -> str:
        return f"{self._root}/{_MANIFESTS}/{name}/{version}.json"

    def _read_manifest(self, name: str, version: str) -> Optional[Dict[str, Any]]:
        where = f"{self.base_url}/{name}/{version}"
        with _s3_errors(where):
            try:
                raw = self.fs.cat_file(self._manifest(name, version))
            except FileNotFoundError:
                return None
        try:
            data = json.loads(raw)
            files = [StoredFile(safe_relpath(f["path"]), int(f["size"]), int(f["mode"]), f.get("sha256"))
                     for f in data["files"]]
            dirs = [safe_relpath(d) for d in data["dirs"]]
        except (ValueError, KeyError, TypeError, BentoMLException) as exc:
            raise RepositoryError(f"the manifest of {where} is corrupt: {_one_line(exc)}") from None
        return {"files": files, "dirs": dirs}

    # -- the backend ---------------------------------------------------------------------
    def check_writable(self) -> None:
        """Write and remove a probe object once: a missing bucket, bad credentials or an
        unreachable endpoint are said here, in one line, before anything is saved."""
        if self._writable:
            return
        probe = f"{self._root}/{_MANIFESTS}/.write-check"
        try:
            self.fs.pipe_file(probe, b"")
            self.fs.rm_file(probe)
        except FileNotFoundError:
            raise RepositoryError(f"the S3 bucket {self.bucket!r} of {self.base_url} does not exist "
                                  "(create it first)") from None
        except BentoMLException:
            raise
        except Exception as exc:  # noqa: BLE001
            raise RepositoryError(f"cannot store bundles in {self.base_url}: "
                                  f"{_describe(exc, 'bucket ' + repr(self.bucket))}") from None
        self._writable = True

    def exists(self, uri: str) -> bool:
        """Whether ``uri``'s manifest is there (objects without one are a killed save's)."""
        name, version = self._version(uri)
        with _s3_errors(uri):
            return bool(self.fs.exists(self._manifest(name, version)))

    def put_dir(self, local_dir: str, name: str, version: str) -> str:
        """Send every file of ``local_dir`` (links checked first), then the manifest."""
        uri = self.uri_for(name, version)
        self._version(uri)
        if not os.path.isdir(local_dir):
            raise RepositoryError(f"{local_dir} is not a directory")
        if self.exists(uri):
            raise RepositoryError(f"{name}:{version} is already stored at {uri}; versions are never overwritten")
        try:  # every entry checked before a byte is sent
            entries = list(walk_bundle(local_dir))
        except BentoMLException as exc:
            raise RepositoryError(str(exc)) from None
        dirs = [rel for rel, _path, is_folder in entries if is_folder]
        files: List[Tuple[str, str, int, int, str]] = []
        for rel, path, is_folder in entries:
            if not is_folder:
                info = os.stat(path)
                # the sums make the checksum a team server answers without reading the objects
                files.append((rel, path, info.st_size, stat.S_IMODE(info.st_mode), file_sha256(path)))
        files.sort()
        root = self._files(name, version)
        with CopyProgress(f"Storing {name}:{version}", sum(f[2] for f in files)) as progress:
            callback = _Progress(progress).callback
            for rel, path, _size, _mode, _sha in files:
                with _s3_errors(f"{uri}/{rel}"):
                    self.fs.put_file(path, f"{root}/{rel}", callback=callback, chunksize=PART_BYTES)
        self._write_manifest(name, version, dirs, [StoredFile(rel, size, mode, sha)
                                                   for rel, _p, size, mode, sha in files])
        return uri

    def _write_manifest(self, name: str, version: str, dirs: List[str], files: List[StoredFile]) -> None:
        """Written last: from then on the bundle exists."""
        manifest = {"format": _FORMAT, "name": name, "version": version, "dirs": dirs,
                    "files": [{"path": f.path, "size": f.size, "mode": f.mode, "sha256": f.sha256}
                              for f in files]}
        with _s3_errors(self.uri_for(name, version)):
            self.fs.pipe_file(self._manifest(name, version), json.dumps(manifest).encode())

    def bundle_writer(self, name: str, version: str) -> BundleWriter:
        """A writer streaming ``name:version`` file by file to its keys (a team server's upload)."""
        uri = self.uri_for(name, version)
        self._version(uri)
        if self.exists(uri):
            raise RepositoryError(f"{name}:{version} is already stored at {uri}; versions are never overwritten")
        return _S3Writer(self, name, version)

    def get_dir(self, uri: str, target_dir: str) -> None:
        """Fetch the files the manifest lists into ``target_dir``, with their modes and folders."""
        name, version = self._version(uri)
        manifest = self._read_manifest(name, version)
        if manifest is None:
            raise RepositoryError(f"no bundle is stored at {uri}")
        if os.path.isdir(target_dir) and os.listdir(target_dir):
            raise RepositoryError(f"cannot copy a bundle into {target_dir}: the directory is not empty")
        created = not os.path.exists(target_dir)
        root = self._files(name, version)
        try:
            os.makedirs(target_dir, exist_ok=True)
            for rel in manifest["dirs"]:
                os.makedirs(os.path.join(target_dir, *rel.split("/")), exist_ok=True)
            total = sum(f.size for f in manifest["files"])
            with CopyProgress(f"Copying {name}:{version}", total) as progress:
                callback = _Progress(progress).callback
                for rel, size, mode, _sha in ((f.path, f.size, f.mode, f.sha256) for f in manifest["files"]):
                    local = os.path.join(target_dir, *rel.split("/"))
                    os.makedirs(os.path.dirname(local), exist_ok=True)
                    with _s3_errors(f"{uri}/{rel}"):
                        self.fs.get_file(f"{root}/{rel}", local, callback=callback)
                        got = os.path.getsize(local)
                    if got != size:
                        raise RepositoryError(f"{uri}/{rel} holds {got} bytes, its manifest says {size}")
                    # a bundle's scripts (docker-entrypoint.sh) must stay executable
                    os.chmod(local, mode & 0o777)
        except BaseException:
            if created:
                shutil.rmtree(target_dir, ignore_errors=True)
            raise

    def stored_bundle(self, uri: str) -> Optional[StoredBundle]:
        """The bundle at ``uri``, its objects read in place in blocks of :data:`READ_BLOCK_BYTES`."""
        name, version = self._version(uri)
        manifest = self._read_manifest(name, version)
        if manifest is None:
            raise RepositoryError(f"no bundle is stored at {uri}")
        return _S3Bundle(self, self._files(name, version), manifest["dirs"], manifest["files"])

    def delete(self, uri: str) -> None:
        """Remove the one version ``uri`` names: its manifest first (it is gone at once),
        then its objects; a missing one is not an error."""
        name, version = self._version(uri)
        with _s3_errors(uri):
            try:
                self.fs.rm_file(self._manifest(name, version))
            except FileNotFoundError:
                pass
            try:
                self.fs.rm(self._files(name, version) + "/", recursive=True)
            except FileNotFoundError:
                pass


def _transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig

    config = TransferConfig(multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES,
                            max_concurrency=PARTS_IN_FLIGHT)
    # s3transfer's own setting (boto3's constructor does not take it): parts read ahead of the sends
    config.max_in_memory_upload_chunks = PARTS_IN_FLIGHT
    return config


class _Counted:
    """A reader boto3 reads as the non-seekable stream it is, its bytes counted."""

    def __init__(self, reader: Any):
        self._reader = reader
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        chunk = self._reader.read(n)
        self.size += len(chunk)
        return chunk

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


class _S3Writer(BundleWriter):
    """Files sent to ``PREFIX/NAME/VERSION/<path>`` in multipart parts as they are read;
    nothing is stored until the manifest is (:meth:`finish`)."""

    def __init__(self, storage: S3Storage, name: str, version: str):
        self._storage = storage
        self._name = name
        self._version = version
        self.uri = storage.uri_for(name, version)
        self._root = storage._files(name, version)
        self._root_key = self._root.split("/", 1)[1]  # without the bucket
        self._written: set = set()

    def write(self, path: str, reader: Any, mode: int) -> int:
        rel = safe_relpath(path)
        self._written.add(rel)
        counted = _Counted(reader)
        with _s3_errors(f"{self.uri}/{rel}"):
            # boto3's transfer manager sends the parts of a stream concurrently, with
            # PARTS_IN_FLIGHT parts in memory; a failed transfer aborts its multipart upload
            self._storage.transfer_client.upload_fileobj(counted, self._storage.bucket, f"{self._root_key}/{rel}",
                                                         Config=_transfer_config())
        return counted.size

    def remove(self, path: str) -> None:
        with _s3_errors(f"{self.uri}/{path}"):
            try:
                self._storage.fs.rm_file(f"{self._root}/{safe_relpath(path)}")
            except FileNotFoundError:
                pass

    def finish(self, folders: List[str], files: List[StoredFile]) -> str:
        for stray in sorted(self._written - {f.path for f in files}):
            self.remove(stray)
        self._storage._write_manifest(self._name, self._version, list(folders), sorted(files, key=lambda f: f.path))
        return self.uri

    def discard(self) -> None:
        self._storage.delete(self.uri)


class _S3Bundle(StoredBundle):
    """A bundle's objects under ``root``, as its manifest lists them."""

    def __init__(self, storage: S3Storage, root: str, folders: List[str], files: List[StoredFile]):
        self._storage = storage
        self._root = root
        self.folders = folders
        self.files = files

    def open(self, path: str) -> Any:
        # readahead in large blocks: tarfile reads 16 KiB at a time, one ranged GET each would crawl
        with _s3_errors(f"s3://{self._root}/{path}"):
            return self._storage.fs.open(f"{self._root}/{safe_relpath(path)}", "rb", block_size=READ_BLOCK_BYTES,
                                         cache_type="readahead")


@hookimpl
def register_storage_backends(register):
    register(S3Storage, "s3")
