"""Plugin discovery and the name registries built from the registration hooks.

Plugins are loaded once, lazily, on the first lookup (never at import time),
from the entry point group ``bentoml``.  A plugin that fails to import or whose
hook raises is skipped and reported (``bentoml plugins``); the others still
load.  Two environment variables select plugins by entry point or distribution
name, comma separated:

- ``BENTOML_LOAD_PLUGINS``: load only these (an empty value loads none);
- ``BENTOML_DISABLE_PLUGINS``: never load these.

A plugin whose framework is missing is skipped the same way: every class it
registers lists the modules a bundle needs in ``requirement_imports``, and a
plugin is only used when all of those can be found (``importlib.util.find_spec``
looks without importing, so a missing TensorFlow costs nothing).
"""
from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import attrs
import importlib_metadata
import pluggy

from bentoml import hookspecs
from bentoml._version import __version__
from bentoml.exceptions import MissingPlugin, PluginConflict

logger = logging.getLogger(__name__)

#: Which distribution provides a well-known name, for the "install X" hint
#: when nothing registers it.  Only a hint: lookups never consult it first.
KNOWN_PROVIDERS: Dict[str, Dict[str, str]] = {
    "artifacts": {
        "SklearnModelArtifact": "bentoml-sklearn",
        "PickleArtifact": "bentoml-pickle",
        "XgboostModelArtifact": "bentoml-xgboost",
        "TensorflowSavedModelArtifact": "bentoml-tensorflow",
        "H2oModelArtifact": "bentoml-h2o",
    },
    "input_adapters": {
        "DataframeInput": "bentoml-adapter-dataframe",
        "JsonInput": "bentoml-adapter-json",
        "ImageInput": "bentoml-adapter-image",
        "MultiImageInput": "bentoml-adapter-image",
        "TfTensorInput": "bentoml-adapter-tensor",
        "FileInput": "bentoml-adapter-file",
        "StringInput": "bentoml-adapter-string",
    },
    "output_adapters": {},
    "storage_backends": {"file": "bentoml-storage-local", "s3": "bentoml-storage-s3"},
    "deployers": {
        "docker": "bentoml-deployer-docker",
        "kubernetes": "bentoml-deployer-kubernetes",
        "spark": "bentoml-deployer-spark",
    },
}

_KIND_LABELS = {
    "artifacts": "artifact",
    "input_adapters": "input adapter",
    "output_adapters": "output adapter",
    "storage_backends": "storage backend for scheme",
    "deployers": "deployer",
}


@attrs.frozen
class Registration:
    """One name registered by one plugin."""

    kind: str
    name: str
    obj: object
    distribution: str
    version: Optional[str]
    plugin: str


@attrs.frozen
class PluginFailure:
    """A plugin that could not be loaded or whose hook raised."""

    plugin: str
    distribution: str
    error: str


@attrs.frozen
class PluginInfo:
    """What ``bentoml plugins`` shows for one loaded plugin."""

    plugin: str
    distribution: str
    version: Optional[str]
    registers: Dict[str, List[str]]


def _split_env(var: str) -> Optional[set]:
    value = os.environ.get(var)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


