"""A bundle's own modules: importable by the bundle's code at any time, hidden from the rest.

A bundle's local modules keep the names they had when it was saved
(``mypkg.helpers``), so two bundles (two versions of one service) carry
different modules under one name.  :class:`BundleImporter` keeps each
bundle's modules in a table of its own instead of ``sys.modules``:

- while a bundle loads (:meth:`BundleImporter.imports`), its table is swapped
  into ``sys.modules`` and the importer, a finder bound to the bundle's
  ``src/`` directory, goes first on ``sys.meta_path``; afterwards the modules
  move back into the table and what ``sys.modules`` held under those names
  returns;
- each module the importer loads gets a ``__builtins__`` of its own whose
  ``__import__`` resolves the bundle's names (the top-level names of its
  modules) from that table, so an ``import`` statement in an API function
  that runs at call time, long after the load, finds the bundle's own module
  (importing it from ``src/`` then, if the load never did).  Any other import
  goes to Python's ``__import__`` unchanged.

``keep`` (a server process, which hosts one bundle) leaves the modules in
``sys.modules`` and the importer on ``sys.meta_path`` for good, so that also
``importlib.import_module`` and ``pickle`` find them by name.
"""
from __future__ import annotations

import builtins
import contextlib
import importlib.machinery
import importlib.util
import os
import sys
import threading
from types import ModuleType
from typing import Any, Dict, Iterable, Iterator, Optional, Sequence

_import_lock = threading.RLock()


def _fresh_lock() -> None:
    # A forked worker must not inherit the lock held by a thread that does not exist in it.
    global _import_lock
    _import_lock = threading.RLock()


os.register_at_fork(after_in_child=_fresh_lock)


class _BundleSourceLoader(importlib.machinery.SourceFileLoader):
    """Loads a module's source from the bundle and gives it the bundle's builtins."""

    def __init__(self, fullname: str, path: str, bundle_builtins: Dict[str, Any]):
        super().__init__(fullname, path)
        self._builtins = bundle_builtins

    def set_data(self, path: str, data: bytes, *, _mode: int = 0o666) -> None:
        """Write no bytecode: loading a bundle never changes it.  A ``__pycache__`` inside a
        saved bundle would break the checksums a team server's clients verify, and Spark's
        check that a file it ships (``SparkContext.addFile``) did not change since."""

    def exec_module(self, module: ModuleType) -> None:
        # Set before the code runs: functions take their builtins from their
        # module's globals when they are defined.
        module.__dict__["__builtins__"] = self._builtins
        super().exec_module(module)


class BundleImporter:
    """The finder and the ``__import__`` of one bundle's modules (see the module docs).

    :param src_dir: the bundle's source directory.
    :param module_names: the modules the bundle records (``service.module`` and
        ``service.local_modules``); their top-level names are the bundle's.
    """

    def __init__(self, src_dir: str, module_names: Iterable[str]):
        self.src_dir = src_dir
        self.top_names = frozenset(name.partition(".")[0] for name in module_names)
        self.modules: Dict[str, ModuleType] = {}
        self.builtins = dict(builtins.__dict__)
        self.builtins["__import__"] = self._import
        self._active = False  # swapped into sys.modules (by the thread holding _import_lock)
        self._kept = False  # left in sys.modules for good

    def owns(self, name: str) -> bool:
        """Whether ``name`` (absolute) is one of the bundle's modules or a submodule of them."""
        return name.partition(".")[0] in self.top_names

    # -- the finder (on sys.meta_path while active) --------------------------------------

    def find_spec(self, fullname: str, path: Optional[Sequence[str]] = None,
                  target: Optional[ModuleType] = None) -> Optional[importlib.machinery.ModuleSpec]:
        """The spec of ``fullname`` from ``src/``.  A top-level name of the bundle that is not
        there is not looked for anywhere else (the bundle must never get another project's
        module); a missing submodule is None, as its package's path is the bundle's anyway."""
        if not self.owns(fullname):
            return None
        parts = fullname.split(".")
        where = os.path.join(self.src_dir, *parts[:-1])
        spec = importlib.machinery.PathFinder.find_spec(fullname, [where])
        if spec is None and len(parts) > 1:
            return None
        if spec is None:
            raise ModuleNotFoundError(f"No module named {fullname!r} in the bundle's source folder "
                                      f"{self.src_dir}", name=fullname)
        if isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            spec = importlib.util.spec_from_file_location(
                fullname, spec.origin, loader=_BundleSourceLoader(fullname, spec.origin, self.builtins),
                submodule_search_locations=spec.submodule_search_locations)
        return spec

    def invalidate_caches(self) -> None:
        """Nothing cached here (``sys.meta_path`` finders are asked to)."""

    # -- making the modules importable ---------------------------------------------------

    @contextlib.contextmanager
    def imports(self, keep: bool = False) -> Iterator[None]:
        """The bundle's modules importable by name inside the block; ``keep`` leaves them so."""
        with _import_lock:
            if self._active:  # nested: an import of the bundle during its own load
                yield
                return
            stashed = self._activate()
            try:
                yield
            finally:
                if keep:
                    self._kept = True
                else:
                    self._deactivate(stashed)

    def _activate(self) -> Dict[str, ModuleType]:
        stashed = {name: module for name, module in list(sys.modules.items()) if self.owns(name)}
        for name in stashed:
            del sys.modules[name]
        sys.modules.update(self.modules)
        sys.meta_path.insert(0, self)  # type: ignore[arg-type]
        self._active = True
        return stashed

    def _deactivate(self, stashed: Dict[str, ModuleType]) -> None:
        sys.meta_path.remove(self)  # type: ignore[arg-type]
        for name in [name for name in list(sys.modules) if self.owns(name)]:
            self.modules[name] = sys.modules.pop(name)
        sys.modules.update(stashed)
        self._active = False

    # -- the bundle modules' __import__ --------------------------------------------------

    def _import(self, name: str, globals: Optional[Dict[str, Any]] = None, locals: Any = None,
                fromlist: Sequence[str] = (), level: int = 0) -> ModuleType:
        if level == 0 and not self.owns(name):
            return builtins.__import__(name, globals, locals, fromlist, level)
        absolute = name if level == 0 else _resolve(name, globals, level)
        table = sys.modules if self._kept else self.modules
        module = table.get(absolute)
        if module is not None:  # imported before: no lock, no swap
            if not fromlist:
                top = table.get(absolute.partition(".")[0])
                if top is not None:
                    return top
            elif all(item == "*" or hasattr(module, item) for item in fromlist):
                return module
        with self.imports():
            return builtins.__import__(name, globals, locals, fromlist, level)


def _resolve(name: str, globals: Optional[Dict[str, Any]], level: int) -> str:
    """The absolute name of a relative import (``from . import x`` in a bundle module)."""
    package = (globals or {}).get("__package__")
    if package is None:
        spec = (globals or {}).get("__spec__")
        package = spec.parent if spec is not None else ""
    return importlib.util.resolve_name("." * level + name, package)
