"""Load a bundle back into a service instance.

Loading imports the bundle's own copy of the service module and unpickles its
artifacts: bundles are trusted input, like any Python package you install.

The bundle's local modules are imported from its ``src/`` directory and then
taken out of ``sys.modules`` again, so two versions of one service (whose
modules share names) can be loaded in one process side by side; the bundle's
code still imports them at any time (``bentoml.bundle.importer``).  The service
module must be a file in that directory: a ``bentoml.yml`` naming an installed
module (``module: this``) or a file elsewhere is refused, never imported.
"""
from __future__ import annotations

import glob
import importlib
import os
from typing import Callable, Dict, List, Optional

import importlib_metadata

from bentoml.artifact import BentoServiceArtifact
from bentoml.bundle.config import BundleConfig
from bentoml.bundle.importer import BundleImporter
from bentoml.bundle import zipimports
from bentoml.bundle.layout import WHEELS_DIR, BundleLocation
from bentoml.bundle.loading import importing_bundle
from bentoml.exceptions import BundleError, MissingPlugin
from bentoml.plugins.install_hints import plugin_install_command
from bentoml.service import BentoService


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
                f"{_install_hint(dist, where)}", dist) from None


def _install_hint(dist: str, where: str) -> str:
    """Install the plugin from the wheel the bundle carries, else from a clone."""
    wheels = glob.glob(os.path.join(where, WHEELS_DIR, dist.replace("-", "_") + "-*.whl"))
    if wheels:
        return f"install it from the bundle's own wheel: pip install {sorted(wheels)[-1]}"
    return plugin_install_command(dist)


def _service_module_file(path: str, src_dir: str, module: str) -> str:
    """The file in ``src_dir`` that ``module`` is, refusing one outside the bundle at ``path``."""
    base = os.path.join(src_dir, *module.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            real = os.path.realpath(candidate)
            if not real.startswith(os.path.realpath(path) + os.sep):
                raise BundleError(f"bundle {path}: its service module {module} is a link to {real}, "
                                  "outside the bundle")
            return real
    raise BundleError(f"bundle {path}: its service module {module} is not in its source folder {src_dir}")


def load_from_dir(path: str, artifact_filter: Optional[Callable[[BentoServiceArtifact], bool]] = None,
                  keep_modules: bool = False) -> BentoService:
    """Load the bundle at ``path`` (a bundle directory or its installed package).

    :param artifact_filter: load only the artifacts it accepts now; the others
        with the service's ``load_artifacts`` later (after a server's fork).
    :param keep_modules: leave the bundle's modules importable afterwards.
    """
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(path):
        raise BundleError(f"{path} is not a bundle directory")
    config = BundleConfig.load(path)
    _check_providers(config, path)
    location = BundleLocation.of(path, config)
    zipimports.add_to_sys_path(location, config)
    module_file = _service_module_file(path, location.source_dir, config.service.module)
    # The service module is the bundle's like the local ones, so an already
    # imported module of that name is never mistaken for the bundle's.
    local_modules = list(dict.fromkeys(config.service.local_modules + [config.service.module]))
    importer = BundleImporter(location.source_dir, local_modules)
    with importer.imports(keep=keep_modules):
        try:
            with importing_bundle(path):
                module = importlib.import_module(config.service.module)
        except ImportError as exc:
            if isinstance(exc, MissingPlugin):
                raise
            raise BundleError(
                f"cannot import {config.service.module} from bundle {path}: {exc}") from exc
        imported = getattr(module, "__file__", None)
        if imported is None or os.path.realpath(imported) != module_file:
            raise BundleError(f"bundle {path}: importing {config.service.module} found {imported}, "
                              f"not the bundle's own {module_file}")
        cls = getattr(module, config.service.class_name, None)
        if not (isinstance(cls, type) and issubclass(cls, BentoService)):
            raise BundleError(f"bundle {path}: {config.service.module} has no BentoService "
                              f"class {config.service.class_name}")
        service = cls._loaded_from(location, {a.name: a.input_schema for a in config.artifacts
                                              if a.input_schema is not None})
        declared = sorted(service.artifacts.names())
        recorded = sorted(a.name for a in config.artifacts)
        if declared != recorded:
            raise BundleError(f"bundle {path} is inconsistent: the class declares artifacts "
                              f"{declared}, bentoml.yml records {recorded}")
        # Unpickling may need the bundle's modules, so it happens while they are importable.
        service.load_artifacts(artifact_filter)
    return service
