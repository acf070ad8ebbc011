"""Storage backends: where bundle files live (local disk, S3, ...).

The kernel knows no storage system: a plugin registers a backend class per URL
scheme through ``register_storage_backends``.  The repository asks the backend
to store a finished bundle directory under ``<base_url>/<name>/<version>`` and
records the returned URI in its metadata store only after ``put_dir`` returned,
so nothing half-written is ever listed.
"""
from __future__ import annotations

import abc
import os
from typing import BinaryIO, ClassVar, List, Optional
from urllib.parse import urlparse

import attrs

from bentoml.plugins import get_registry


def url_scheme(url: str) -> str:
    """``file`` for plain paths and ``file://`` URLs, else the URL's scheme."""
    parsed = urlparse(url)
    if not parsed.scheme or len(parsed.scheme) == 1:  # "C:\\x" on Windows is a path
        return "file"
    return parsed.scheme.lower()


@attrs.frozen
class StoredFile:
    """One file of a stored bundle: its posix path in the bundle, size, mode bits and,
    where the storage recorded it, its sha256 (hex)."""

    path: str
    size: int
    mode: int
    sha256: Optional[str] = None


class StoredBundle(abc.ABC):
    """A remotely stored bundle read in place, file by file (see ``StorageBackend.stored_bundle``)."""

    #: The bundle's folders (posix paths, parents first), empty ones included.
    folders: List[str]
    #: Its files, sorted by path.
    files: List[StoredFile]

    @abc.abstractmethod
    def open(self, path: str) -> BinaryIO:
        """A binary reader of the file ``path`` (one of ``files``), read sequentially."""


class BundleWriter(abc.ABC):
    """A bundle written file by file at its final place, stored only once :meth:`finish` ran.

    A team server streams an upload straight into storage through one
    (``StorageBackend.bundle_writer``) instead of keeping it on its own disk and
    copying it at the commit.  Until ``finish`` the bundle does not exist
    (``exists`` is False, nothing reads it), and ``discard`` or the storage's
    ``delete`` of its URI removes what was written.
    """

    #: Where the bundle is stored (``StorageBackend.uri_for(name, version)``).
    uri: str

    @abc.abstractmethod
    def write(self, path: str, reader: BinaryIO, mode: int) -> int:
        """Store the file ``path`` (a safe relative posix path) from ``reader``, read to its
        end, with ``mode`` bits; a path written again is replaced.  Returns its size."""

    @abc.abstractmethod
    def remove(self, path: str) -> None:
        """Forget the file ``path`` (a write whose bytes turned out wrong); missing is fine."""

    @abc.abstractmethod
    def finish(self, folders: List[str], files: List[StoredFile]) -> str:
        """Make the bundle of exactly ``files`` (each written, with its sha256) and ``folders``
        exist; returns its URI.  Files written but not listed are removed."""

    @abc.abstractmethod
    def discard(self) -> None:
        """Remove everything written (an aborted or expired upload)."""


class StorageBackend(abc.ABC):
    """Stores whole bundle directories under a base URL.

    Implementations must make ``put_dir`` all-or-nothing at the final location
    as far as the storage allows (write elsewhere, then move), and must never
    write outside ``base_url``; ``name`` and ``version`` arrive validated.  A URI
    names exactly one version (a URI naming a name's folder or the base is a
    :class:`~bentoml.exceptions.RepositoryError`, never a delete of several), and
    a link in a bundle that leaves it or dangles is refused by ``put_dir`` and
    ``get_dir`` before anything is copied (``StorageBackendContract`` checks all this).
    """

    #: Shown as ``uri.type`` by ``bentoml get`` (``LOCAL``, ``S3``).
    uri_type: ClassVar[str] = "LOCAL"

    def __init__(self, base_url: str):
        self.base_url = base_url

    @abc.abstractmethod
    def put_dir(self, local_dir: str, name: str, version: str) -> str:
        """Copy the bundle in ``local_dir`` to its place; return its URI (``uri_for(name, version)``)."""

    @abc.abstractmethod
    def get_dir(self, uri: str, target_dir: str) -> None:
        """Copy the bundle at ``uri`` into the (new or empty) local ``target_dir``."""

    @abc.abstractmethod
    def delete(self, uri: str) -> None:
        """Remove the one bundle version at ``uri``; a missing one is not an error."""

    @abc.abstractmethod
    def exists(self, uri: str) -> bool:
        """Whether a bundle is stored at ``uri``."""

    def uri_for(self, name: str, version: str) -> str:
        """Where ``put_dir`` will store ``name:version`` (recorded before the files exist)."""
        if url_scheme(self.base_url) == "file":
            return os.path.join(self.base_url, name, version)
        return f"{self.base_url.rstrip('/')}/{name}/{version}"

    def local_path(self, uri: str) -> Optional[str]:
        """A local directory holding the bundle, when it can be read in place."""
        return None

    def check_writable(self) -> None:
        """Raise :class:`bentoml.exceptions.RepositoryError` if saving cannot work."""

    def bundle_writer(self, name: str, version: str) -> Optional[BundleWriter]:
        """A writer that stores ``name:version`` file by file at its final place, for storage
        where a copy at the end costs what the upload did (S3); None where writing the bundle
        locally and then calling ``put_dir`` is as good (local disk)."""
        return None

    def stored_bundle(self, uri: str) -> Optional[StoredBundle]:
        """The bundle at ``uri`` to read file by file where it is (a team server streams it to
        a client from S3 without a local copy); None where the storage offers no such reads
        (``get_dir`` then copies it)."""
        return None


def get_storage(base_url: str) -> StorageBackend:
    """The backend registered for ``base_url``'s scheme, bound to that URL."""
    scheme = url_scheme(base_url)
    if scheme == "file":
        if base_url.startswith("file://"):
            base_url = urlparse(base_url).path
        base_url = os.path.abspath(os.path.expanduser(base_url))
    backend_cls = get_registry().get("storage_backends", scheme)
    return backend_cls(base_url)  # type: ignore[operator]
