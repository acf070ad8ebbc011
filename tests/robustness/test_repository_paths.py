"""The repository under hostile paths: targets inside bundles, links, edited bentoml.yml and rows."""
import os
import pathlib
import pty
import sqlite3
import subprocess
import sys

import pytest
import yaml

import bentoml
from bentoml.exceptions import BundleError, InvalidArgument

PREDICT = ("predict", "--input", "[[5.1, 3.5, 1.4, 0.2]]")


def _tree(path):
    root = pathlib.Path(path)
    return sorted((str(p.relative_to(root)), p.is_symlink()) for p in root.rglob("*"))


def _saved(service, count=1):
    paths = [service.save() for _ in range(count)]
    return paths[-1] if count == 1 else paths


def _tag(path):
    return f"IrisClassifier:{os.path.basename(path)}"


# -- retrieve ----------------------------------------------------------------------------------------


def test_retrieve_into_the_stored_bundle_or_the_repository_is_refused(bentoml_home, iris_service, cli,
                                                                       clean_failure):
    """A target inside the stored bundle (a copy into its own source), or anywhere in the
    repository's storage, is refused before anything is copied."""
    stored = _saved(iris_service)
    before = _tree(stored)
    repository = bentoml_home / "repository"
    for target in (os.path.join(stored, "copy"), os.path.join(stored, "IrisClassifier", "src", "copy"),
                   str(repository / "elsewhere"), str(repository / "IrisClassifier" / "other")):
        clean_failure(cli("retrieve", _tag(stored), "--target-dir", target), "cannot retrieve", "inside")
    assert _tree(stored) == before
    assert sorted(os.listdir(repository)) == [".staging", "IrisClassifier"]


@pytest.mark.parametrize("link", ["absolute", "relative"])
def test_retrieve_refuses_a_link_leaving_the_bundle(bentoml_home, iris_service, cli, clean_failure,
                                                    tmp_path, link):
    stored = _saved(iris_service)
    secret = tmp_path / "secret.txt"
    secret.write_text("not the bundle's")
    target = str(secret) if link == "absolute" else os.path.relpath(secret, os.path.join(stored, "IrisClassifier"))
    os.symlink(target, os.path.join(stored, "IrisClassifier", "leak"))
    out = cli("retrieve", _tag(stored), "--target-dir", str(tmp_path / "out"))
    clean_failure(out, f"{_tag(stored)}: link IrisClassifier/leak points outside the bundle")
    assert len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_retrieve_refuses_a_dangling_link(bentoml_home, iris_service, cli, clean_failure, tmp_path):
    stored = _saved(iris_service)
    os.symlink(str(tmp_path / "gone"), os.path.join(stored, "dangling"))
    out = cli("retrieve", _tag(stored), "--target-dir", str(tmp_path / "out"))
    clean_failure(out, "link dangling points to", "which does not exist")
    assert "unexpected" not in out.stderr
    assert not (tmp_path / "out").exists()


