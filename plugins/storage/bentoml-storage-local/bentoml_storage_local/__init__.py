"""The local file system storage backend (scheme ``file``), through fsspec.

The repository under ``$BENTOML_HOME/repository`` uses it by default.  A
bundle is copied into ``<base>/.staging/<random>/bundle`` first and renamed to
``<base>/<name>/<version>`` in one step, so a crash mid-copy never leaves a
half-written bundle where the repository looks.  The staging directory is
owned by the copying process (:mod:`bentoml.repository.workdirs`): the next
save removes a killed save's copy at once, and never a live one's.  A delete
renames the version folder into an owned staging directory first, so it
disappears in one step too.

Links: a link inside a bundle that points to a file or folder inside the same
bundle is copied as a (relative) link; a link that leaves the bundle (absolute,
or through ``..``), that dangles or that makes a loop is refused before
anything is copied, as is anything that is neither a file, a folder nor a link
(a FIFO would block the copy).  Copies of large bundles show a progress bar
when stderr is a terminal (:mod:`bentoml.progress`).
"""
from __future__ import annotations

import os
import stat
import shutil
from typing import List, Optional, Tuple
from urllib.parse import urlparse

from bentoml.bundle.naming import validate_name, validate_version
from bentoml.exceptions import InvalidArgument, RepositoryError
from bentoml.hookspecs import hookimpl
from bentoml.progress import CopyProgress
from bentoml.repository.fs_state import unwritable_reason
from bentoml.repository.storage import StorageBackend
from bentoml.repository.workdirs import owned_workdir, remove_abandoned

__all__ = ["LocalStorage"]

_STAGING = ".staging"
_CHUNK = 1 << 20


def _fs():
    from fsspec.implementations.local import LocalFileSystem

    return LocalFileSystem()


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class _Tree:
    """What a copy of the bundle at ``root`` will create, checked before anything is copied."""

    def __init__(self, root: str, label: str):
        self.dirs: List[str] = []
        self.files: List[Tuple[str, int, int]] = []  # relative path, size, mode
        self.links: List[Tuple[str, str]] = []  # relative path, relative target
        real_root = os.path.realpath(root)
        for top, dirs, files in os.walk(root, onerror=self._raise):
            for entry in sorted(dirs) + sorted(files):
                full = os.path.join(top, entry)
                rel = os.path.relpath(full, root)
                info = os.lstat(full)
                if stat.S_ISLNK(info.st_mode):
                    self.links.append((rel, self._link_target(full, rel, real_root, label)))
                elif stat.S_ISDIR(info.st_mode):
                    self.dirs.append(rel)
                elif stat.S_ISREG(info.st_mode):
                    self.files.append((rel, info.st_size, stat.S_IMODE(info.st_mode)))
                else:
                    raise RepositoryError(f"{label}: {rel} is not a file, folder or link")

    @staticmethod
    def _raise(exc: OSError) -> None:
        raise exc

    @staticmethod
    def _link_target(full: str, rel: str, real_root: str, label: str) -> str:
        target = os.readlink(full)
        resolved = os.path.realpath(full)
        if not os.path.exists(full):
            raise RepositoryError(f"{label}: link {rel} points to {target}, which does not exist")
        if not _inside(resolved, real_root):
            raise RepositoryError(f"{label}: link {rel} points outside the bundle ({target})")
        here = os.path.realpath(os.path.dirname(full))
        if os.path.isdir(resolved) and _inside(here, resolved):
            raise RepositoryError(f"{label}: link {rel} points to a folder that holds it ({target}), a loop")
        return os.path.relpath(resolved, here)

    @property
    def size(self) -> int:
        return sum(size for _, size, _ in self.files)


def _copy_tree(src: str, dst: str, bundle: str, verb: str) -> None:
    """Copy the bundle ``src`` (``NAME:VERSION`` in messages) to the new or empty ``dst``.

    Links are checked first (see the module docstring): a refused one leaves ``dst`` untouched.
    """
    tree = _Tree(src, bundle)
    fs = _fs()
    os.makedirs(dst, exist_ok=True)
    for rel in tree.dirs:
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
    with CopyProgress(f"{verb} {bundle}", tree.size) as progress:
        for rel, _, mode in tree.files:
            with fs.open(os.path.join(src, rel), "rb") as fin, fs.open(os.path.join(dst, rel), "wb") as fout:
                while True:
                    chunk = fin.read(_CHUNK)
                    if not chunk:
                        break
                    fout.write(chunk)
                    progress.update(len(chunk))
            # a bundle's scripts (docker-entrypoint.sh) must stay executable
            os.chmod(os.path.join(dst, rel), mode)
    for rel, target in tree.links:
        os.symlink(target, os.path.join(dst, rel))


