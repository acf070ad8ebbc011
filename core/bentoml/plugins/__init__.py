"""Plugin discovery and the name registries built from the registration hooks.

Plugins are loaded once, lazily, on the first lookup (never at import time),
from the entry point group ``bentoml``.  A plugin that fails to import, whose
hook implementations match no hook spec, or whose hook raises is skipped and
reported (``bentoml plugins``); the others still load.  Two environment
variables select plugins by entry point or distribution name, comma separated:

- ``BENTOML_LOAD_PLUGINS``: load only these (an empty value loads none);
- ``BENTOML_DISABLE_PLUGINS``: never load these.

A plugin whose framework is missing is skipped the same way (see
:mod:`bentoml.plugins.frameworks`).  ``registry`` holds
:class:`PluginRegistry`; this module the registry of the process.
"""
from __future__ import annotations

import threading
from typing import Callable, Optional

from bentoml.plugins.records import PluginFailure, PluginInfo, Registration
from bentoml.plugins.registry import PluginRegistry

__all__ = ["PluginFailure", "PluginInfo", "PluginRegistry", "Registration", "get_registry", "load_plugins",
           "module_getattr", "set_registry"]

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


def module_getattr(kind: str, module_name: str) -> Callable[[str], object]:
    """A module ``__getattr__`` that resolves public class names through the registry."""

    def __getattr__(name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        return get_registry().get(kind, name)

    return __getattr__
