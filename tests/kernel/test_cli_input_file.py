"""``bentoml run BUNDLE API --input-file [NAME=]PATH``: raw bytes for one file, multipart for several or named."""
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from bentoml.adapters import cli_files_request
from bentoml.adapters.cli_input import looks_like_path
from bentoml.cli.run_commands import parse_input_file
from bentoml.exceptions import InvalidArgument
from bentoml.multipart import parse_multipart
from bentoml.testing.server import save_service_source

#: An adapter that reports what reached it, so the tests see exactly what the CLI sent.
SERVICE_SOURCE = textwrap.dedent('''\
    """Reports uploads."""
    import hashlib
    import os

    import bentoml
    from bentoml.adapters import InferenceTask, InputAdapter
    from bentoml.multipart import is_multipart, parse_multipart


    def _sha(data):
        return hashlib.sha256(data).hexdigest()


    class UploadEcho(InputAdapter):
        """What arrived: the body's type and file name, or each multipart part."""

        def _parse_http(self, request):
            if is_multipart(request):
                return InferenceTask(data={"parts": [
                    {"name": p.name, "filename": p.filename, "content_type": p.content_type, "sha256": _sha(p.data)}
                    for p in parse_multipart(request).parts]})
            name = os.path.basename(request.filename) if request.filename else None
            return InferenceTask(data={"content_type": request.content_type, "filename": name,
                                       "sha256": _sha(request.body)})

        def _batch(self, tasks):
            return [t.data for t in tasks]

        def request_schema(self):
            return {"application/octet-stream": {"schema": {"type": "string", "format": "binary"},
                                                 "example": b"bytes"}}


    class Uploads(bentoml.BentoService):
        """Echoes uploads."""

        @bentoml.api(input=UploadEcho())
        def echo(self, items):
            """What arrived."""
            return items
    ''')


