"""The conda and Debian packages a bundle installs: the service's own plus what its artifact
classes declare (``conda_dependencies``, ``system_packages``)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, List

from bentoml.exceptions import InvalidArgument

if TYPE_CHECKING:
    from bentoml.service import BentoService


# A Debian package name, optionally with an exact version: all a Dockerfile's apt-get line takes.
_DEBIAN_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:-]+)?$")
_CONDA_NAME = re.compile(r"^(?:[^:]+::)?([A-Za-z0-9_.-]+)")


def _conda_name(spec: str) -> str:
    """``conda-forge::openjdk>=11`` -> ``openjdk``: what two specs must share to clash."""
    match = _CONDA_NAME.match(spec.strip())
    return (match.group(1) if match else spec).lower()


def _artifact_packages(service: "BentoService", attribute: str) -> List[tuple]:
    """(artifact class, package) pairs an artifact class declares in ``attribute``, each class once."""
    pairs = []
    for cls in dict.fromkeys(type(a) for a in service.artifacts):
        declared = getattr(cls, attribute, ())
        if not isinstance(declared, (tuple, list)) or not all(isinstance(p, str) and p.strip()
                                                              for p in declared):
            raise InvalidArgument(f"{cls.__name__}.{attribute} must be a tuple of non-empty strings, "
                                  f"got {declared!r}")
        pairs += [(cls, p.strip()) for p in declared]
    return pairs


def conda_dependencies(service: "BentoService") -> List[str]:
    """The service's ``@env(conda_dependencies=...)``, then each artifact class's that names
    a package the service did not (the service's own spec of a package wins)."""
    merged = list(type(service)._bento_env.conda_dependencies)
    named = {_conda_name(spec) for spec in merged}
    for _cls, spec in _artifact_packages(service, "conda_dependencies"):
        if _conda_name(spec) not in named:
            named.add(_conda_name(spec))
            merged.append(spec)
    return merged


def system_packages(service: "BentoService") -> List[str]:
    """The Debian packages the artifact classes ask the Dockerfile to install, in order, once each."""
    packages: List[str] = []
    for cls, package in _artifact_packages(service, "system_packages"):
        if not _DEBIAN_PACKAGE.match(package):
            raise InvalidArgument(f"{cls.__name__}.system_packages: {package!r} is not a Debian "
                                  "package name (lower-case letters, digits, + . -; optionally =VERSION)")
        if package not in packages:
            packages.append(package)
    return packages