def test_links_inside_the_bundle_stay_links(bentoml_home, iris_service, cli, tmp_path):
    """A link to a file of the same bundle is copied as a relative link that still reads the same."""
    stored = _saved(iris_service)
    os.symlink(os.path.join(stored, "bentoml.yml"), os.path.join(stored, "IrisClassifier", "top.yml"))
    out = cli("retrieve", _tag(stored), "--target-dir", str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    copied = tmp_path / "out" / "IrisClassifier" / "top.yml"
    assert copied.is_symlink() and os.readlink(copied) == "../bentoml.yml"
    assert copied.read_text() == (tmp_path / "out" / "bentoml.yml").read_text()


def test_retrieve_of_a_large_bundle_shows_progress_on_a_terminal_only(bentoml_home, iris_service, cli,
                                                                      iris_src, tmp_path):
    stored = _saved(iris_service)
    with open(os.path.join(stored, "IrisClassifier", "artifacts", "model", "weights.bin"), "wb") as f:
        f.write(os.urandom(1 << 20) * 60)  # 63 MB
    piped = cli("retrieve", _tag(stored), "--target-dir", str(tmp_path / "piped"))
    assert piped.returncode == 0 and piped.stdout.strip() == str(tmp_path / "piped")
    assert "Copying" not in piped.stderr and "%" not in piped.stderr

    drawn = _on_a_terminal(iris_src, "retrieve", _tag(stored), "--target-dir", str(tmp_path / "tty"))
    assert f"Copying {_tag(stored)}" in drawn and "100%" in drawn
    assert _on_a_terminal(iris_src, "retrieve", "-q", _tag(stored), "--target-dir", str(tmp_path / "quiet")) == ""


def _on_a_terminal(iris_src, *args):
    """Run ``bentoml ARGS`` with stderr on a pseudo-terminal; what it drew there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(pathlib.Path(sys.executable).with_name("bentoml")), *args],
                            stdout=subprocess.PIPE, stderr=slave, text=True,
                            env={**os.environ, "PYTHONPATH": str(iris_src)})
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO once the command closed its end
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    assert proc.wait(timeout=120) == 0, drawn
    assert proc.stdout.read().strip() == args[-1]
    return drawn.decode()


# -- delete ------------------------------------------------------------------------------------------


def test_delete_from_inside_the_bundle_folder_removes_its_files(bentoml_home, iris_service, cli, monkeypatch):
    stored = _saved(iris_service)
    monkeypatch.chdir(stored)
    out = cli("delete", "-y", _tag(stored))
    assert out.returncode == 0, out.stderr
    assert not os.path.exists(stored)
    assert cli("list", "-o", "json").stdout.strip() == "[]"


def _edit_row(home, of_version, **values):
    with sqlite3.connect(home / "storage.db") as db:
        sets = ", ".join(f"{k} = ?" for k in values)
        db.execute(f"UPDATE bentoml_bundles SET {sets} WHERE version = ?", [*values.values(), of_version])


def test_delete_refuses_a_uri_edited_in_the_database(bentoml_home, iris_service, cli, clean_failure):
    """A row whose URI names the name's folder, or another version's, removes nothing."""
    paths = _saved(iris_service, count=5)
    versions = [os.path.basename(p) for p in paths]
    name_folder = os.path.dirname(paths[-1])
    for uri in (name_folder, paths[0], f"{paths[-1]}/.."):
        _edit_row(bentoml_home, versions[-1], uri=uri)
        clean_failure(cli("delete", "-y", f"IrisClassifier:{versions[-1]}"), "refusing", "database")
        assert all(os.path.isdir(p) for p in paths)
        assert len(bentoml.repository.get_repository().list()) == 5
    clean_failure(cli("retrieve", f"IrisClassifier:{versions[-1]}", "--target-dir", "out"), "refusing")


def test_a_version_edited_into_a_path_in_the_database_is_refused(bentoml_home, iris_service, cli,
                                                                 clean_failure, tmp_path):
    """``delete`` also clears the bundle's cache folder, named after the row: a version edited to
    ``../../../victim`` must not reach outside."""
    stored = _saved(iris_service)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep")
    assert os.path.realpath(bentoml_home / "cache" / "IrisClassifier" / "../../../victim") == str(victim)
    _edit_row(bentoml_home, os.path.basename(stored), version="../../../victim")
    clean_failure(cli("delete", "-y", "IrisClassifier:latest"), "corrupt row", "invalid version")
    clean_failure(cli("list"), "corrupt row")
    assert (victim / "precious.txt").read_text() == "keep"
    assert os.path.isdir(stored)


def test_an_interrupted_save_whose_row_was_edited_removes_only_its_own_folder(bentoml_home, iris_service):
    """The cleanup of a killed save removes where that save would have stored its files,
    never the folder its (edited) row names; a row with a path for a version touches nothing."""
    paths = _saved(iris_service, count=2)
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout.strip()
    with sqlite3.connect(bentoml_home / "storage.db") as db:
        owner = db.execute("SELECT owner FROM bentoml_bundles LIMIT 1").fetchone()[0]
        host = owner.rpartition(":")[0]
        for version, uri in (("20990101000000_DEAD01", paths[0]), ("../../..", str(bentoml_home))):
            db.execute("INSERT INTO bentoml_bundles (name, version, status, uri, uri_type, created_at, owner, "
                       "bundle_config) VALUES ('IrisClassifier', ?, 'pending', ?, 'LOCAL', "
                       "'2026-01-01 00:00:00', ?, '{}')", (version, uri, f"{host}:{dead_pid}"))
    repo = bentoml.repository.get_repository()
    repo.cleanup_interrupted()
    assert all(os.path.isdir(p) for p in paths) and os.path.isfile(bentoml_home / "storage.db")
    assert [r.version for r in repo.list()] == [os.path.basename(p) for p in reversed(paths)]
    assert repo.metadata.stale_pending() == []


# -- bentoml.yml edited ---------------------------------------------------------------------------------


def _edit_config(bundle, edit):
    for config in (bundle / "bentoml.yml", bundle / "IrisClassifier" / "bentoml.yml"):
        data = yaml.safe_load(config.read_text())
        edit(data)
        config.write_text(yaml.safe_dump(data))


def test_a_name_leading_out_of_the_bundle_imports_nothing_from_there(bundle_copy, tmp_path, cli, clean_failure):
    """``name: ../outside`` would make load import ``../outside/src``; it is refused instead."""
    outside = tmp_path / "outside"
    (outside / "src").mkdir(parents=True)
    (outside / "artifacts").mkdir()
    module = next((bundle_copy / "IrisClassifier" / "src").glob("*.py"))
    marker = tmp_path / "outside-code-ran"
    (outside / "src" / module.name).write_text(f"open({str(marker)!r}, 'w').close()\n" + module.read_text())
    _edit_config(bundle_copy, lambda d: d.update(name="../outside"))
    with pytest.raises(BundleError, match="invalid bundle name '../outside'"):
        bentoml.load_from_dir(str(bundle_copy))
    clean_failure(cli("run", str(bundle_copy), *PREDICT), "corrupt", "../outside")
    assert not marker.exists()


def test_an_installed_module_named_as_the_service_module_is_not_imported(bundle_copy, cli, clean_failure):
    """``module: this`` names a standard library module, not a file of the bundle: never imported."""
    _edit_config(bundle_copy, lambda d: d["service"].update(module="this"))
    out = cli("run", str(bundle_copy), *PREDICT)
    clean_failure(out, "service module this is not in its source folder")
    assert "Zen of Python" not in out.stdout + out.stderr


def test_a_path_as_the_service_module_is_a_bundle_error(bundle_copy, cli, clean_failure):
    _edit_config(bundle_copy, lambda d: d["service"].update(module="../../x"))
    with pytest.raises(BundleError, match="service.module '../../x' is not a dotted Python module name"):
        bentoml.load_from_dir(str(bundle_copy))
    out = cli("run", str(bundle_copy), *PREDICT)
    clean_failure(out, "is not a dotted Python module name")
    assert "TypeError" not in out.stderr


def test_a_service_module_that_links_out_of_the_bundle_is_refused(bundle_copy, tmp_path):
    module = next((bundle_copy / "IrisClassifier" / "src").glob("*.py"))
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text(module.read_text())
    module.unlink()
    module.symlink_to(elsewhere)
    with pytest.raises(BundleError, match="is a link to .*, outside the bundle"):
        bentoml.load_from_dir(str(bundle_copy))


# -- save_to_dir paths -----------------------------------------------------------------------------------


@pytest.mark.parametrize("where, error, reason", [
    ("nul", InvalidArgument, "contains a NUL byte"),
    ("long", BundleError, "File name too long"),
    ("proc", BundleError, "No such file or directory"),
    ("file", BundleError, "Not a directory"),
])
def test_save_to_dir_path_errors_are_one_line(iris_service, tmp_path, where, error, reason):
    (tmp_path / "a_file").write_text("x")
    path = {"nul": str(tmp_path / "a\0b"), "long": str(tmp_path / ("x" * 300)),
            "proc": "/proc/no-such-process/bundle", "file": str(tmp_path / "a_file" / "bundle")}[where]
    with pytest.raises(error) as err:
        iris_service.save_to_dir(path)
    message = str(err.value)
    assert reason in message and "\n" not in message
    assert (repr(path) if where == "nul" else path) in message
    assert sorted(os.listdir(tmp_path)) == ["a_file"]  # no staging or target left behind
