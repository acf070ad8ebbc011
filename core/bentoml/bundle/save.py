"""``save_to_dir``: write a service as a self-contained, versioned bundle directory.

Layout (``<Name>/`` is also the Python package that ``pip install`` installs)::

    bentoml.yml  requirements.txt  environment.yml  [setup.sh]
    Dockerfile  docker-entrypoint.sh  setup.py  pyproject.toml  MANIFEST.in  README.md
    wheels/              our kernel and plugins, repacked from what is installed
    <Name>/__init__.py   load() and the bundle's CLI
    <Name>/bentoml.yml
    <Name>/src/          the service module and the local modules it imports
    <Name>/artifacts/    one directory per artifact

The bundle is written into a temporary sibling directory and renamed into
place, so a crash never leaves a half-written bundle at ``path``.
"""
from __future__ import annotations

import logging
import os
import platform
import shutil
import stat
import tempfile
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Dict, List, Optional

import importlib_metadata
from packaging.utils import canonicalize_name

from bentoml._version import __version__
from bentoml.bundle import templates
from bentoml.bundle.checks import check_saveable
from bentoml.bundle.config import (APIConfig, ArtifactConfig, BundleConfig, EnvConfig,
                                   ProviderRef, ServiceRef, WheelRef, BUNDLE_CONFIG_FILE)
from bentoml.bundle.dependencies import (distributions_for_imports, merge_requirements,
                                         read_requirements_file)
from bentoml.bundle.layout import (ARTIFACTS_DIR, SOURCE_DIR, WEB_STATIC_CONTENT_DIR, WHEELS_DIR,
                                   ZIPIMPORTS_DIR, BundleLocation)
from bentoml.bundle.local_sources import LocalSources, find_local_sources
from bentoml.bundle.packages import conda_dependencies, system_packages
from bentoml.bundle.pins import constraints_txt, installed_closure
from bentoml.bundle.wheels import build_wheel
from bentoml.exceptions import BundleError, InvalidArgument
from bentoml.plugins import get_registry

if TYPE_CHECKING:
    from bentoml.service import BentoService

logger = logging.getLogger(__name__)

KERNEL_DISTRIBUTION = "bentoml"


def _our_distributions() -> Dict[str, str]:
    """Canonical name -> real name of the kernel and every installed plugin distribution."""
    ours = {KERNEL_DISTRIBUTION: KERNEL_DISTRIBUTION}
    for ep in importlib_metadata.entry_points(group="bentoml"):
        if ep.dist is not None:
            ours[canonicalize_name(ep.dist.name)] = ep.dist.name
    return ours


def _provider(kind: str, cls: type, sources: LocalSources) -> ProviderRef:
    reg = get_registry().provider_of(kind, cls)
    if reg is not None:
        return ProviderRef(reg.distribution, reg.version)
    if cls.__module__ in sources.modules:
        return ProviderRef("local")
    dists = importlib_metadata.packages_distributions().get(cls.__module__.split(".")[0], [])
    if dists:
        return ProviderRef(dists[0], importlib_metadata.version(dists[0]))
    return ProviderRef("unknown")


def _requirement_imports(service: "BentoService") -> List[str]:
    names: List[str] = []
    for artifact in service.artifacts:
        names += artifact.requirement_imports
    for api in service.inference_apis:
        names += api.input_adapter.requirement_imports + api.output_adapter.requirement_imports
    return names


