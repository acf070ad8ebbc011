"""What must hold before a service is saved, checked once for every way of saving it."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Optional

from bentoml.bundle.naming import new_version, validate_name, validate_version
from bentoml.exceptions import ArtifactNotPacked, InvalidArgument

if TYPE_CHECKING:
    from bentoml.service import BentoService


def check_service_module(cls: type) -> None:
    """The spec's rule: a service class cannot live in ``__main__``."""
    if cls.__module__ == "__main__" or cls.__module__ not in sys.modules:
        raise InvalidArgument(
            f"BentoService class {cls.__name__} is defined in the __main__ module; it can not be "
            "saved from there. Put the class in its own Python file (in Jupyter: %%writefile "
            "my_service.py) and import it, then pack and save.")


def fresh_version(service: "BentoService") -> str:
    """A new version for ``service``: ``YYYYMMDDHHMMSS_XXXXXX``, after ``MAJOR.MINOR.`` with ``@ver``."""
    declared = getattr(type(service), "_bento_ver", None)
    return (f"{declared[0]}.{declared[1]}." if declared else "") + new_version()


def check_saveable(service: "BentoService", version: Optional[str] = None) -> str:
    """Raise naming what stops ``service`` from being saved; return the version to save
    it as (``version`` validated, or a new one)."""
    check_service_module(type(service))
    validate_name(service.name)
    version = validate_version(version) if version is not None else fresh_version(service)
    static = type(service)._bento_web_static_content
    if static is not None and static.folder is None:
        raise InvalidArgument(f"cannot save {service.name}: @web_static_content({static.declared!r}) names no "
                              f"folder (looked for {' and '.join(static.candidates)})")
    unpacked = [a.name for a in service.artifacts if not a.is_packed]
    if unpacked:
        raise ArtifactNotPacked(
            f"cannot save {service.name}: artifact(s) {', '.join(unpacked)} not packed; "
            f"call service.pack(name, model) for each")
    return version
