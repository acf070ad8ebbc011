"""``StorageBackendContract``: what every storage backend plugin promises."""
from __future__ import annotations

import os
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


def small_bundle(tmp_path: pathlib.Path) -> pathlib.Path:
    """``tmp_path/bundle``: a ``bentoml.yml``, an empty folder and an executable
    ``docker-entrypoint.sh``, for a storage plugin's own tests of modes and folders."""
    src = tmp_path / "bundle"
    (src / "empty").mkdir(parents=True, exist_ok=True)
    (src / "bentoml.yml").write_text("name: Svc\n")
    script = src / "docker-entrypoint.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    return src


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

    def test_stored_bundle_reads_the_same_files(self, tmp_path: pathlib.Path) -> None:
        """When the backend reads bundles in place (``stored_bundle``), it lists every file with
        its size (and sha256, if recorded) and every folder, and reads back the same bytes."""
        import hashlib

        backend, uri, files = self._stored(tmp_path)
        stored = backend.stored_bundle(uri)
        if stored is None:
            pytest.skip("backend does not read bundles in place")
        assert [f.path for f in stored.files] == sorted(files)
        read = {}
        for entry in stored.files:
            with stored.open(entry.path) as f:
                read[entry.path] = f.read()
            assert entry.size == len(files[entry.path])
            assert entry.sha256 in (None, hashlib.sha256(files[entry.path]).hexdigest())
        assert read == files
        assert {"Svc", "Svc/artifacts", "Svc/artifacts/model", "deep", "deep/er", "deep/er/and"} <= set(stored.folders)

    def test_bundle_writer_stores_only_at_finish(self, tmp_path: pathlib.Path) -> None:
        """Where the backend has a ``bundle_writer``: files written one by one exist as a bundle
        only after ``finish``, which keeps exactly the files it lists; ``get_dir`` and
        ``stored_bundle`` then read them back, modes included; ``discard`` removes the rest."""
        import hashlib
        import io

        from bentoml.repository.storage import StoredFile
        from bentoml.repository.streamed_add import parent_folders

        backend = self.make_backend(tmp_path)
        writer = backend.bundle_writer(self.name, self.version)
        if writer is None:
            pytest.skip("backend stores bundles with put_dir only")
        assert writer.uri == backend.uri_for(self.name, self.version)
        files = _write_tree(tmp_path / "src")
        for rel, data in files.items():
            assert writer.write(rel, io.BytesIO(data), 0o644) == len(data)
        writer.write("stray.bin", io.BytesIO(b"sent, then not in the commit"), 0o644)
        writer.write("wrong.bin", io.BytesIO(b"bytes that failed their check"), 0o644)
        writer.remove("wrong.bin")
        assert not backend.exists(writer.uri)
        files["run.sh"] = b"#!/bin/sh\n"
        writer.write("run.sh", io.BytesIO(files["run.sh"]), 0o755)
        stored = [StoredFile(rel, len(data), 0o755 if rel == "run.sh" else 0o644, hashlib.sha256(data).hexdigest())
                  for rel, data in sorted(files.items())]
        assert writer.finish(parent_folders(files), stored) == writer.uri
        assert backend.exists(writer.uri)
        backend.get_dir(writer.uri, str(tmp_path / "out"))
        assert _read_tree(tmp_path / "out") == files
        assert os.access(tmp_path / "out" / "run.sh", os.X_OK)

        other = backend.bundle_writer(self.name, "20240101000000_DISCRD")
        assert other is not None
        other.write("bentoml.yml", io.BytesIO(b"x"), 0o644)
        other.discard()
        assert not backend.exists(other.uri)
        with pytest.raises(RepositoryError):  # a stored version is never written again
            backend.bundle_writer(self.name, self.version)

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

    # -- one version, exactly ----------------------------------------------------------------

    def test_put_dir_stores_where_uri_for_says(self, tmp_path: pathlib.Path) -> None:
        """put_dir returns ``uri_for(name, version)``: the URI the repository records before the copy."""
        backend, uri, _ = self._stored(tmp_path)
        assert uri == backend.uri_for(self.name, self.version)

    def test_delete_removes_exactly_one_version(self, tmp_path: pathlib.Path) -> None:
        """delete takes one version's files; other versions of the name and other names stay whole."""
        backend, uri, files = self._stored(tmp_path)
        others = [backend.put_dir(str(tmp_path / "src"), self.name, "2"),
                  backend.put_dir(str(tmp_path / "src"), "Other", self.version)]
        backend.delete(uri)
        assert not backend.exists(uri)
        for i, other in enumerate(others):
            backend.get_dir(other, str(tmp_path / f"out{i}"))
            assert _read_tree(tmp_path / f"out{i}") == files

    def test_delete_refuses_a_uri_that_is_not_one_version(self, tmp_path: pathlib.Path) -> None:
        """A URI naming a name's folder (every version) or the base is refused; nothing is removed."""
        backend, uri, files = self._stored(tmp_path)
        name_folder = uri.rstrip("/").rsplit("/", 1)[0]
        for wrong in (name_folder, backend.base_url, f"{uri}/..", f"{name_folder}/../{self.name}"):
            with pytest.raises(RepositoryError):
                backend.delete(wrong)
        backend.get_dir(uri, str(tmp_path / "out"))
        assert _read_tree(tmp_path / "out") == files

    def test_delete_with_the_working_directory_inside(self, tmp_path: pathlib.Path, monkeypatch) -> None:
        """A process whose working directory is the bundle's folder (or inside it) does not keep its files."""
        backend, uri, _ = self._stored(tmp_path)
        local = backend.local_path(uri)
        if local is None:
            pytest.skip("backend has no local path")
        monkeypatch.chdir(local)
        backend.delete(uri)
        assert not backend.exists(uri) and not os.path.exists(local)

    # -- links ----------------------------------------------------------------------------------

    @pytest.mark.parametrize("link, target, says", [
        ("leak", "{outside}", "points outside the bundle"),
        ("deep/leak", "../../outside.txt", "points outside the bundle"),
        ("dangling", "{missing}", "which does not exist"),
        ("deep/er/loop", "..", "a loop"),
    ])
    def test_put_dir_refuses_links_leaving_the_bundle(self, tmp_path: pathlib.Path, link: str,
                                                      target: str, says: str) -> None:
        """A link out of the bundle (absolute or through ``..``), a dangling one or a loop is
        refused with a RepositoryError naming it; nothing is stored."""
        backend = self.make_backend(tmp_path)
        src = tmp_path / "src"
        _write_tree(src)
        (tmp_path / "outside.txt").write_text("not the bundle's")
        os.symlink(target.format(outside=tmp_path / "outside.txt", missing=tmp_path / "missing"), src / link)
        with pytest.raises(RepositoryError, match=f"link {link} points") as err:
            backend.put_dir(str(src), self.name, self.version)
        assert says in str(err.value)
        assert not backend.exists(backend.uri_for(self.name, self.version))

    def test_links_inside_the_bundle_are_kept(self, tmp_path: pathlib.Path) -> None:
        """A link to a file inside the bundle reads the same after the round trip."""
        backend = self.make_backend(tmp_path)
        src = tmp_path / "src"
        files = _write_tree(src)
        os.symlink("../../Svc/artifacts/model/model.pkl", src / "deep" / "er" / "model.pkl")
        os.symlink(str(src / "bentoml.yml"), src / "Svc" / "bentoml.yml")
        uri = backend.put_dir(str(src), self.name, self.version)
        backend.get_dir(uri, str(tmp_path / "out"))
        assert _read_tree(tmp_path / "out") == {**files, "deep/er/model.pkl": files["Svc/artifacts/model/model.pkl"],
                                                "Svc/bentoml.yml": files["bentoml.yml"]}

    def test_get_dir_refuses_links_leaving_the_stored_bundle(self, tmp_path: pathlib.Path) -> None:
        """A link planted in a stored bundle is refused by get_dir; nothing is copied through it."""
        backend, uri, _ = self._stored(tmp_path)
        local = backend.local_path(uri)
        if local is None:
            pytest.skip("backend has no local path")
        (tmp_path / "secret.txt").write_text("secret")
        os.symlink(str(tmp_path / "secret.txt"), os.path.join(local, "leak"))
        with pytest.raises(RepositoryError, match="link leak points outside the bundle"):
            backend.get_dir(uri, str(tmp_path / "out"))
        assert not (tmp_path / "out").exists()

    def test_get_dir_refuses_a_target_inside_the_stored_bundle(self, tmp_path: pathlib.Path) -> None:
        """get_dir into a folder inside the stored bundle (a copy into its own source) is refused."""
        backend, uri, files = self._stored(tmp_path)
        local = backend.local_path(uri)
        if local is None:
            pytest.skip("backend has no local path")
        with pytest.raises(RepositoryError):
            backend.get_dir(uri, os.path.join(local, "deep", "copy"))
        assert _read_tree(pathlib.Path(local)) == files
