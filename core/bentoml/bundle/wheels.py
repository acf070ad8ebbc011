"""Wheels of our own distributions (the kernel and plugins), carried inside each bundle.

The package index hosts unrelated projects named ``bentoml``; a bundle must
never resolve our kernel or plugins from it.  So a bundle carries a wheel of
each of ours it uses and installs them from its own files.  The wheel is
repacked from what is installed (a regular or an editable install alike): the
import packages' files plus the distribution's own metadata and entry points.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
from typing import List

import importlib_metadata
from packaging.utils import canonicalize_name
from wheel.wheelfile import WheelFile

from bentoml.exceptions import BundleError

_WHEEL_FILE = "Wheel-Version: 1.0\nGenerator: bentoml (repacked)\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
_SKIP_DIRS = {"__pycache__", ".pytest_cache", "tests"}


def _top_level_packages(dist: importlib_metadata.Distribution) -> List[str]:
    text = dist.read_text("top_level.txt")
    if text:
        return [line.strip() for line in text.splitlines() if line.strip()]
    mapping = importlib_metadata.packages_distributions()
    return sorted(name for name, dists in mapping.items() if dist.metadata["Name"] in dists)


def _package_files(import_name: str):
    spec = importlib.util.find_spec(import_name)
    if spec is None:
        raise BundleError(f"cannot find the import package {import_name!r} to bundle")
    if spec.submodule_search_locations:
        base = list(spec.submodule_search_locations)[0]
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
            for filename in sorted(filenames):
                if filename.endswith((".pyc", ".pyo")):
                    continue
                path = os.path.join(dirpath, filename)
                yield path, os.path.join(import_name, os.path.relpath(path, base))
    elif spec.origin:
        yield spec.origin, os.path.basename(spec.origin)


def build_wheel(distribution: str, out_dir: str) -> str:
    """Write ``<name>-<version>-py3-none-any.whl`` for an installed distribution; return its filename."""
    try:
        dist = importlib_metadata.distribution(distribution)
    except importlib_metadata.PackageNotFoundError:
        raise BundleError(f"distribution {distribution!r} is not installed; cannot bundle it") from None
    name = canonicalize_name(dist.metadata["Name"]).replace("-", "_")
    version = dist.version
    filename = f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    os.makedirs(out_dir, exist_ok=True)
    wf = WheelFile(os.path.join(out_dir, filename), "w")
    try:
        for top in _top_level_packages(dist):
            for src, arcname in _package_files(top):
                wf.write(src, arcname)
        wf.writestr(f"{info}/METADATA", dist.read_text("METADATA") or "")
        wf.writestr(f"{info}/WHEEL", _WHEEL_FILE)
        for extra in ("entry_points.txt", "top_level.txt"):
            text = dist.read_text(extra)
            if text:
                wf.writestr(f"{info}/{extra}", text)
        wf.close()
    finally:
        # After a failed write (a full disk) close() fails too, writing RECORD, and would
        # leave the file open: the deleted wheel would hold its disk space until exit.
        fp, wf.fp = wf.fp, None
        if fp is not None:
            with contextlib.suppress(OSError):  # flushing fails the same way; the first error tells
                fp.close()
    return filename
