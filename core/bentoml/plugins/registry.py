"""``PluginRegistry``: a pluggy PluginManager plus the name tables its hooks fill."""
from __future__ import annotations

import logging
import os
import threading
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import importlib_metadata
import pluggy

from bentoml import hookspecs
from bentoml._version import __version__
from bentoml.exceptions import InvalidPlugin
from bentoml.plugins import hints
from bentoml.plugins.frameworks import framework_missing_message, missing_modules
from bentoml.plugins.hook_check import hook_problems
from bentoml.plugins.legacy_paths import LegacyTable, add_to_table, check_legacy_paths
from bentoml.plugins.records import PluginFailure, PluginInfo, Registration

logger = logging.getLogger("bentoml.plugins")

Tables = Dict[str, Dict[str, List[Registration]]]
#: Every registry kind, in the order ``bentoml plugins`` shows them.
KINDS = [*hookspecs.REGISTRATION_HOOKS, hookspecs.COMMANDS_KIND]


def _split_env(var: str) -> Optional[set]:
    value = os.environ.get(var)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _collect_commands(function: Callable, register: Callable) -> None:
    """Call a ``register_commands`` implementation with a group of its own, then register
    each command it added by name; one added to a kernel group that takes plugin
    subcommands (``deploy``) as ``"deploy NAME"``."""
    import click  # only when plugin commands are wanted: `import bentoml` stays light

    group = click.Group()
    subgroups = {name: click.Group(name) for name in hookspecs.PLUGIN_COMMAND_GROUPS}
    for subgroup in subgroups.values():
        group.add_command(subgroup)
    function(cli=group)
    for name, command in group.commands.items():
        if subgroups.get(name) is command:
            for sub_name, sub_command in command.commands.items():
                register(sub_command, f"{name} {sub_name}")
        else:  # a plugin's own top-level command (one named "deploy" loses to the kernel's)
            register(command, name)


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
        self._tables: Optional[Tables] = None
        self._legacy: LegacyTable = {}  # BentoML 0.x paths, also those of skipped plugins
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

            self.register(_builtins, "bentoml", distribution="bentoml", version=__version__)
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
                self.register(ep.load(), plugin_name, distribution=dist, version=version)
            except Exception as exc:  # a broken plugin must not stop the others
                self._fail(plugin_name, dist, exc)

    def register(self, plugin: object, name: str, distribution: Optional[str] = None,
                 version: Optional[str] = None) -> None:
        """Register a plugin object directly (tests, embedding applications).

        Raises :class:`~bentoml.exceptions.InvalidPlugin`, registering nothing,
        when its hook implementations do not match the hook specs.
        """
        with self._lock:
            try:
                self.pm.register(plugin, name=name)
            except pluggy.PluginValidationError as exc:
                raise InvalidPlugin(str(exc)) from None
            problems = hook_problems(self.pm, plugin)
            if problems:
                self.pm.unregister(plugin)
                raise InvalidPlugin("; ".join(problems))
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
    def _hook_impls(self) -> Iterator[Tuple[str, pluggy.HookImpl, Callable]]:
        """(kind, implementation, how to call it with a ``register`` callback) for every hook."""
        for kind, hook_name in hookspecs.REGISTRATION_HOOKS.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                yield kind, impl, lambda register, _f=impl.function: _f(register=register)
        for impl in getattr(self.pm.hook, hookspecs.COMMAND_HOOK).get_hookimpls():
            yield hookspecs.COMMANDS_KIND, impl, lambda register, _f=impl.function: _collect_commands(_f, register)

    def _build_tables(self) -> Tables:
        self.load_plugins()
        with self._lock:
            if self._tables is not None:
                return self._tables
            tables: Tables = {k: {} for k in KINDS}
            legacy: LegacyTable = {}
            skipped: Dict[Tuple[str, str], PluginFailure] = {}
            broken: Dict[str, PluginFailure] = {}
            for kind, impl, call in self._hook_impls():
                if impl.plugin_name in broken:
                    continue
                dist, version = self._origin.get(impl.plugin_name, (impl.plugin_name, None))
                found: List[Registration] = []

                def register(obj, name=None, legacy_paths=(), _found=found, _kind=kind, _p=impl.plugin_name,
                             _d=dist, _v=version):
                    name = name or obj.__name__
                    paths = check_legacy_paths(legacy_paths, name)
                    _found.append(Registration(_kind, name, obj, _d, _v, _p, paths))

                try:
                    call(register)
                except Exception as exc:
                    broken[impl.plugin_name] = self._fail(impl.plugin_name, dist, exc)
                    continue
                for reg in found:  # kept for skipped plugins too: importing a path names why
                    add_to_table(legacy, kind, reg.name, reg.plugin, reg.legacy_paths)
                missing = missing_modules(found)
                if missing:
                    broken[impl.plugin_name] = self._fail(
                        impl.plugin_name, dist, framework_missing_message(dist, missing))
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
            self._tables, self._skipped, self._legacy = tables, skipped, legacy
            return tables

    def registrations(self, kind: str, name: str) -> List[Registration]:
        """Everything registered as ``name``: one, none, or several (a conflict)."""
        return list(self._build_tables()[kind].get(name, []))

    def lookup(self, kind: str, name: str) -> Registration:
        """The registration for ``name``; raises MissingPlugin or PluginConflict."""
        regs = self.registrations(kind, name)
        if not regs:
            raise hints.missing(kind, name, self._skipped.get((kind, name)), self.failures, self.names(kind))
        if len(regs) > 1:
            raise hints.conflict(kind, name, regs)
        return regs[0]

    def get(self, kind: str, name: str) -> object:
        return self.lookup(kind, name).obj

    def names(self, kind: str) -> List[str]:
        return sorted(self._build_tables()[kind])

    def legacy_table(self) -> LegacyTable:
        """The BentoML 0.x paths plugins declared: module -> name -> (kind, registered name, plugin)."""
        self._build_tables()
        return self._legacy

    def provider_of(self, kind: str, obj: object) -> Optional[Registration]:
        """The registration whose object is ``obj``, or else the nearest registered base class.

        A user's subclass of ``SklearnModelArtifact`` still needs ``bentoml-sklearn``.
        """
        by_id: Dict[int, Registration] = {}
        for regs in self._build_tables()[kind].values():
            for reg in regs:  # an object registered under several names: the one it is called wins
                if id(reg.obj) not in by_id or reg.name == getattr(reg.obj, "__name__", None):
                    by_id[id(reg.obj)] = reg
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