def sha(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cli_files")
    made = {"photo.png": b"\x89PNG fake", "notes.txt": "über\n".encode(), "odd=name.bin": bytes(range(256))}
    for name, data in made.items():
        (directory / name).write_bytes(data)
    return directory, made


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "bentoml", "run", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def runs(files, tmp_path_factory):
    """Every CLI call of this module, two at a time (each starts an interpreter and loads the bundle)."""
    bundle = str(save_service_source(SERVICE_SOURCE, "uploads_cli_service", "Uploads",
                                     tmp_path_factory.mktemp("cli_bundle") / "Uploads"))
    d, _ = files
    calls = {
        "single": (bundle, "echo", "--input-file", str(d / "photo.png")),
        "equals_in_path": (bundle, "echo", f"--input-file={d / 'odd=name.bin'}"),
        "several": (bundle, "echo", "--input-file", str(d / "photo.png"), "--input-file", f"notes={d / 'notes.txt'}",
                    "--input-file", str(d / "odd=name.bin")),
        "input_still_works": (bundle, "echo", "--input", str(d / "notes.txt")),
        "missing": (bundle, "echo", "--input-file", f"imageX={d / 'nope.png'}"),
        "missing_bundle_not_loaded": (str(d / "no-such-bundle"), "echo", "--input-file", str(d / "nope.png")),
        "input_missing": (bundle, "echo", "--input", "./iris_test_data.csv"),
        "input_missing_bundle_not_loaded": (str(d / "no-such-bundle"), "echo", "--input", str(d / "nope.csv")),
        "input_directory": (bundle, "echo", "--input", str(d) + "/"),
        "both": (bundle, "echo", "--input", "1", "--input-file", str(d / "photo.png")),
        "neither": (bundle, "echo"),
    }
    with ThreadPoolExecutor(2) as pool:
        return dict(zip(calls, pool.map(lambda args: run_cli(*args), calls.values())))


def answer(proc):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_one_file_is_sent_raw_with_its_type_and_name(runs, files):
    _, made = files
    assert answer(runs["single"]) == {"content_type": "image/png", "filename": "photo.png",
                                      "sha256": sha(made["photo.png"])}


def test_an_existing_path_with_equals_is_a_path(runs, files):
    _, made = files
    assert answer(runs["equals_in_path"]) == {"content_type": "application/octet-stream",
                                              "filename": "odd=name.bin", "sha256": sha(made["odd=name.bin"])}


def test_several_files_are_multipart_fields(runs, files):
    _, made = files
    assert answer(runs["several"]) == {"parts": [
        {"name": "file", "filename": "photo.png", "content_type": "image/png", "sha256": sha(made["photo.png"])},
        {"name": "notes", "filename": "notes.txt", "content_type": "text/plain", "sha256": sha(made["notes.txt"])},
        {"name": "file2", "filename": "odd=name.bin", "content_type": "application/octet-stream",
         "sha256": sha(made["odd=name.bin"])},
    ]}


def test_input_keeps_working(runs, files):
    _, made = files
    assert answer(runs["input_still_works"])["sha256"] == sha(made["notes.txt"])


@pytest.mark.parametrize("name", ["missing", "missing_bundle_not_loaded"])
def test_a_missing_file_is_one_line_on_stderr(runs, name):
    proc = runs[name]
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("Error: --input-file") and "no such file" in line and "nope.png" in line


@pytest.mark.parametrize("name, path", [("input_missing", "./iris_test_data.csv"),
                                        ("input_missing_bundle_not_loaded", "nope.csv")])
def test_input_naming_a_missing_file_says_file_not_found(runs, name, path):
    proc = runs[name]
    assert proc.returncode == 1 and proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("Error: file not found: ") and line.endswith(path), line


def test_input_naming_a_directory_says_so(runs):
    proc = runs["input_directory"]
    assert proc.returncode == 1 and "is a directory, not a file" in proc.stderr


@pytest.mark.parametrize("text, is_path", [
    ("./iris.csv", True), ("../data/x", True), ("/tmp/nope", True), ("~/x.json", True),
    ("iris_test_data.csv", True), ("data/cat.png", True),
    ("[[5.1, 3.5, 1.4, 0.2]]", False), ('{"a": 1}', False), ('"a string"', False), ("42", False),
    ("hello world.txt is my file", False), ("a,b\n1,2", False), ("[[1, 2", False),
])
def test_looks_like_path(text, is_path):
    assert looks_like_path(text) is is_path


@pytest.mark.parametrize("name", ["both", "neither"])
def test_exactly_one_of_input_and_input_file(runs, name):
    proc = runs[name]
    assert proc.returncode == 2 and "give exactly one of --input or --input-file" in proc.stderr


# -- in process -------------------------------------------------------------------------------------
def test_parse_input_file(files):
    d, _ = files
    assert parse_input_file(str(d / "photo.png")) == (None, str(d / "photo.png"))
    assert parse_input_file(str(d / "odd=name.bin")) == (None, str(d / "odd=name.bin"))
    assert parse_input_file(f"imageX={d / 'photo.png'}") == ("imageX", str(d / "photo.png"))
    with pytest.raises(InvalidArgument, match="no such file"):
        parse_input_file(f"imageX={d / 'nope.png'}")
    with pytest.raises(InvalidArgument, match="no such file"):
        parse_input_file(str(d / "a=b" / "nope.png"))  # a '/' before '=' makes it a path, not a name


def test_cli_files_request_builds_the_same_bodies(files):
    d, made = files
    single = cli_files_request([(None, str(d / "notes.txt"))])
    assert (single.body, single.content_type, single.filename, single.source) == (
        made["notes.txt"], "text/plain", str(d / "notes.txt"), "cli")
    named = cli_files_request([("doc", str(d / "notes.txt"))])
    (part,) = parse_multipart(named).parts
    assert (part.name, part.filename, part.data) == ("doc", "notes.txt", made["notes.txt"])


def test_cli_files_request_errors(tmp_path):
    with pytest.raises(InvalidArgument, match="no input file"):
        cli_files_request([])
    with pytest.raises(InvalidArgument, match="cannot read input file"):
        cli_files_request([("dir", str(tmp_path))])


def test_help_stays_light():
    code = "import sys, bentoml.cli; print(any(m in sys.modules for m in ('werkzeug', 'bentoml.multipart')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONDONTWRITEBYTECODE=""))
    assert out.stdout.strip() == "False", out.stderr
