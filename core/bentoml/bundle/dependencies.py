"""What a bundle needs installed: its pinned requirements.

What the service's code imports beyond its local modules
(:mod:`bentoml.bundle.local_sources`) is mapped to installed distributions with
``importlib.metadata.packages_distributions()`` and pinned to the installed
version, so ``xgboost-cpu`` is recorded as ``xgboost-cpu``, never ``xgboost``.

Precedence, highest first: ``pip_dependencies``, ``requirements_txt_file``,
then what is inferred (module imports when ``auto_pip_dependencies``, and
always what artifacts and adapters declare).
"""
from __future__ import annotations

import importlib.util
import logging
import os
from typing import Dict, Iterable, List, Optional, Tuple

import importlib_metadata
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bentoml.exceptions import DependencyConflict, InvalidArgument

logger = logging.getLogger(__name__)


def _dist_of_module(import_name: str, candidates: List[str]) -> Optional[str]:
    """Pick the candidate distribution that owns the module's file (namespace packages)."""
    spec = importlib.util.find_spec(import_name)
    origin = spec.origin if spec else None
    if not origin:
        return None
    origin = os.path.realpath(origin)
    for dist_name in candidates:
        dist = importlib_metadata.distribution(dist_name)
        for file in dist.files or []:
            if os.path.realpath(str(dist.locate_file(file))) == origin:
                return dist_name
    return None


def distributions_for_imports(import_names: Iterable[str]) -> Dict[str, str]:
    """Map import names to installed distributions: canonical name -> ``name==version``."""
    mapping = importlib_metadata.packages_distributions()
    pins: Dict[str, str] = {}
    for name in sorted(set(import_names)):
        candidates = sorted(set(mapping.get(name.split(".")[0], [])))
        if not candidates:
            logger.debug("no installed distribution provides %r; not pinned", name)
            continue
        if len(candidates) > 1:
            chosen = _dist_of_module(name, candidates)
            candidates = [chosen] if chosen else candidates
        for dist_name in candidates:
            version = importlib_metadata.version(dist_name)
            pins[canonicalize_name(dist_name)] = f"{dist_name}=={version}"
    return pins


#: Names on PyPI that only refuse to install, and the distribution they stood for: the
#: ``sklearn`` package fails every install since 2023 (BentoML 0.x examples listed
#: ``pip_dependencies=['sklearn']``), so such a bundle would never install.
REFUSING_ALIASES = {"sklearn": "scikit-learn"}


def _parse(line: str, source: str) -> Tuple[Optional[str], str]:
    """(canonical name or None for pip option lines, the line)."""
    line = line.strip()
    if line.startswith("-"):
        return None, line
    try:
        req = Requirement(line)
    except InvalidRequirement as exc:
        raise InvalidArgument(f"{source}: {line!r} is not a valid requirement ({exc})") from None
    meant = REFUSING_ALIASES.get(canonicalize_name(req.name))
    if meant is not None:
        logger.warning("%s: %r is a PyPI name that refuses to install; requiring %r instead",
                       source, req.name, meant)
        req.name = meant
        line = str(req)
    return canonicalize_name(req.name), line


def _tier(lines: Iterable[str], source: str) -> Dict[str, str]:
    entries: Dict[str, str] = {}
    for raw in lines:
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        key, text = _parse(line, source)
        key = key or text
        if (key in entries and not text.startswith("-")
                and Requirement(entries[key]).specifier != Requirement(text).specifier):
            raise DependencyConflict(f"{source} asks for {entries[key]!r} and {text!r}; keep one")
        entries[key] = text
    return entries


def merge_requirements(inferred: Dict[str, str], requirements_txt: List[str],
                       pip_dependencies: List[str], bundled: Dict[str, str],
                       requirements_txt_name: str = "requirements_txt_file") -> List[str]:
    """Merge the three tiers; ``bundled`` (canonical name -> version) are our own wheels.

    A requirement on a bundled distribution (the kernel or a plugin) that the
    bundled version does not satisfy is a conflict naming both sides.
    """
    tiers = [("inferred", inferred), (requirements_txt_name, _tier(requirements_txt, requirements_txt_name)),
             ("pip_dependencies", _tier(pip_dependencies, "pip_dependencies"))]
    merged: Dict[str, str] = {}
    for source, entries in tiers:
        for key, text in entries.items():
            if key in bundled:
                req = Requirement(text)
                if not req.specifier.contains(bundled[key], prereleases=True):
                    raise DependencyConflict(
                        f"{source} asks for {text!r}, but the bundle carries {req.name}=={bundled[key]} "
                        "(the installed kernel/plugin that saved it); remove that requirement")
                continue
            merged[key] = text
    # Option lines (``--find-links x``) are keyed by their text; a bare name (``requests``)
    # is keyed by itself too, so tell them apart by the leading dash.
    options = [t for t in merged.values() if t.startswith("-")]
    return options + sorted((t for t in merged.values() if not t.startswith("-")), key=str.lower)


def read_requirements_file(path: str) -> List[str]:
    with open(path) as f:
        return f.read().splitlines()
