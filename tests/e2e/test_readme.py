"""The README's commands, run as written in a copy of the clone, as a newcomer runs them.

The blocks marked ``<!-- readme-check: before-quickstart -->`` run first (the
plugin install with plain pip), then ``bash scripts/quickstart.sh`` (the main
job, stopping after its request), then the blocks marked ``after-quickstart``.
Only the places things go change: ``$BENTOML_HOME``, the port and
``/tmp/iris-venv`` point into this test's temporary directory.
"""
from __future__ import annotations

import os
import pathlib
import re
import shutil
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

ROOT = pathlib.Path(__file__).resolve().parents[2]
SETOSA = "[[5.1, 3.5, 1.4, 0.2]]"


def readme_blocks(marker: str):
    """The indented code blocks right after ``<!-- readme-check: MARKER -->``."""
    text = (ROOT / "README.md").read_text()
    blocks = []
    for found in re.finditer(rf"^<!-- readme-check: {re.escape(marker)} -->\n((?:    .*\n|\n)+)", text, re.M):
        lines = [line[4:] for line in found.group(1).rstrip("\n").splitlines()]
        blocks.append("\n".join(lines))
    return blocks


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """The files a fresh clone of this tree has (tracked, and untracked ones not ignored)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    target = tmp_path_factory.mktemp("readme") / "clone"
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / rel)
    yield target
    shutil.rmtree(target, ignore_errors=True)  # a venv or two: don't leave them in the basetemp


def _bash(script: str, cwd: pathlib.Path, env: dict, timeout: float = 900) -> subprocess.CompletedProcess:
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"{script}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    return proc


def test_the_readme_commands_work_as_written(clone, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH", "BENTOML_"))}
    # python3 is whatever a user's PATH gives, not this test's environment
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(sys.prefix))
    env.update(BENTOML_HOME=str(tmp_path / "home"), PORT=str(_free_port()), QUICKSTART_NO_WAIT="1")
    if shutil.which("python3", path=env["PATH"]) is None:
        pytest.skip("no python3 on PATH outside this environment")
    venv = str(tmp_path / "iris-venv")

    (before,) = readme_blocks("before-quickstart")
    _bash(before, clone, env)
    assert (clone / ".venv" / "bin" / "bentoml").exists()

    quickstart = _bash("bash scripts/quickstart.sh", clone, env)
    assert quickstart.stdout.splitlines()[-2:] == ["[0]", "[0]"], quickstart.stdout  # `bentoml run`, curl
    assert "Saved IrisClassifier:" in quickstart.stderr

    # one terminal session: the PATH the first block exports holds for the second
    after, package, batch = readme_blocks("after-quickstart")
    out = _bash(f"{after}\necho ==package==\n{package.replace('/tmp/iris-venv', venv)}", clone, env).stdout
    out, installed = out.split("==package==\n")
    location = next(line for line in out.splitlines() if line.startswith(env["BENTOML_HOME"]))
    assert os.path.isfile(os.path.join(location, "bentoml.yml"))
    assert "[0, 1, 2]" in out, out  # the CSV's three rows, the first one kept
    assert '"openapi": "3.' in out
    assert installed.splitlines()[-2:] == ["[0]", "[0]"], installed
    # the package carried its own kernel: the clone's editable install is untouched
    assert "site-packages" in subprocess.run(
        [os.path.join(venv, "bin", "python"), "-c", "import bentoml; print(bentoml.__file__)"],
        capture_output=True, text=True, check=True).stdout
    editable = subprocess.run([str(clone / ".venv" / "bin" / "python"), "-c", "import bentoml; print(bentoml.__file__)"],
                              capture_output=True, text=True, check=True).stdout
    assert editable.strip() == str(clone / "core" / "bentoml" / "__init__.py")

    # "Batch jobs": one result row per CSV row, into the file and on stdout
    printed = _bash(f'export PATH="$PWD/.venv/bin:$PATH"\n{batch}', clone, env).stdout
    assert printed.splitlines() == ["result", "0", "1", "2"], printed
    assert (clone / "iris-results.csv").read_text().splitlines() == ["result", "0", "1", "2"]
