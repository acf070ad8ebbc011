"""The code a bundle carries: the service module and the local modules it imports.

The spec's save "saves all the local python code dependencies".  Local modules
are found by scanning imports (``modulefinder``, which also sees imports inside
functions) on a search path of the project directory (the one holding the
service module's top-level package) followed by the ``sys.path`` entries inside
it that the service's code added, as 0.x services do::

    sys.path.append(os.path.join(os.path.dirname(__file__), 'local_dependencies'))
    from my_helpers import preprocess   # local_dependencies/my_helpers.py

Each module is copied to the path its name gives inside the bundle's ``src/``
(``my_helpers.py``, ``mypkg/helpers.py``), where the bundle's importer finds it
by that name (:mod:`bentoml.bundle.importer`).  Entries that hold installed
code are not searched: a virtual environment inside the project, and modules
an installed distribution provides (an editable install's source folder).
"""
from __future__ import annotations

import os
import sys
from modulefinder import ModuleFinder
from typing import Dict, List, Set

import attrs
import importlib_metadata


@attrs.define
class LocalSources:
    """The service module and the local modules it imports."""

    #: the project directory: the one holding the service module's top-level package
    root: str
    module: str
    #: module name -> path of its file inside the bundle's ``src/``
    modules: Dict[str, str]
    #: path inside ``src/`` -> the file it is copied from
    files: Dict[str, str] = attrs.field(factory=dict)
    #: top-level names the code imports that it does not carry (to pin as requirements)
    missing: Set[str] = attrs.field(factory=set)


def _project_root(module_name: str, module_file: str) -> str:
    root = os.path.dirname(module_file)
    depth = module_name.count(".") + (1 if os.path.basename(module_file) == "__init__.py" else 0)
    for _ in range(depth):
        root = os.path.dirname(root)
    return root


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + os.sep)


def _added_entries(root: str) -> List[str]:
    """The ``sys.path`` entries strictly inside ``root`` that hold project code, in order."""
    environments = {os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    entries: List[str] = []
    for entry in sys.path:
        path = os.path.abspath(entry)  # '' is the working directory
        if path == root or path in entries or not _inside(path, root) or not os.path.isdir(path):
            continue
        parts = path.split(os.sep)
        if "site-packages" in parts or "dist-packages" in parts or any(_inside(path, e) for e in environments):
            continue
        entries.append(path)
    return entries


def _top_names(folder: str) -> Set[str]:
    names = set()
    for entry in os.listdir(folder):
        name, ext = os.path.splitext(entry)
        if ext == ".py" or (not ext and os.path.isdir(os.path.join(folder, entry))):
            names.add(name)
    return names


def _bundle_path(name: str, file: str) -> str:
    """Where the module ``name`` goes inside ``src/``: ``a/b.py``, ``a/b/__init__.py``."""
    parts = name.split(".")
    base = os.path.basename(file)
    return os.path.join(*(parts if base.startswith("__init__.") else parts[:-1]), base)


def find_local_sources(module_name: str) -> LocalSources:
    """The local sources of the (imported) service module ``module_name``."""
    module_file = os.path.abspath(sys.modules[module_name].__file__)  # type: ignore[arg-type]
    root = _project_root(module_name, module_file)
    added = _added_entries(root)
    # Installed code reached through an added entry (an editable install's folder) is
    # a requirement, not local code; a project module of the same name still wins.
    installed = set(importlib_metadata.packages_distributions()) - _top_names(root)
    excludes = sorted({name for entry in added for name in _top_names(entry)} & installed)
    finder = ModuleFinder(path=[root] + added, excludes=excludes)
    finder.import_hook(module_name)
    modules: Dict[str, str] = {}
    files: Dict[str, str] = {}
    for name, mod in finder.modules.items():
        path = getattr(mod, "__file__", None)
        if path and _inside(os.path.abspath(path), root):
            rel = modules[name] = _bundle_path(name, path)
            files[rel] = os.path.abspath(path)
    local_tops = {name.split(".")[0] for name in modules}
    missing = {name.split(".")[0] for name in finder.badmodules}
    missing = {top for top in missing if top and top not in local_tops and not top.startswith("_")
               and top not in sys.stdlib_module_names and top not in sys.builtin_module_names}
    return LocalSources(root, module_name, modules, files, missing)
