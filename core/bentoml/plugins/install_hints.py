"""The install commands that error messages and ``bentoml plugins`` give, and that work.

The kernel and its plugins are not on the package index: the index's
``bentoml`` is upstream BentoML (the same import name, so it cannot share an
environment with this kernel), and ``bentoml-xgboost`` & co. are not there at
all.  A plugin is installed from a clone of this repository
(``plugins/<kind>/<distribution>``) or from the wheels a saved bundle carries;
a framework a plugin needs (``xgboost-cpu``, ``tensorflow-cpu``) is on the index.
"""
from __future__ import annotations

import os
import re
from typing import Dict, List, Optional

import importlib_metadata

#: Folder of ``plugins/`` by distribution name prefix; the rest are artifacts.
_KIND_FOLDERS = (("bentoml-adapter-", "adapters"), ("bentoml-storage-", "storage"),
                 ("bentoml-deployer-", "deployers"))
_NOT_USER_EXTRAS = ("test", "tests", "dev", "docs")


def _kind_folder(dist: str) -> str:
    return next((folder for prefix, folder in _KIND_FOLDERS if dist.startswith(prefix)), "artifacts")


def clone_root() -> Optional[str]:
    """The clone this kernel runs from (installed editable), or None for an installed wheel."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../core/bentoml
    root = os.path.dirname(os.path.dirname(package))
    if os.path.isdir(os.path.join(root, "plugins")) and os.path.isdir(os.path.join(root, "core", "bentoml")):
        return root
    return None


def plugin_source(dist: str) -> str:
    """Where a plugin's source lives: an absolute path in this clone, else relative to a clone."""
    relative = os.path.join("plugins", _kind_folder(dist), dist)
    root = clone_root()
    if root is not None and os.path.isdir(os.path.join(root, relative)):
        return os.path.join(root, relative)
    return relative


def plugin_install_command(dist: str, extra: Optional[str] = None) -> str:
    """``pip install -e 'PATH[extra]'`` for a plugin, from a clone of the kernel's repository."""
    target = plugin_source(dist) + (f"[{extra}]" if extra else "")
    command = f"pip install -e '{target}'"
    if not os.path.isabs(target):
        command += " in a clone of the bentoml kernel repository (plugins are not on the package index)"
    return command


def extra_requirements(dist: str) -> Dict[str, List[str]]:
    """The user-facing extras of an installed distribution and the requirements each adds."""
    try:
        requires = importlib_metadata.requires(dist) or []
    except importlib_metadata.PackageNotFoundError:
        return {}
    extras: Dict[str, List[str]] = {}
    for req in requires:
        requirement, _, marker = req.partition(";")
        found = re.search(r"""extra\s*==\s*["']([^"']+)["']""", marker)
        if found and found.group(1) not in _NOT_USER_EXTRAS:
            extras.setdefault(found.group(1), []).append(requirement.strip())
    return extras


def framework_install_hint(dist: str) -> Optional[str]:
    """How to add what an installed plugin's extras provide: ``pip install 'xgboost-cpu>=2.1'
    ([cpu]) or pip install 'xgboost>=2.0' ([gpu])``, or None when it has no extras."""
    extras = extra_requirements(dist)
    if not extras:
        return None
    return " or ".join(f"pip install {' '.join(repr(r) for r in reqs)} ([{extra}] of {dist})"
                       for extra, reqs in extras.items())
