"""File manifests, network-path checks and tar streams (``bentoml.bundle.manifest``).

The tar tests build real malicious archives with ``tarfile`` (the way an attacker
would) and check that nothing lands outside the target, and nothing at it.
"""
from __future__ import annotations

import hashlib
import io
import os
import pathlib
import shutil
import stat
import subprocess
import tarfile
import tracemalloc

import pytest

from bentoml.bundle.manifest import (file_manifest, manifest_checksum, safe_extract_tar, safe_relpath,
                                     write_tar)
from bentoml.exceptions import BundleError, InvalidArgument, UnsafePath


def _tree(root: pathlib.Path) -> dict:
    files = {
        "bentoml.yml": b"name: Svc\n",
        "Svc/src/svc.py": b"print('hi')\n",
        "Svc/artifacts/model/model.pkl": os.urandom(3000),
        ".hidden": b"counts too",
        "docker-entrypoint.sh": b"#!/bin/sh\n",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    os.chmod(root / "docker-entrypoint.sh", 0o755)
    return files


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_tree(root: pathlib.Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- file_manifest ------------------------------------------------------------------------------

def test_manifest_lists_every_file_with_its_sha256(tmp_path):
    files = _tree(tmp_path)
    (tmp_path / "empty_folder").mkdir()
    assert file_manifest(str(tmp_path)) == {rel: _sha(data) for rel, data in files.items()}


def test_manifest_streams_a_large_file_in_flat_memory(tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(64 << 20)  # sparse: 64 MiB of zeros, read for real
    tracemalloc.start()
    try:
        manifest = file_manifest(str(tmp_path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert manifest == {"big.bin": hashlib.sha256(bytes(64 << 20)).hexdigest()}
    assert peak < 8 << 20, f"peak {peak} bytes for a 64 MiB file"


def test_checksum_depends_on_paths_and_contents_not_order():
    a = {"x": _sha(b"1"), "y/z": _sha(b"2")}
    assert manifest_checksum(a) == manifest_checksum(dict(reversed(list(a.items()))))
    assert manifest_checksum(a) != manifest_checksum({"x": _sha(b"1"), "y/w": _sha(b"2")})
    assert manifest_checksum(a) != manifest_checksum({"x": _sha(b"2"), "y/z": _sha(b"1")})
    assert manifest_checksum({}) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("manifest, says", [
    ({"../x": "0" * 64}, "'..' component"),
    ({"x": "not-a-sha"}, "not a sha256"),
])
def test_checksum_refuses_a_bad_manifest(manifest, says):
    with pytest.raises(UnsafePath, match=says):
        manifest_checksum(manifest)


def test_links_inside_the_bundle_count_as_what_they_point_to(tmp_path):
    files = _tree(tmp_path)
    os.symlink("artifacts/model/model.pkl", tmp_path / "Svc" / "model_link.pkl")
    os.symlink(str(tmp_path / "Svc" / "src"), tmp_path / "src_link")
    manifest = file_manifest(str(tmp_path))
    assert manifest["Svc/model_link.pkl"] == _sha(files["Svc/artifacts/model/model.pkl"])
    assert manifest["src_link/svc.py"] == _sha(files["Svc/src/svc.py"])


@pytest.mark.parametrize("make, says", [
    (lambda root: os.symlink(str(root.parent / "outside.txt"), root / "leak"), "link leak points outside"),
    (lambda root: os.symlink("../../outside.txt", root / "Svc" / "leak"), "link Svc/leak points outside"),
    (lambda root: os.symlink(str(root / "missing"), root / "dangling"), "link dangling points to .*not exist"),
    (lambda root: os.symlink("..", root / "Svc" / "loop"), "link Svc/loop .* a loop"),
    (lambda root: os.mkfifo(root / "Svc" / "fifo"), "Svc/fifo is not a file, folder or link"),
    (lambda root: (root / "back\\slash").write_text("x"), "back\\\\\\\\slash.*backslash"),
])
def test_manifest_refuses_entries_a_receiver_could_not_trust(tmp_path, make, says):
    root = tmp_path / "bundle"
    root.mkdir()
    _tree(root)
    (tmp_path / "outside.txt").write_text("not the bundle's")
    make(root)
    with pytest.raises(BundleError, match=says):
        file_manifest(str(root))
    with pytest.raises(BundleError, match=says):
        write_tar(str(root), io.BytesIO())


def test_manifest_of_a_missing_folder_is_an_error(tmp_path):
    with pytest.raises(BundleError, match="is not a folder"):
        file_manifest(str(tmp_path / "nope"))


# -- safe_relpath -------------------------------------------------------------------------------

@pytest.mark.parametrize("path, normalized", [
    ("a", "a"), ("Svc/artifacts/model.pkl", "Svc/artifacts/model.pkl"), ("a//b/./c/", "a/b/c"),
    ("./a", "a"), (".hidden", ".hidden"), ("a..b/c...", "a..b/c..."), ("ünï/cödé", "ünï/cödé"),
])
def test_safe_relpath_normalizes(path, normalized):
    assert safe_relpath(path) == normalized


@pytest.mark.parametrize("path, says", [
    ("", "empty"), (".", "names no file"), ("./", "names no file"), ("//", "absolute"),
    ("/etc/passwd", "absolute"), ("C:evil", "absolute"), ("c:/evil", "absolute"),
    ("\\\\server\\share\\x", "backslash"), ("a\\..\\..\\evil", "backslash"),
    ("..", "'..' component"), ("a/../../evil", "'..' component"), ("a/..", "'..' component"),
    ("a\0b", "NUL or control"), ("a\nb", "NUL or control"), ("a\x7fb", "NUL or control"),
    ("bad\udcff", "not valid UTF-8"), (None, "must be a string"), (b"a", "must be a string"),
])
def test_safe_relpath_refuses(path, says):
    with pytest.raises(UnsafePath, match=says) as err:
        safe_relpath(path)
    assert isinstance(err.value, InvalidArgument)
    assert "\n" not in str(err.value) and repr(path) in str(err.value)


# -- tar round trip -----------------------------------------------------------------------------

@pytest.mark.parametrize("gzip", [False, True])
def test_tar_round_trip_keeps_files_modes_and_manifest(tmp_path, gzip):
    src = tmp_path / "src"
    src.mkdir()
    files = _tree(src)
    (src / "empty").mkdir()
    os.symlink("Svc/artifacts/model/model.pkl", src / "model_link.pkl")
    buf = io.BytesIO()
    sent = write_tar(str(src), buf, gzip=gzip)
    assert sent == file_manifest(str(src))
    buf.seek(0)
    safe_extract_tar(buf, str(tmp_path / "out"))
    out = tmp_path / "out"
    assert _read_tree(out) == {**files, "model_link.pkl": files["Svc/artifacts/model/model.pkl"]}
    assert not os.path.islink(out / "model_link.pkl")  # the receiver never gets a link
    assert (out / "empty").is_dir()
    assert os.stat(out / "docker-entrypoint.sh").st_mode & stat.S_IXUSR
    assert file_manifest(str(out)) == sent
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left


def test_write_tar_streams_into_a_write_only_pipe(tmp_path):
    """write_tar needs only ``write`` (a socket or pipe): a 64 MiB file goes through flat memory."""
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "big.bin", "wb") as f:
        f.truncate(64 << 20)

    class Sink:
        written = 0

        def write(self, data):
            self.written += len(data)
            return len(data)

    sink = Sink()
    tracemalloc.start()
    try:
        write_tar(str(src), sink)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.written > 64 << 20
    assert peak < 8 << 20


def test_extracts_a_tar_made_by_the_tar_command(tmp_path):
    if shutil.which("tar") is None:
        pytest.skip("no tar command")
    src = tmp_path / "src"
    src.mkdir()
    files = _tree(src)
    subprocess.run(["tar", "-czf", str(tmp_path / "b.tgz"), "-C", str(src), "."], check=True)
    with open(tmp_path / "b.tgz", "rb") as f:
        safe_extract_tar(f, str(tmp_path / "out"))
    assert _read_tree(tmp_path / "out") == files


# -- malicious tars -----------------------------------------------------------------------------

def _member(name: str, data: bytes = b"pwned", **attrs) -> tuple:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    return info, (io.BytesIO(data) if info.isfile() else None)


def _evil_tar(*members: tuple) -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(*_member("innocent.txt", b"fine"))
        for info, data in members:
            tar.addfile(info, data)
    buf.seek(0)
    return buf


EVIL = {
    "dotdot": ([_member("../evil.txt")], "'..' component"),
    "deep dotdot": ([_member("a/../../evil.txt")], "'..' component"),
    "absolute": ([_member("{outside}/evil.txt")], "absolute"),
    "backslash": ([_member("..\\evil.txt")], "backslash"),
    "symlink out": ([_member("link", type=tarfile.SYMTYPE, linkname="{outside}")], "links are not accepted"),
    "symlink then write through it": ([_member("link", type=tarfile.SYMTYPE, linkname=".."),
                                       _member("link/evil.txt")], "links are not accepted"),
    "hardlink": ([_member("hard", type=tarfile.LNKTYPE, linkname="/etc/passwd")], "links are not accepted"),
    "char device": ([_member("dev", type=tarfile.CHRTYPE, devmajor=1, devminor=3)], "only files and folders"),
    "fifo": ([_member("fifo", type=tarfile.FIFOTYPE)], "only files and folders"),
    "duplicate": ([_member("innocent.txt", b"replaced")], "holds it twice"),
    "NUL": ([_member("a\x01b")], "control character"),
    "file then folder": ([_member("innocent.txt/evil.txt")], "a file and a folder share"),
}


@pytest.mark.parametrize("case", sorted(EVIL))
def test_extraction_refuses_a_malicious_tar(tmp_path, case):
    outside = tmp_path / "outside"
    outside.mkdir()
    members, says = EVIL[case]
    fixed = []
    for info, data in members:
        info = info.replace(name=info.name.format(outside=outside), linkname=info.linkname.format(outside=outside))
        fixed.append((info, data))
    target = tmp_path / "work" / "target"
    with pytest.raises(UnsafePath, match=says) as err:
        safe_extract_tar(_evil_tar(*fixed), str(target))
    assert "\n" not in str(err.value)
    assert not target.exists()
    assert list(outside.iterdir()) == []
    assert list((tmp_path / "work").iterdir()) == []  # the staging folder is gone too
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "work" / "evil.txt").exists()


def test_setuid_bits_are_dropped(tmp_path):
    info, data = _member("tool", b"#!/bin/sh\n", mode=0o4777)
    safe_extract_tar(_evil_tar((info, data)), str(tmp_path / "out"))
    mode = stat.S_IMODE(os.stat(tmp_path / "out" / "tool").st_mode)
    assert not mode & (stat.S_ISUID | stat.S_IWOTH) and mode & stat.S_IXUSR


def test_a_truncated_archive_leaves_nothing(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _tree(src)
    buf = io.BytesIO()
    write_tar(str(src), buf, gzip=True)
    cut = io.BytesIO(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(BundleError, match="not a readable tar archive"):
        safe_extract_tar(cut, str(tmp_path / "work" / "out"))
    assert list((tmp_path / "work").iterdir()) == []


def test_a_corrupt_gzip_stream_leaves_nothing(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "text.txt").write_text("compressible " * 10000)
    buf = io.BytesIO()
    write_tar(str(src), buf, gzip=True)
    data = bytearray(buf.getvalue())
    data[len(data) // 2: len(data) // 2 + 64] = b"\xff" * 64
    with pytest.raises(BundleError, match="not a readable tar archive"):
        safe_extract_tar(io.BytesIO(bytes(data)), str(tmp_path / "work" / "out"))
    assert list((tmp_path / "work").iterdir()) == []


def test_not_a_tar_at_all(tmp_path):
    with pytest.raises(BundleError, match="not a readable tar archive"):
        safe_extract_tar(io.BytesIO(b"<html>502 Bad Gateway</html>" * 40), str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_extraction_never_overwrites_a_non_empty_target(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine").write_text("keep")
    with pytest.raises(BundleError, match="not an empty folder"):
        safe_extract_tar(_evil_tar(), str(tmp_path / "out"))
    assert _read_tree(tmp_path / "out") == {"mine": b"keep"}
    (tmp_path / "empty").mkdir()
    safe_extract_tar(_evil_tar(), str(tmp_path / "empty"))
    assert _read_tree(tmp_path / "empty") == {"innocent.txt": b"fine"}