def _check_target(path: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidArgument(f"cannot save to {path!r}: a path must be a string")
    path = os.fspath(path)
    if "\0" in path:
        raise InvalidArgument(f"cannot save to {path!r}: the path contains a NUL byte")
    path = os.path.abspath(os.path.expanduser(path))
    try:
        busy = os.path.exists(path) and (not os.path.isdir(path) or bool(os.listdir(path)))
    except OSError as exc:
        raise BundleError(f"cannot save to {path}: {exc.strerror}") from None
    if busy:
        raise BundleError(f"cannot save to {path}: it exists and is not an empty directory")
    return path


def build_config(service: "BentoService", version: str, sources: LocalSources) -> tuple:
    """The bundle's config plus the wheel distributions and requirements to write."""
    env = type(service)._bento_env
    ours = _our_distributions()
    artifacts = [ArtifactConfig(a.name, a.artifact_type, _provider("artifacts", type(a), sources), a.input_schema)
                 for a in service.artifacts]
    apis = []
    for api in service.inference_apis:
        apis.append(APIConfig(
            name=api.name, doc=api.doc,
            input_type=api.input_adapter.input_type,
            input_provider=_provider("input_adapters", type(api.input_adapter), sources),
            input_config=dict(api.spec.input_adapter.config),
            output_type=api.output_adapter.output_type,
            output_provider=_provider("output_adapters", type(api.output_adapter), sources),
            output_config=dict(api.output_adapter.config),
            mb_max_batch_size=api.spec.mb_max_batch_size, mb_max_latency=api.spec.mb_max_latency,
            mb_fixed_batch_size=api.spec.mb_fixed_batch_size, batch=api.spec.batch, route=api.spec.route))

    import_names = _requirement_imports(service)
    if env.auto_pip_dependencies:
        import_names += sorted(sources.missing)
    inferred = distributions_for_imports(import_names)
    wheel_dists = {KERNEL_DISTRIBUTION}
    wheel_dists |= {p.distribution for p in [a.provider for a in artifacts]
                    + [x for api in apis for x in (api.input_provider, api.output_provider)]
                    if canonicalize_name(p.distribution) in ours}
    wheel_dists |= {ours[key] for key in inferred if key in ours}
    bundled = {canonicalize_name(d): importlib_metadata.version(d) for d in wheel_dists}
    requirements_txt = read_requirements_file(env.requirements_txt_file) if env.requirements_txt_file else []
    requirements = merge_requirements(
        {k: v for k, v in inferred.items() if k not in ours}, requirements_txt, env.pip_dependencies,
        bundled, requirements_txt_name=f"requirements_txt_file {env.requirements_txt_file}")

    py = platform.python_version()
    config = BundleConfig(
        name=service.name, version=version,
        created_at=datetime.now(timezone.utc).isoformat(),
        bentoml_version=__version__,
        service=ServiceRef(sources.module, type(service).__name__, sorted(sources.modules)),
        env=EnvConfig(
            python_version=py, pip_requirements=requirements,
            conda_channels=env.conda_channels, conda_dependencies=conda_dependencies(service),
            system_packages=system_packages(service),
            docker_base_image=env.docker_base_image or f"python:{'.'.join(py.split('.')[:2])}-slim",
            has_setup_sh=bool(env.setup_sh),
            pip_index_url=env.pip_index_url, pip_extra_index_urls=list(env.pip_extra_index_urls),
            pip_trusted_hosts=list(env.pip_trusted_hosts), conda_env_yml=env.conda_env,
            conda_override_channels=env.conda_override_channels,
            zipimport_archives=[os.path.basename(p) for p in env.zipimport_archives]),
        apis=apis, artifacts=artifacts)
    static = type(service)._bento_web_static_content
    config.web_static_content = static.declared if static is not None else None
    return config, sorted(wheel_dists)


def _write(path: str, text: str, executable: bool = False) -> None:
    with open(path, "w") as f:
        f.write(text)
    if executable:
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def save_to_dir(service: "BentoService", path: str, version: Optional[str] = None) -> BundleLocation:
    """Check ``service`` (:func:`~bentoml.bundle.checks.check_saveable`) and write it as a
    bundle at ``path``; returns where it went."""
    return write_bundle(service, path, check_saveable(service, version))


def write_bundle(service: "BentoService", path: str, version: str) -> BundleLocation:
    """Write an already checked ``service`` as the bundle ``version`` at ``path``
    (created; must be empty or missing)."""
    path = _check_target(path)
    parent = os.path.dirname(path)
    created = not os.path.isdir(path)
    try:
        # Creating the (empty) target first proves the path can be written, before the work.
        os.makedirs(path, exist_ok=True)
        # Shortened, so that any name the file system takes still gets a staging sibling.
        staging = tempfile.mkdtemp(prefix=f".{os.path.basename(path)[:64]}.partial-", dir=parent)
    except OSError as exc:
        if created and os.path.isdir(path):
            os.rmdir(path)
        where = f" ({exc.filename})" if exc.filename and os.path.abspath(exc.filename) != path else ""
        raise BundleError(f"cannot save to {path}: {exc.strerror}{where}") from None
    try:
        config = _write_bundle(service, staging, version)
        os.rmdir(path)  # empty: checked above, made empty here
        os.rename(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created and os.path.isdir(path) and not os.listdir(path):
            os.rmdir(path)
        raise
    logger.debug("saved %s:%s to %s", service.name, version, path)
    return BundleLocation.of(path, config)


def _copy_web_static_content(service: "BentoService", target: str) -> None:
    """The folder ``@web_static_content`` declared, into the bundle; a symlink is copied as
    the file it points to, so the bundle holds everything it serves (and nothing else)."""
    static = type(service)._bento_web_static_content
    if static is None:
        return
    folder = static.folder
    if folder is None:
        raise BundleError(f"@web_static_content({static.declared!r}): the folder is gone "
                          f"(looked for {' and '.join(static.candidates)})")
    try:
        shutil.copytree(folder, target, symlinks=False)
    except shutil.Error as exc:  # one (src, dst, why) per file that could not be copied
        src, _dst, why = exc.args[0][0]
        raise BundleError(f"@web_static_content({static.declared!r}): cannot copy {src}: {why}") from None
    except OSError as exc:
        raise BundleError(f"@web_static_content({static.declared!r}): cannot copy {exc.filename}: "
                          f"{exc.strerror}") from None


def _write_bundle(service: "BentoService", root: str, version: str) -> BundleConfig:
    sources = find_local_sources(type(service).__module__)
    config, wheel_dists = build_config(service, version, sources)
    package = os.path.join(root, service.name)
    src = os.path.join(package, SOURCE_DIR)
    for rel, source in sources.files.items():
        os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
        shutil.copy2(source, os.path.join(src, rel))
    for archive in type(service)._bento_env.zipimport_archives:
        os.makedirs(os.path.join(package, ZIPIMPORTS_DIR), exist_ok=True)
        shutil.copy2(archive, os.path.join(package, ZIPIMPORTS_DIR, os.path.basename(archive)))
    _copy_web_static_content(service, os.path.join(package, WEB_STATIC_CONTENT_DIR))
    artifacts_dir = os.path.join(package, ARTIFACTS_DIR)
    os.makedirs(artifacts_dir)
    for artifact in service.artifacts:
        artifact.save(artifacts_dir)
    wheels_dir = os.path.join(root, WHEELS_DIR)
    for dist in wheel_dists:
        filename = build_wheel(dist, wheels_dir)
        config.wheels.append(WheelRef(dist, importlib_metadata.version(dist), filename))

    config.dump(os.path.join(root, BUNDLE_CONFIG_FILE))
    config.dump(os.path.join(package, BUNDLE_CONFIG_FILE))
    _write(os.path.join(package, "__init__.py"), templates.package_init(config))
    _write(os.path.join(root, "requirements.txt"), templates.requirements_txt(config))
    _write(os.path.join(root, "constraints.txt"), constraints_txt(installed_closure(
        [f"{w.distribution}=={w.version}" for w in config.wheels] + config.env.pip_requirements)))
    _write(os.path.join(root, "environment.yml"), templates.environment_yml(config))
    env = type(service)._bento_env
    if env.setup_sh:
        _write(os.path.join(root, "setup.sh"), env.setup_sh, executable=True)
    _write(os.path.join(root, "Dockerfile"), templates.dockerfile(config))
    _write(os.path.join(root, "docker-entrypoint.sh"), templates.DOCKER_ENTRYPOINT, executable=True)
    _write(os.path.join(root, ".dockerignore"), templates.DOCKERIGNORE)
    _write(os.path.join(root, "setup.py"), templates.setup_py(
        config, [r for r in config.env.pip_requirements if not r.startswith("-")]))
    _write(os.path.join(root, "pyproject.toml"), templates.PYPROJECT_TOML)
    _write(os.path.join(root, "MANIFEST.in"), templates.manifest_in(config))
    _write(os.path.join(root, "README.md"), templates.readme(config))
    return config
