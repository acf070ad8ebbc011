"""Whether the service module being imported comes from a saved bundle.

``@bentoml.env`` reads files next to the service module (``requirements_txt_file``,
``setup_sh``, ``conda_env_yml_file``, ``zipimport_archives``) when a service is
defined, and refuses missing ones.  A bundle's copy of the module runs without
them: what they gave is already in the bundle (``bentoml.yml``, ``setup.sh``,
``zipimports/``), so while a bundle loads the decorator does not look for them.
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator, Optional

_bundle: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("bentoml_bundle_loading", default=None)


@contextlib.contextmanager
def importing_bundle(path: str) -> Iterator[None]:
    """Mark the imports inside the block as those of the bundle at ``path``."""
    token = _bundle.set(path)
    try:
        yield
    finally:
        _bundle.reset(token)


def bundle_being_loaded() -> Optional[str]:
    """The path of the bundle whose modules are being imported, or None."""
    return _bundle.get()
