import os
import time
import stat

import pytest

from bentoml.exceptions import RepositoryError
from bentoml.repository.storage import get_storage
from bentoml.testing import StorageBackendContract
from bentoml.testing.contracts.storage import small_bundle as bundle
from bentoml_storage_local import LocalStorage


class TestLocalStorage(StorageBackendContract):
    scheme = "file"
    distribution = "bentoml-storage-local"
    framework_module = "fsspec"

    def make_backend(self, tmp_path):
        return LocalStorage(str(tmp_path / "repository"))


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


@pytest.mark.parametrize("uri", ["/etc", "../outside", "Svc/../../outside", ".staging/x", "", "Svc",
                                 "Svc/1/deeper", "Svc/1/..", "Svc/../Svc", ".staging", "Svc/.hidden"])
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

    def boom(src, dst, bundle, verb):
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


def test_a_version_folder_that_is_a_link_is_never_followed(tmp_path):
    """A name or version folder replaced by a link to another bundle: delete and reads refuse it,
    and the other bundle keeps its files."""
    backend = LocalStorage(str(tmp_path / "repo"))
    other = backend.put_dir(str(bundle(tmp_path)), "Other", "1")
    os.makedirs(tmp_path / "repo" / "Svc")
    os.symlink(other, tmp_path / "repo" / "Svc" / "2")
    os.symlink(tmp_path / "repo" / "Other", tmp_path / "repo" / "Linked")
    for uri in ("Svc/2", "Linked/1"):
        with pytest.raises(RepositoryError, match="is a link"):
            backend.delete(uri)
        with pytest.raises(RepositoryError, match="is a link"):
            backend.get_dir(uri, str(tmp_path / "out"))
    assert sorted(os.listdir(other)) == ["bentoml.yml", "docker-entrypoint.sh", "empty"]


def test_a_fifo_in_a_bundle_is_refused_not_waited_on(tmp_path):
    src = bundle(tmp_path)
    os.mkfifo(src / "pipe")
    backend = LocalStorage(str(tmp_path / "repo"))
    with pytest.raises(RepositoryError, match="Svc:1: pipe is not a file, folder or link"):
        backend.put_dir(str(src), "Svc", "1")
    assert not backend.exists("Svc/1")


def test_get_dir_refuses_a_target_inside_the_storage(tmp_path):
    backend = LocalStorage(str(tmp_path / "repo"))
    uri = backend.put_dir(str(bundle(tmp_path)), "Svc", "1")
    for target in (tmp_path / "repo" / "copy", tmp_path / "repo" / "Svc" / "2"):
        with pytest.raises(RepositoryError, match="inside the repository storage"):
            backend.get_dir(uri, str(target))
        assert not target.exists()


def test_put_dir_refuses_a_folder_holding_the_storage(tmp_path):
    backend = LocalStorage(str(tmp_path / "repo"))
    (tmp_path / "bentoml.yml").write_text("x")
    with pytest.raises(RepositoryError, match="holds the repository storage"):
        backend.put_dir(str(tmp_path), "Svc", "1")
    assert not backend.exists("Svc/1")


_COPY = """
import sys
from bentoml_storage_local import LocalStorage
backend = LocalStorage(sys.argv[1])
uri = backend.put_dir(sys.argv[2], "Big", "1")
backend.get_dir(uri, sys.argv[3])
print("copied", flush=True)
"""


def _big_bundle(tmp_path):
    src = bundle(tmp_path)
    with open(src / "model.bin", "wb") as f:
        f.write(os.urandom(1 << 20) * 60)  # 63 MB: above the bar's 50 MB
    return src


def test_large_copies_show_a_progress_bar_on_a_terminal(tmp_path):
    """put_dir and get_dir of a large bundle draw a bar on stderr when it is a pty."""
    import pty
    import subprocess
    import sys

    src = _big_bundle(tmp_path)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", _COPY, str(tmp_path / "repo"), str(src), str(tmp_path / "out")],
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    assert proc.wait(timeout=120) == 0 and proc.stdout.read() == b"copied\n"
    text = drawn.decode()
    assert "Storing Big:1" in text and "Copying Big:1" in text and text.count("100%") == 2
    assert (tmp_path / "out" / "model.bin").read_bytes() == (src / "model.bin").read_bytes()


def test_large_copies_write_nothing_to_a_pipe(tmp_path):
    import subprocess
    import sys

    src = _big_bundle(tmp_path)
    out = subprocess.run([sys.executable, "-c", _COPY, str(tmp_path / "repo"), str(src), str(tmp_path / "out")],
                         capture_output=True, timeout=120)
    assert out.returncode == 0 and out.stdout == b"copied\n"
    assert out.stderr == b""
