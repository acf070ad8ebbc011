"""Whether the frameworks a plugin's classes need are installed, found without importing them.

Every class a plugin registers lists the modules a bundle needs in
``requirement_imports``; a plugin is only used when all of those can be found
(``importlib.util.find_spec`` looks without importing, so a missing
TensorFlow costs nothing).
"""
from __future__ import annotations

import importlib.util
import sys
from typing import Iterable, List

from bentoml.plugins.install_hints import framework_install_hint
from bentoml.plugins.records import Registration


def missing_modules(registrations: Iterable[Registration]) -> List[str]:
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


def framework_missing_message(dist: str, missing: List[str]) -> str:
    """Why ``dist`` was skipped, naming the index distributions its extras would install."""
    modules = ", ".join(repr(m) for m in missing)
    hint = framework_install_hint(dist) or f"install the distribution that provides {modules}"
    return f"needs the module{'s' if len(missing) > 1 else ''} {modules}, which is not installed; {hint}"
