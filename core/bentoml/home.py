"""Where this process keeps its state: ``$BENTOML_HOME`` (``~/bentoml`` by default).

Its own module, so that both the repository and the configuration (which the
repository reads to choose a remote server) can use it without importing each other.
"""
from __future__ import annotations

import os

__all__ = ["bentoml_home"]


def bentoml_home() -> str:
    """The absolute path of ``$BENTOML_HOME`` (``~/bentoml`` when unset); it may not exist yet."""
    return os.path.abspath(os.path.expanduser(os.environ.get("BENTOML_HOME", "~/bentoml")))
