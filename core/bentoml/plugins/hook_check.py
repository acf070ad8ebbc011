"""Checking a plugin's hook implementations against the specs, one plugin at a time.

pluggy registers any ``@hookimpl`` function, whatever its name: a misspelled
``register_artifact`` would register nothing and nobody would be told, and a
``register_artifacts`` without ``@hookimpl`` is never called.  pluggy's own
``check_pending`` raises on the first such name across all plugins; this
check looks at one plugin's own hook callers, so the culprit alone is
reported and skipped.
"""
from __future__ import annotations

import difflib
import inspect
from typing import List

import pluggy

from bentoml import hookspecs


def hook_problems(pm: pluggy.PluginManager, plugin: object) -> List[str]:
    """What is wrong with the hooks ``plugin`` (already registered in ``pm``) implements."""
    specs = hookspecs.hook_names()
    problems = []
    for caller in pm.get_hookcallers(plugin) or []:
        if not caller.has_spec():
            close = difflib.get_close_matches(caller.name, specs, n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]}?" if close else f"; the hooks are {', '.join(specs)}"
            problems.append(f"@hookimpl {caller.name} matches no hook of bentoml{hint}")
    implemented = {caller.name for caller in pm.get_hookcallers(plugin) or []}
    for name in specs:
        # getattr_static: a plugin module's own __getattr__ (lazy attributes) must not run here
        if name not in implemented and callable(inspect.getattr_static(plugin, name, None)):
            problems.append(f"{name} is not marked @hookimpl, so it is never called")
    return problems
