"""Fresh virtual environments with a package installed, for tests of ``pip install $saved_path``.

uv (next to this interpreter, or on PATH) creates the venv and installs, for
speed; without uv, ``python -m venv`` and pip do the same.  The venv never sees
this interpreter's site packages, as a user's fresh environment does not.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
from typing import Optional, Sequence


def uv_command() -> Optional[str]:
    """uv beside this interpreter, else on PATH, else None."""
    beside = pathlib.Path(sys.executable).parent / "uv"
    return str(beside) if beside.exists() else shutil.which("uv")


def run_checked(cmd: Sequence[object], **kwargs) -> subprocess.CompletedProcess:
    """Run ``cmd`` (paths allowed), asserting it exits 0; the failure shows its output."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kwargs)
    assert proc.returncode == 0, f"{cmd}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    return proc


def venv_with(package: os.PathLike, venv: os.PathLike, quiet: bool = True) -> pathlib.Path:
    """A new venv at ``venv`` with ``pip install package`` done; returns the venv."""
    venv = pathlib.Path(venv)
    uv = uv_command()
    flags = ["--quiet"] if quiet else []
    if uv:
        run_checked([uv, "venv", "--quiet", "--python", sys.executable, venv])
        run_checked([uv, "pip", "install", *flags, "--python", venv / "bin" / "python", package])
    else:
        run_checked([sys.executable, "-m", "venv", venv])
        run_checked([venv / "bin" / "python", "-m", "pip", "install", "--quiet", package])
    return venv
