"""What every plugin promises: an installed entry point, a registry entry, a cheap import."""
from __future__ import annotations

import pathlib
import re
import subprocess
import sys
from typing import ClassVar, Optional, Tuple

import importlib_metadata
import pytest

from bentoml.hookspecs import NAME
from bentoml.plugins import PluginRegistry
from bentoml.plugins.legacy_paths import split_path


def canonical_name(name: str) -> str:
    """PEP 503 normalized distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


class PluginContract:
    """What every plugin promises: an installed entry point, a registry entry, a cheap import."""

    #: The distribution (folder) name, e.g. ``"bentoml-sklearn"``.
    distribution: ClassVar[str]
    #: A heavy module that importing the plugin must not import (``"sklearn"``), or None.
    framework_module: ClassVar[Optional[str]] = None
    #: The registry kind of what the plugin provides, and the hook that fills it (set by each contract).
    kind: ClassVar[str]
    hook: ClassVar[str]

    def registered(self, tmp_path: pathlib.Path) -> Tuple[str, type]:
        """The name the plugin registers and the class it should resolve to."""
        raise NotImplementedError

    def test_entry_point_is_installed(self) -> None:
        """The distribution is installed and declares an entry point in group ``bentoml``."""
        eps = [ep for ep in importlib_metadata.entry_points(group=NAME)
               if ep.dist is not None and canonical_name(ep.dist.name) == canonical_name(self.distribution)]
        assert eps, f"{self.distribution} declares no entry point in group {NAME!r}; is it installed?"

    def test_registry_resolves_name(self, plugin_registry: PluginRegistry, tmp_path: pathlib.Path) -> None:
        """A fresh registry maps the registered name to the class, provided by this distribution."""
        name, cls = self.registered(tmp_path)
        reg = plugin_registry.lookup(self.kind, name)
        assert reg.obj is cls
        assert canonical_name(reg.distribution) == canonical_name(self.distribution)

    def test_legacy_paths_import_the_class(self, plugin_registry: PluginRegistry, tmp_path: pathlib.Path) -> None:
        """Each BentoML 0.x path declared with the registration imports the very class, in a fresh interpreter."""
        name, cls = self.registered(tmp_path)
        paths = plugin_registry.lookup(self.kind, name).legacy_paths
        if not paths:
            pytest.skip("the registration declares no BentoML 0.x paths (legacy_paths)")
        pairs = [split_path(path, name) for path in paths]
        code = (f"import importlib, {cls.__module__} as home\n"
                f"for module, attribute in {pairs!r}:\n"
                f"    got = getattr(importlib.import_module(module), attribute)\n"
                f"    assert got is home.{cls.__qualname__}, f'{{module}}.{{attribute}} is {{got!r}}'\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr

    def test_import_does_not_import_framework(self, tmp_path: pathlib.Path) -> None:
        """Importing the plugin package in a fresh interpreter leaves the framework unimported."""
        if not self.framework_module:
            pytest.skip("no framework_module declared")
        _, cls = self.registered(tmp_path)
        package = cls.__module__.split(".")[0]
        code = f"import sys, {package}; print({self.framework_module!r} in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "False", (
            f"importing {package} imported {self.framework_module}; move that import into the methods using it")