class PluginRegistry:
    """A pluggy PluginManager plus the registries its hooks fill.

    ``lookup("artifacts", "SklearnModelArtifact")`` returns the registered
    class, raising :class:`MissingPlugin` (naming the distribution to install)
    or :class:`PluginConflict` (naming both distributions) when it cannot.
    """

    def __init__(self, load_entry_points: bool = True):
        self.pm = pluggy.PluginManager(hookspecs.NAME)
        self.pm.add_hookspecs(hookspecs)
        self.failures: List[PluginFailure] = []
        self._load_entry_points = load_entry_points
        self._loaded = False
        self._origin: Dict[str, tuple] = {}  # plugin name -> (distribution, version)
        self._tables: Optional[Dict[str, Dict[str, List[Registration]]]] = None
        # (kind, name) -> why the plugin registering it was skipped, for lookup's message
        self._skipped: Dict[Tuple[str, str], PluginFailure] = {}
        self._lock = threading.RLock()

    # -- loading -----------------------------------------------------------
    def load_plugins(self) -> None:
        """Load the kernel's built-ins and every selected entry point, once."""
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            from bentoml import _builtins

            self.register(_builtins, "bentoml", distribution="bentoml", version=_kernel_version())
            if self._load_entry_points:
                self._load_from_entry_points()

    def _load_from_entry_points(self) -> None:
        only, disabled = _split_env("BENTOML_LOAD_PLUGINS"), _split_env("BENTOML_DISABLE_PLUGINS") or set()
        for ep in importlib_metadata.entry_points(group=hookspecs.NAME):
            dist = ep.dist.name if ep.dist else "?"
            version = ep.dist.version if ep.dist else None
            names = {ep.name, dist}
            if (only is not None and not names & only) or names & disabled:
                logger.debug("plugin %s (%s) not loaded: deselected by environment", ep.name, dist)
                continue
            # Qualified by distribution: two distributions may pick the same entry point name.
            plugin_name = f"{dist}:{ep.name}"
            if self.pm.has_plugin(plugin_name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:  # a broken plugin must not stop the others
                self._fail(plugin_name, dist, exc)
                continue
            self.register(plugin, plugin_name, distribution=dist, version=version)

    def register(self, plugin: object, name: str, distribution: Optional[str] = None,
                 version: Optional[str] = None) -> None:
        """Register a plugin object directly (tests, embedding applications)."""
        with self._lock:
            self.pm.register(plugin, name=name)
            self._origin[name] = (distribution or name, version)
            self._tables = None

    def unregister(self, name: str) -> None:
        with self._lock:
            self.pm.unregister(name=name)
            self._origin.pop(name, None)
            self._tables = None

    def _fail(self, plugin: str, dist: str, error: "BaseException | str") -> PluginFailure:
        message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        failure = PluginFailure(plugin, dist, message)
        if failure not in self.failures:  # tables are rebuilt after each register()
            logger.warning("plugin %s from %s skipped: %s", plugin, dist, message)
            self.failures.append(failure)
        return failure

    # -- registries ----------------------------------------------------------
    def _build_tables(self) -> Dict[str, Dict[str, List[Registration]]]:
        self.load_plugins()
        with self._lock:
            if self._tables is not None:
                return self._tables
            tables: Dict[str, Dict[str, List[Registration]]] = {k: {} for k in hookspecs.REGISTRATION_HOOKS}
            skipped: Dict[Tuple[str, str], PluginFailure] = {}
            broken: Dict[str, PluginFailure] = {}
            for kind, hook_name in hookspecs.REGISTRATION_HOOKS.items():
                for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                    if impl.plugin_name in broken:
                        continue
                    dist, version = self._origin.get(impl.plugin_name, (impl.plugin_name, None))
                    found: List[Registration] = []

                    def register(obj, name=None, _found=found, _kind=kind, _p=impl.plugin_name,
                                 _d=dist, _v=version):
                        _found.append(Registration(_kind, name or obj.__name__, obj, _d, _v, _p))

                    try:
                        impl.function(register=register)
                    except Exception as exc:
                        broken[impl.plugin_name] = self._fail(impl.plugin_name, dist, exc)
                        continue
                    missing = _missing_modules(found)
                    if missing:
                        broken[impl.plugin_name] = self._fail(
                            impl.plugin_name, dist, _framework_missing_message(dist, missing))
                        for reg in found:
                            skipped[(kind, reg.name)] = broken[impl.plugin_name]
                        continue
                    for reg in found:
                        tables[kind].setdefault(reg.name, []).append(reg)
            if broken:  # drop what a half-failed plugin registered under other hooks
                for kind, table in tables.items():
                    for name in list(table):
                        for reg in table[name]:
                            if reg.plugin in broken:
                                skipped[(kind, name)] = broken[reg.plugin]
                        table[name] = [r for r in table[name] if r.plugin not in broken]
                        if not table[name]:
                            del table[name]
            self._tables, self._skipped = tables, skipped
            return tables

    def lookup(self, kind: str, name: str) -> Registration:
        """The registration for ``name``; raises MissingPlugin or PluginConflict."""
        regs = self._build_tables()[kind].get(name, [])
        if not regs:
            label = _KIND_LABELS[kind]
            dist = KNOWN_PROVIDERS.get(kind, {}).get(name)
            failure = self._skipped.get((kind, name)) or next(
                (f for f in self.failures if dist and f.distribution == dist), None)
            if failure is not None:
                raise MissingPlugin(
                    f"{label} {name!r} is provided by the plugin distribution {failure.distribution!r}, "
                    f"which is installed but was skipped: {failure.error}", failure.distribution)
            if dist:
                raise MissingPlugin(
                    f"{label} {name!r} is provided by the plugin distribution {dist!r}, "
                    f"which is not installed (or was disabled); install {dist}", dist)
            known = ", ".join(sorted(self._build_tables()[kind])) or "none"
            raise MissingPlugin(f"no plugin registers the {label} {name!r} (registered: {known})")
        dists = sorted({r.distribution for r in regs})
        if len(regs) > 1:
            raise PluginConflict(
                f"{_KIND_LABELS[kind]} {name!r} is registered by more than one plugin: "
                f"{' and '.join(dists)}; uninstall or disable one "
                f"(BENTOML_DISABLE_PLUGINS)")
        return regs[0]

    def get(self, kind: str, name: str) -> object:
        return self.lookup(kind, name).obj

    def names(self, kind: str) -> List[str]:
        return sorted(self._build_tables()[kind])

    def provider_of(self, kind: str, obj: object) -> Optional[Registration]:
        """The registration whose object is ``obj``, or else the nearest registered base class.

        A user's subclass of ``SklearnModelArtifact`` still needs ``bentoml-sklearn``.
        """
        by_id = {id(reg.obj): reg for regs in self._build_tables()[kind].values() for reg in regs}
        for candidate in getattr(obj, "__mro__", (obj,)):
            if id(candidate) in by_id:
                return by_id[id(candidate)]
        return None

    def plugins(self) -> Iterator[PluginInfo]:
        """Each working plugin with what it registers, for ``bentoml plugins`` (see ``failures``)."""
        tables = self._build_tables()
        failed = {f.plugin for f in self.failures}
        for name, plugin in self.pm.list_name_plugin():
            if name in failed:
                continue
            dist, version = self._origin.get(name, (name, None))
            registers: Dict[str, List[str]] = {}
            for kind, table in tables.items():
                for reg_name, regs in table.items():
                    if any(r.plugin == name for r in regs):
                        registers.setdefault(kind, []).append(reg_name)
            yield PluginInfo(name, dist, version, {k: sorted(v) for k, v in registers.items()})


def _missing_modules(registrations: Iterable[Registration]) -> List[str]:
    """The ``requirement_imports`` of these classes that cannot be found (nothing is imported)."""
    missing: List[str] = []
    for reg in registrations:
        for module in getattr(reg.obj, "requirement_imports", ()) or ():
            top = module.split(".")[0]
            if top in missing:
                continue
            try:
                found = top in sys.modules or importlib.util.find_spec(top) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                missing.append(top)
    return missing


def _framework_missing_message(dist: str, missing: List[str]) -> str:
    modules = ", ".join(repr(m) for m in missing)
    hint = f"install the distribution that provides {modules}"
    try:
        extras = [e for e in importlib_metadata.metadata(dist).get_all("Provides-Extra") or []
                  if e not in ("test", "tests", "dev", "docs")]
    except importlib_metadata.PackageNotFoundError:
        extras = []
    if extras:
        hint += " (e.g. " + " or ".join(f"pip install '{dist}[{e}]'" for e in extras) + ")"
    return f"needs the module{'s' if len(missing) > 1 else ''} {modules}, which is not installed; {hint}"


def _kernel_version() -> str:
    return __version__


_registry: Optional[PluginRegistry] = None
_registry_lock = threading.Lock()


def get_registry() -> PluginRegistry:
    """The process-wide registry; plugins load on its first lookup."""
    global _registry
    with _registry_lock:
        if _registry is None:
            _registry = PluginRegistry()
        return _registry


def set_registry(registry: Optional[PluginRegistry]) -> Optional[PluginRegistry]:
    """Swap the process-wide registry (used by ``bentoml.testing``); returns the old one."""
    global _registry
    with _registry_lock:
        old, _registry = _registry, registry
        return old


def load_plugins() -> None:
    """Load plugins now (idempotent)."""
    get_registry().load_plugins()


def lookup(kind: str, name: str) -> Registration:
    return get_registry().lookup(kind, name)


def module_getattr(kind: str, module_name: str) -> Callable[[str], object]:
    """A module ``__getattr__`` that resolves public class names through the registry."""

    def __getattr__(name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        return get_registry().get(kind, name)

    return __getattr__
