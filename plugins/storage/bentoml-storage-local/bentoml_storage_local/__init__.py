"""The local file system storage backend (scheme ``file``), through fsspec.

The repository under ``$BENTOML_HOME/repository`` uses it by default.  A
bundle is copied into ``<base>/.staging/<random>/bundle`` first and renamed to
``<base>/<name>/<version>`` in one step, so a crash mid-copy never leaves a
half-written bundle where the repository looks.  The staging directory is
owned by the copying process (:mod:`bentoml.repository.workdirs`): the next
save removes a killed save's copy at once, and never a live one's.
"""
from __future__ import annotations

import os
import stat
from typing import Optional
from urllib.parse import urlparse

from bentoml.exceptions import RepositoryError
from bentoml.hookspecs import hookimpl
from bentoml.repository.fs_state import unwritable_reason
from bentoml.repository.storage import StorageBackend
from bentoml.repository.workdirs import owned_workdir, remove_abandoned

__all__ = ["LocalStorage"]

_STAGING = ".staging"


def _fs():
    from fsspec.implementations.local import LocalFileSystem

    return LocalFileSystem()


def _copy_tree(fs, src: str, dst: str) -> None:
    # With a trailing separator fsspec copies ``src``'s contents into ``dst``.
    os.makedirs(dst, exist_ok=True)
    fs.put(src.rstrip(os.sep) + os.sep, dst, recursive=True)
    # fsspec copies bytes only (shutil.copyfile); a bundle's scripts
    # (docker-entrypoint.sh) must stay executable, and empty folders must exist.
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        for d in dirs:
            os.makedirs(os.path.join(dst, rel, d), exist_ok=True)
        for f in files:
            os.chmod(os.path.join(dst, rel, f), stat.S_IMODE(os.stat(os.path.join(root, f)).st_mode))


class LocalStorage(StorageBackend):
    """Bundles stored as plain directories ``<base_url>/<name>/<version>``.

    URIs are the bundles' absolute paths (``file://`` URLs are accepted too), and
    a bundle is read in place (``local_path``).  Any path outside ``base_url``
    is refused.
    """

    uri_type = "LOCAL"

    def __init__(self, base_url: str):
        if base_url.startswith("file://"):
            base_url = urlparse(base_url).path
        super().__init__(os.path.realpath(os.path.abspath(os.path.expanduser(base_url))))

    def _path(self, uri: str) -> str:
        """The absolute path of ``uri``, refusing anything outside the base directory."""
        if uri.startswith("file://"):
            uri = urlparse(uri).path
        path = os.path.realpath(os.path.join(self.base_url, os.path.expanduser(uri)))
        if os.path.commonpath([path, self.base_url]) != self.base_url or path == self.base_url:
            raise RepositoryError(f"{uri!r} is outside the local repository storage {self.base_url}")
        if os.path.relpath(path, self.base_url).split(os.sep)[0] == _STAGING:
            raise RepositoryError(f"{uri!r} is a staging area, not a stored bundle")
        return path

    def check_writable(self) -> None:
        try:
            os.makedirs(self.base_url, exist_ok=True)
        except OSError as exc:
            raise RepositoryError(f"cannot create the repository directory {self.base_url}: {exc.strerror}") from None
        reason = unwritable_reason(self.base_url)
        if reason is not None:
            raise RepositoryError(
                f"the repository directory {self.base_url} is {reason}; "
                "fix its permissions or point $BENTOML_HOME elsewhere")

    def put_dir(self, local_dir: str, name: str, version: str) -> str:
        if not os.path.isdir(local_dir):
            raise RepositoryError(f"{local_dir} is not a directory")
        target = self._path(os.path.join(name, version))
        if os.path.exists(target):
            raise RepositoryError(f"{name}:{version} is already stored at {target}; versions are never overwritten")
        self.check_writable()
        root = os.path.join(self.base_url, _STAGING)
        remove_abandoned(root)  # copies of saves killed mid-copy
        try:
            with owned_workdir(root, "") as workdir:
                staging = os.path.join(workdir, "bundle")
                _copy_tree(_fs(), os.path.abspath(local_dir), staging)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                # rename is atomic within one file system and fails if target exists and is non-empty;
                # the exists() check above covers the empty-directory case.
                os.rename(staging, target)
        except OSError as exc:
            raise RepositoryError(f"could not store {name}:{version} in {self.base_url}: {exc}") from None
        return target

    def get_dir(self, uri: str, target_dir: str) -> None:
        path = self._path(uri)
        if not os.path.isdir(path):
            raise RepositoryError(f"no bundle is stored at {path}")
        if os.path.isdir(target_dir) and os.listdir(target_dir):
            raise RepositoryError(f"cannot copy a bundle into {target_dir}: the directory is not empty")
        _copy_tree(_fs(), path, target_dir)

    def delete(self, uri: str) -> None:
        path = self._path(uri)
        if os.path.isdir(path):
            _fs().rm(path, recursive=True)
            parent = os.path.dirname(path)
            try:  # the last version of a name takes the name's folder with it
                if parent != self.base_url and not os.listdir(parent):
                    os.rmdir(parent)
            except OSError:  # a concurrent save just put a version there
                pass

    def exists(self, uri: str) -> bool:
        return os.path.isdir(self._path(uri))

    def local_path(self, uri: str) -> Optional[str]:
        return self._path(uri)


@hookimpl
def register_storage_backends(register):
    register(LocalStorage, "file")
