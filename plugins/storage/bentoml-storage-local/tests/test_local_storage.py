import os
import time
import stat

import pytest

from bentoml.exceptions import RepositoryError
from bentoml.repository.storage import get_storage
from bentoml.testing import StorageBackendContract
from bentoml_storage_local import LocalStorage


class TestLocalStorage(StorageBackendContract):
    scheme = "file"
    distribution = "bentoml-storage-local"
    framework_module = "fsspec"

    def make_backend(self, tmp_path):
        return LocalStorage(str(tmp_path / "repository"))


def bundle(tmp_path):
    src = tmp_path / "bundle"
    (src / "empty").mkdir(parents=True, exist_ok=True)
    (src / "bentoml.yml").write_text("name: Svc\n")
    script = src / "docker-entrypoint.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    return src


def test_get_storage_picks_local_for_paths_and_file_urls(plugin_registry, tmp_path):
    assert isinstance(get_storage(str(tmp_path)), LocalStorage)
    backend = get_storage(f"file://{tmp_path}/repo")
    assert isinstance(backend, LocalStorage) and backend.base_url == os.path.realpath(tmp_path / "repo")


def test_layout_mode_and_empty_dirs_survive(tmp_path):
    backend = LocalStorage(str(tmp_path / "repo"))
    uri = backend.put_dir(str(bundle(tmp_path)), "Svc", "1")
    assert uri == os.path.realpath(tmp_path / "repo" / "Svc" / "1")
    assert os.stat(os.path.join(uri, "docker-entrypoint.sh")).st_mode & stat.S_IXUSR
    assert os.path.isdir(os.path.join(uri, "empty"))
    backend.get_dir(uri, str(tmp_path / "out"))
    assert os.stat(tmp_path / "out" / "docker-entrypoint.sh").st_mode & stat.S_IXUSR
    assert os.listdir(tmp_path / "repo" / ".staging") == []


def test_file_url_and_relative_uris_resolve(tmp_path):
    backend = LocalStorage(str(tmp_path / "repo"))
    uri = backend.put_dir(str(bundle(tmp_path)), "Svc", "1")
    assert backend.exists(f"file://{uri}") and backend.exists("Svc/1")


@pytest.mark.parametrize("uri", ["/etc", "../outside", "Svc/../../outside", ".staging/x", ""])
def test_refuses_paths_outside_base(tmp_path, uri):
    backend = LocalStorage(str(tmp_path / "repo"))
    with pytest.raises(RepositoryError):
        backend.exists(uri)
    with pytest.raises(RepositoryError):
        backend.delete(uri)


def test_put_dir_refuses_names_escaping_base(tmp_path):
    backend = LocalStorage(str(tmp_path / "repo"))
    with pytest.raises(RepositoryError):
        backend.put_dir(str(bundle(tmp_path)), "..", "x")


def test_delete_last_version_removes_name_folder(tmp_path):
    backend = LocalStorage(str(tmp_path / "repo"))
    a = backend.put_dir(str(bundle(tmp_path)), "Svc", "1")
    b = backend.put_dir(str(bundle(tmp_path)), "Svc", "2")
    backend.delete(a)
    assert os.path.isdir(tmp_path / "repo" / "Svc")
    backend.delete(b)
    assert not os.path.exists(tmp_path / "repo" / "Svc")


def test_check_writable_creates_base(tmp_path):
    backend = LocalStorage(str(tmp_path / "a" / "b"))
    backend.check_writable()
    assert os.path.isdir(tmp_path / "a" / "b")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_check_writable_reports_read_only_base(tmp_path):
    base = tmp_path / "ro"
    base.mkdir()
    base.chmod(0o555)
    try:
        with pytest.raises(RepositoryError, match="not writable"):
            LocalStorage(str(base)).check_writable()
    finally:
        base.chmod(0o755)


def test_check_writable_reports_base_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(RepositoryError, match="cannot create"):
        LocalStorage(str(tmp_path / "file")).check_writable()


def test_failed_copy_leaves_nothing(tmp_path, monkeypatch):
    import bentoml_storage_local as mod

    def boom(fs, src, dst):
        os.makedirs(dst)
        with open(os.path.join(dst, "half"), "w") as half:
            half.write("x")
        raise OSError("disk full")

    monkeypatch.setattr(mod, "_copy_tree", boom)
    backend = LocalStorage(str(tmp_path / "repo"))
    with pytest.raises(RepositoryError, match="disk full"):
        backend.put_dir(str(bundle(tmp_path)), "Svc", "1")
    assert not backend.exists("Svc/1")
    assert os.listdir(tmp_path / "repo" / ".staging") == []


def test_stale_staging_copies_are_removed_by_the_next_save(tmp_path):
    """A staging copy left by a killed save is removed once it is old; a fresh one is kept."""
    from bentoml_storage_local import LocalStorage

    backend = LocalStorage(str(tmp_path / "repo"))
    stale = tmp_path / "repo" / ".staging" / "killed"
    fresh = tmp_path / "repo" / ".staging" / "in-progress"
    for d in (stale, fresh):
        d.mkdir(parents=True)
        (d / "file").write_text("x")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    src = tmp_path / "bundle"
    src.mkdir()
    (src / "bentoml.yml").write_text("x")
    backend.put_dir(str(src), "Svc", "1")
    assert not stale.exists()
    assert fresh.exists()
