"""BentoML 0.x module paths (``bentoml.frameworks.sklearn``, ``bentoml.handlers``), served from the registry.

Services written for BentoML 0.8-0.13 import classes from where 0.x kept
them.  The kernel names no framework: each plugin declares, with the
registration of a class, the 0.x paths it lived at (see
:mod:`bentoml.plugins.legacy_paths`).  A finder at the end of
``sys.meta_path`` (real modules always win) makes every declared module, and
each package above it, importable; a name in such a module is looked up in the
registry when it is first used, so ``from bentoml.frameworks.sklearn import
SklearnModelArtifact`` gives the very class ``bentoml.artifact`` gives, a
missing plugin names its distribution, and two plugins claiming one path are
reported when it is imported.  The modules known from
:data:`bentoml.plugins.hints.KNOWN_LEGACY_PATHS` are served even when their
plugin is not installed, so that importing them says what to install.

Plugins load on the first import of such a module, never on ``import bentoml``.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
import types
from typing import Dict, List, Optional, Sequence, Set, Tuple

from bentoml.exceptions import MissingPlugin, PluginConflict
from bentoml.plugins import get_registry
from bentoml.plugins.hints import KIND_LABELS, KNOWN_LEGACY_PATHS
from bentoml.plugins.legacy_paths import parent_modules, split_path

_ORIGIN = "BentoML 0.x path, served by bentoml.legacy_modules"
_local = threading.local()  # set while plugins load: their own imports never recurse into us


def _hinted() -> Dict[str, Dict[str, Tuple[str, str]]]:
    table: Dict[str, Dict[str, Tuple[str, str]]] = {}
    for path, target in KNOWN_LEGACY_PATHS.items():
        module, attribute = split_path(path, target[1])
        table.setdefault(module, {})[attribute] = target
    return table


def _served() -> Dict[str, bool]:
    """Every module served (declared, hinted, or a package above one) -> whether it is a package."""
    return parent_modules([*get_registry().legacy_table(), *_hinted()])


def names_in(module: str) -> List[str]:
    """The names a served module provides (declared by plugins or known from the hints)."""
    return sorted({*get_registry().legacy_table().get(module, {}), *_hinted().get(module, {})})


def resolve(module: str, attribute: str) -> object:
    """The class ``module.attribute`` names, through the registry.

    Raises MissingPlugin (naming the distribution, or why no plugin provides
    it), PluginConflict (two plugins declared the path for different names,
    or registered the name), or AttributeError for a name the module never had.
    """
    registry = get_registry()
    declared = registry.legacy_table().get(module, {}).get(attribute, [])
    targets = sorted({(kind, name) for kind, name, _plugin in declared})
    if len(targets) > 1:
        plugins = sorted({plugin for _k, _n, plugin in declared})
        raise PluginConflict(f"{module}.{attribute} is declared by more than one plugin for different "
                             f"classes: {' and '.join(plugins)}; uninstall or disable one (BENTOML_DISABLE_PLUGINS)")
    target = targets[0] if targets else _hinted().get(module, {}).get(attribute)
    if target is None:
        raise AttributeError(f"module {module!r} (a BentoML 0.x path) has no attribute {attribute!r}; "
                             f"it provides: {', '.join(names_in(module)) or 'nothing'}")
    kind, name = target
    try:
        return registry.get(kind, name)
    except MissingPlugin as exc:
        alias = f" (the {KIND_LABELS[kind]} {name})" if name != attribute else ""
        raise MissingPlugin(f"{module}.{attribute}{alias} cannot be imported: {exc}", exc.distribution) from None


class _LegacyModule(types.ModuleType):
    """A served module: its public names resolve through the registry on first use."""

    def __getattr__(self, attribute: str) -> object:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return resolve(self.__name__, attribute)

    def __dir__(self) -> List[str]:
        return sorted({*super().__dir__(), *names_in(self.__name__)})


class _Loader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _LegacyModule(spec.name, f"BentoML 0.x names of {spec.name}, resolved through the plugins")

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class LegacyModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the served modules; everything else (and every real module) is left to the other finders."""

    def find_spec(self, fullname: str, path: Optional[Sequence[str]] = None,
                  target: Optional[types.ModuleType] = None) -> Optional[importlib.machinery.ModuleSpec]:
        if not fullname.startswith("bentoml.") or getattr(_local, "busy", False):
            return None
        _local.busy = True
        try:
            served = _served()
        finally:
            _local.busy = False
        if fullname not in served:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, _Loader(), origin=_ORIGIN, is_package=served[fullname])
        if served[fullname]:
            spec.submodule_search_locations = []
        return spec


_FINDER = LegacyModuleFinder()


def install() -> None:
    """Put the finder last on ``sys.meta_path`` (idempotent); cheap, loads no plugin."""
    if not any(isinstance(f, LegacyModuleFinder) for f in sys.meta_path):
        sys.meta_path.append(_FINDER)


def served_modules() -> Set[str]:
    """The module names served now (loads the plugins)."""
    return set(_served())
