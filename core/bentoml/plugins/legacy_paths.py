"""BentoML 0.x import paths that plugins declare for their classes, as data.

A plugin passes them with the registration of the class they belong to::

    register(SklearnModelArtifact, legacy_paths=("bentoml.frameworks.sklearn",))
    register(DataframeInput, legacy_paths=("bentoml.adapters.dataframe_input",
                                           "bentoml.handlers:DataframeHandler"))

A path is ``MODULE`` (the class under its registered name) or ``MODULE:NAME``
(under a 0.x name of its own).  ``MODULE`` must lie under ``bentoml.`` and
must not be one of the kernel's own modules (those are real files and win);
:mod:`bentoml.legacy_modules` serves the declared modules lazily, resolving
each name through the registry, so a conflict or a missing plugin is reported
when that name is imported.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, Iterable, List, Tuple

from bentoml.exceptions import InvalidPlugin

_KERNEL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PATH = re.compile(r"^bentoml(\.[A-Za-z_][A-Za-z0-9_]*)+(:[A-Za-z_][A-Za-z0-9_]*)?$")

#: module -> attribute -> the (kind, registered name) pairs it was declared for, with the plugin.
LegacyTable = Dict[str, Dict[str, List[Tuple[str, str, str]]]]


def check_legacy_paths(paths: Any, owner: str) -> Tuple[str, ...]:
    """The declared paths as a tuple; InvalidPlugin naming the bad one otherwise."""
    if isinstance(paths, str) or not isinstance(paths, (tuple, list)):
        raise InvalidPlugin(f"register({owner}, legacy_paths=...) takes a tuple of strings, got {paths!r}")
    for path in paths:
        if not isinstance(path, str) or not _PATH.fullmatch(path):
            raise InvalidPlugin(
                f"register({owner}, legacy_paths=...): {path!r} is not 'bentoml.MODULE' or "
                "'bentoml.MODULE:NAME' (a dotted module under bentoml, optionally a name in it)")
        if is_kernel_module(path.partition(":")[0]):
            raise InvalidPlugin(f"register({owner}, legacy_paths=...): {path!r} is a module of the kernel "
                                "itself, which a plugin cannot add names to")
    return tuple(paths)


def is_kernel_module(module: str) -> bool:
    """Whether ``module`` (``bentoml.x.y``) is a file of the kernel: real modules always win."""
    base = os.path.join(_KERNEL_DIR, *module.split(".")[1:])
    return os.path.isfile(base + ".py") or os.path.isfile(os.path.join(base, "__init__.py"))


def split_path(path: str, registered_name: str) -> Tuple[str, str]:
    """``"bentoml.handlers:DataframeHandler"`` -> (module, attribute); no ``:NAME`` means the registered name."""
    module, _, attribute = path.partition(":")
    return module, attribute or registered_name


def add_to_table(table: LegacyTable, kind: str, registered_name: str, plugin: str, paths: Iterable[str]) -> None:
    for path in paths:
        module, attribute = split_path(path, registered_name)
        table.setdefault(module, {}).setdefault(attribute, []).append((kind, registered_name, plugin))


def parent_modules(modules: Iterable[str]) -> Dict[str, bool]:
    """Every module below ``bentoml`` that the paths name or contain -> whether it is a package."""
    found: Dict[str, bool] = {}
    for module in modules:
        parts = module.split(".")
        for depth in range(2, len(parts) + 1):
            name = ".".join(parts[:depth])
            found[name] = found.get(name, False) or depth < len(parts)
    return found