class LocalStorage(StorageBackend):
    """Bundles stored as plain directories ``<base_url>/<name>/<version>``.

    URIs are the bundles' absolute paths (``file://`` URLs are accepted too), and
    a bundle is read in place (``local_path``).  A URI must name one version's
    folder under ``base_url``; anything else is refused (see ``_path``).
    """

    uri_type = "LOCAL"

    def __init__(self, base_url: str):
        if base_url.startswith("file://"):
            base_url = urlparse(base_url).path
        super().__init__(os.path.realpath(os.path.abspath(os.path.expanduser(base_url))))

    def _path(self, uri: str) -> str:
        """The folder of the one bundle ``uri`` names: exactly ``<base>/<name>/<version>``.

        Anything else is refused: a path outside the base, the base itself, a name's
        folder (which holds every version), the staging area, or a name or version
        folder that is a link (it would lead to another bundle's files).
        """
        if uri.startswith("file://"):
            uri = urlparse(uri).path
        path = os.path.normpath(os.path.join(self.base_url, os.path.expanduser(uri)))
        version_dir, name_dir = path, os.path.dirname(path)
        name, version = os.path.basename(name_dir), os.path.basename(version_dir)
        if os.path.realpath(os.path.dirname(name_dir)) != self.base_url:
            if os.path.relpath(path, self.base_url).split(os.sep)[0] == _STAGING:
                raise RepositoryError(f"{uri!r} is a staging area, not a stored bundle")
            raise RepositoryError(f"{uri!r} is not a bundle's folder <name>/<version> in the local "
                                  f"repository storage {self.base_url}")
        if name == _STAGING:
            raise RepositoryError(f"{uri!r} is a staging area, not a stored bundle")
        try:
            validate_name(name)
            validate_version(version)
        except InvalidArgument as exc:
            raise RepositoryError(f"{uri!r} is not a bundle's folder in {self.base_url}: {exc}") from None
        path = os.path.join(self.base_url, name, version)
        for folder in (os.path.dirname(path), path):
            if os.path.islink(folder):
                raise RepositoryError(f"{folder} is a link, not a bundle's folder in {self.base_url}")
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
        if _inside(self.base_url, os.path.realpath(local_dir)):
            raise RepositoryError(f"cannot store {local_dir}: it holds the repository storage {self.base_url}")
        self.check_writable()
        root = os.path.join(self.base_url, _STAGING)
        remove_abandoned(root)  # copies of saves killed mid-copy
        try:
            with owned_workdir(root, "") as workdir:
                staging = os.path.join(workdir, "bundle")
                _copy_tree(os.path.abspath(local_dir), staging, f"{name}:{version}", "Storing")
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
        target = os.path.realpath(target_dir)
        if _inside(target, self.base_url):
            raise RepositoryError(f"cannot copy the bundle at {path} into {target_dir}: "
                                  f"it is inside the repository storage {self.base_url}")
        if os.path.isdir(target_dir) and os.listdir(target_dir):
            raise RepositoryError(f"cannot copy a bundle into {target_dir}: the directory is not empty")
        bundle = ":".join(os.path.relpath(path, self.base_url).split(os.sep))
        try:
            _copy_tree(path, target_dir, bundle, "Copying")
        except OSError as exc:
            raise RepositoryError(f"could not copy {bundle} into {target_dir}: {exc}") from None

    def delete(self, uri: str) -> None:
        """Remove exactly the version folder ``uri`` names (see :meth:`_path`)."""
        path = self._path(uri)
        if not os.path.isdir(path):
            return
        # One rename takes the version away whatever it holds and whichever process
        # has its working directory in it; the files go afterwards (a killed delete's
        # leftovers with the next save's abandoned staging copies).
        root = os.path.join(self.base_url, _STAGING)
        renamed = False
        try:
            with owned_workdir(root, "deleted-") as workdir:
                trash = os.path.join(workdir, "bundle")
                os.rename(path, trash)
                renamed = True
                shutil.rmtree(trash)
        except OSError as exc:
            if not renamed:
                raise RepositoryError(f"cannot delete the bundle files at {path}: {exc.strerror}") from None
            raise RepositoryError(f"deleted the bundle at {path}, but could not remove all its files "
                                  f"from {root}: {exc.strerror}") from None
        parent = os.path.dirname(path)
        try:  # the last version of a name takes the name's folder with it
            if not os.listdir(parent):
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
