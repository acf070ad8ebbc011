"""``StorageBackendContract``: what every storage backend plugin promises."""
from __future__ import annotations

import pathlib
from typing import ClassVar, Dict, Tuple

import pytest

from bentoml.exceptions import RepositoryError
from bentoml.repository.storage import StorageBackend
from bentoml.testing.contracts.plugin import PluginContract


def _write_tree(root: pathlib.Path) -> Dict[str, bytes]:
    files = {
        "bentoml.yml": b"name: Svc\nversion: 20240101000000_ABCDEF\n",
        "Svc/__init__.py": b"",
        "Svc/artifacts/model/model.pkl": bytes(range(256)) * 64,
        "deep/er/and/deeper.txt": "über\n".encode("utf-8"),
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def _read_tree(root: pathlib.Path) -> Dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


class StorageBackendContract(PluginContract):
    """Tests for a storage backend plugin.

    Set ``scheme`` and ``distribution``; implement ``make_backend(tmp_path)``
    returning a backend bound to an empty base URL.
    """

    kind = "storage_backends"
    hook = "register_storage_backends"
    scheme: ClassVar[str]
    name, version = "Svc", "20240101000000_ABCDEF"

    def make_backend(self, tmp_path: pathlib.Path) -> StorageBackend:
        raise NotImplementedError

    def registered(self, tmp_path: pathlib.Path) -> Tuple[str, type]:
        return self.scheme, type(self.make_backend(tmp_path))

    def _stored(self, tmp_path: pathlib.Path):
        backend = self.make_backend(tmp_path)
        src = tmp_path / "src"
        files = _write_tree(src)
        return backend, backend.put_dir(str(src), self.name, self.version), files

    def test_put_then_get_round_trip(self, tmp_path: pathlib.Path) -> None:
        """put_dir stores a tree (nested dirs, binary, empty files) that get_dir brings back intact."""
        backend, uri, files = self._stored(tmp_path)
        assert backend.exists(uri)
        backend.get_dir(uri, str(tmp_path / "out"))
        assert _read_tree(tmp_path / "out") == files

    def test_local_path_holds_files(self, tmp_path: pathlib.Path) -> None:
        """When the backend offers a local path, it holds the same files."""
        backend, uri, files = self._stored(tmp_path)
        local = backend.local_path(uri)
        if local is None:
            pytest.skip("backend has no local path")
        assert _read_tree(pathlib.Path(local)) == files

    def test_delete(self, tmp_path: pathlib.Path) -> None:
        """delete removes the bundle; deleting it again is not an error."""
        backend, uri, _ = self._stored(tmp_path)
        backend.delete(uri)
        assert not backend.exists(uri)
        backend.delete(uri)

    def test_get_dir_refuses_non_empty_target(self, tmp_path: pathlib.Path) -> None:
        """get_dir into a non-empty directory raises RepositoryError and leaves it alone."""
        backend, uri, _ = self._stored(tmp_path)
        target = tmp_path / "busy"
        target.mkdir()
        (target / "mine.txt").write_text("keep")
        with pytest.raises(RepositoryError):
            backend.get_dir(uri, str(target))
        assert _read_tree(target) == {"mine.txt": b"keep"}

    def test_put_dir_never_overwrites(self, tmp_path: pathlib.Path) -> None:
        """A second put_dir to the same name and version raises RepositoryError; the first stays."""
        backend, uri, files = self._stored(tmp_path)
        other = tmp_path / "other"
        other.mkdir()
        (other / "bentoml.yml").write_text("different")
        with pytest.raises(RepositoryError):
            backend.put_dir(str(other), self.name, self.version)
        backend.get_dir(uri, str(tmp_path / "out"))
        assert _read_tree(tmp_path / "out") == files
