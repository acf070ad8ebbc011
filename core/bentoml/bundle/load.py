"""Load a bundle back into a service instance.

Loading imports the bundle's own copy of the service module and unpickles its
artifacts: bundles are trusted input, like any Python package you install.

The bundle's local modules are imported from its ``src/`` directory and then
taken out of ``sys.modules`` again, so two versions of one service (whose
modules share names) can be loaded in one process side by side.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import sys
import threading
from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, Optional

import importlib_metadata

from bentoml.artifact import BentoServiceArtifact
from bentoml.bundle.config import BundleConfig
from bentoml.bundle.save import ARTIFACTS_DIR, SOURCE_DIR
from bentoml.exceptions import BundleError, MissingPlugin

if TYPE_CHECKING:
    from bentoml.service import BentoService

_import_lock = threading.Lock()


def _check_providers(config: BundleConfig, where: str) -> None:
    """Every artifact and adapter's plugin distribution must be installed: name the missing ones."""
    needed: Dict[str, List[str]] = {}
    for a in config.artifacts:
        needed.setdefault(a.provider.distribution, []).append(f"artifact {a.name} ({a.artifact_type})")
    for api in config.apis:
        needed.setdefault(api.input_provider.distribution, []).append(f"API {api.name} ({api.input_type})")
        needed.setdefault(api.output_provider.distribution, []).append(f"API {api.name} ({api.output_type})")
    for dist, users in needed.items():
        if dist in ("local", "unknown"):
            continue
        try:
            importlib_metadata.distribution(dist)
        except importlib_metadata.PackageNotFoundError:
            raise MissingPlugin(
                f"bundle {where} needs the plugin distribution {dist!r} for {', '.join(users)}; "
                f"install {dist} (the bundle carries it: pip install {where}/wheels/*.whl)", dist) from None


@contextlib.contextmanager
def _bundle_modules(src_dir: str, local_modules: List[str], keep: bool = False) -> Iterator[None]:
    """Import the bundle's local modules from ``src_dir``, then hide them again.

    ``keep`` leaves them importable (a server process hosts one bundle, and user
    code may import its local modules lazily at request time).
    """
    with _import_lock:
        stashed = {name: sys.modules.pop(name) for name in local_modules if name in sys.modules}
        sys.path.insert(0, src_dir)
        importlib.invalidate_caches()
        try:
            yield
        finally:
            if not keep:
                sys.path.remove(src_dir)
                for name in local_modules:
                    sys.modules.pop(name, None)
                sys.modules.update(stashed)


def bundle_data_dir(path: str, config: BundleConfig) -> str:
    """The directory holding ``src/`` and ``artifacts/``: ``<bundle>/<Name>`` or an installed package."""
    package = os.path.join(path, config.name)
    return package if os.path.isdir(os.path.join(package, ARTIFACTS_DIR)) else path


def load_from_dir(path: str, artifact_filter: Optional[Callable[[BentoServiceArtifact], bool]] = None,
                  keep_modules: bool = False) -> "BentoService":
    """Load the bundle at ``path`` (a bundle directory or its installed package).

    :param artifact_filter: load only the artifacts it accepts now; the others
        with :func:`load_remaining_artifacts` later (after a server's fork).
    :param keep_modules: leave the bundle's modules importable afterwards.
    """
    from bentoml.service import BentoService

    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(path):
        raise BundleError(f"{path} is not a bundle directory")
    config = BundleConfig.load(path)
    _check_providers(config, path)
    data_dir = bundle_data_dir(path, config)
    src_dir = os.path.join(data_dir, SOURCE_DIR)
    with _bundle_modules(src_dir, config.service.local_modules, keep=keep_modules):
        try:
            module = importlib.import_module(config.service.module)
        except ImportError as exc:
            if isinstance(exc, MissingPlugin):
                raise
            raise BundleError(
                f"cannot import {config.service.module} from bundle {path}: {exc}") from exc
        cls = getattr(module, config.service.class_name, None)
        if not (isinstance(cls, type) and issubclass(cls, BentoService)):
            raise BundleError(f"bundle {path}: {config.service.module} has no BentoService "
                              f"class {config.service.class_name}")
        service = cls()
        declared = sorted(service.artifacts.names())
        recorded = sorted(a.name for a in config.artifacts)
        if declared != recorded:
            raise BundleError(f"bundle {path} is inconsistent: the class declares artifacts "
                              f"{declared}, bentoml.yml records {recorded}")
        # Unpickling may need the bundle's modules, so it happens while they are importable.
        service._artifacts_dir = os.path.join(data_dir, ARTIFACTS_DIR)
        for artifact in service.artifacts:
            if artifact_filter is None or artifact_filter(artifact):
                artifact.load(service._artifacts_dir)
    service._version, service._bundle_path = config.version, path
    return service


def load_remaining_artifacts(service: "BentoService",
                             artifact_filter: Optional[Callable[[BentoServiceArtifact], bool]] = None) -> None:
    """Load the artifacts ``load_from_dir(artifact_filter=...)`` left out (those
    ``artifact_filter`` accepts, when given; the others stay for a later call)."""
    for artifact in service.artifacts:
        if not artifact.is_packed and (artifact_filter is None or artifact_filter(artifact)):
            artifact.load(service._artifacts_dir)


def bundle_dir(bento: str) -> str:
    """A local directory for a path, ``NAME``, ``NAME:latest`` or ``NAME:VERSION``.

    An existing directory wins; something path-like that is not one is an error
    (never looked up as a name); anything else is resolved in the repository.
    """
    expanded = os.path.expanduser(bento)
    if os.path.isdir(expanded):
        return expanded
    if os.sep in bento or bento.startswith("."):
        raise BundleError(f"{bento} is not a bundle directory")
    from bentoml.repository import get_repository

    return get_repository().local_path(bento)


def load(bento: str) -> "BentoService":
    """Load a bundle by path, ``NAME:VERSION``, ``NAME:latest`` or bare ``NAME`` (latest)."""
    return load_from_dir(bundle_dir(bento))
