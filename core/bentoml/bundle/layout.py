"""Where things are inside a bundle directory, and :class:`BundleLocation`.

A saved bundle is ``<path>/bentoml.yml`` plus ``<path>/<Name>/`` holding the
service source (``src/``), the artifacts (``artifacts/``) and, for a service
with ``@web_static_content``, its web UI (``web_static_content/``); once the
bundle is pip-installed, its package directory holds them itself.  ``wheels/`` at the top carries our kernel and plugins.
"""
from __future__ import annotations

import os

import attrs

from bentoml.bundle.config import BundleConfig

SOURCE_DIR = "src"
ARTIFACTS_DIR = "artifacts"
WHEELS_DIR = "wheels"
WEB_STATIC_CONTENT_DIR = "web_static_content"
#: ``@env(zipimport_archives=...)``, next to ``src/``
ZIPIMPORTS_DIR = "zipimports"


def data_dir(path: str, name: str) -> str:
    """The directory holding ``src/`` and ``artifacts/``: ``<path>/<name>`` or an installed package."""
    package = os.path.join(path, name)
    return package if os.path.isdir(os.path.join(package, ARTIFACTS_DIR)) else path


@attrs.frozen
class BundleLocation:
    """A bundle a service was saved to or loaded from: its directory and version."""

    path: str
    version: str
    #: the directory holding ``src/`` and ``artifacts/`` (see :func:`data_dir`)
    data_dir: str

    @property
    def source_dir(self) -> str:
        return os.path.join(self.data_dir, SOURCE_DIR)

    @property
    def artifacts_dir(self) -> str:
        return os.path.join(self.data_dir, ARTIFACTS_DIR)

    @property
    def web_static_content_dir(self) -> str:
        return os.path.join(self.data_dir, WEB_STATIC_CONTENT_DIR)

    @property
    def zipimports_dir(self) -> str:
        return os.path.join(self.data_dir, ZIPIMPORTS_DIR)

    @classmethod
    def of(cls, path: str, config: BundleConfig) -> "BundleLocation":
        return cls(path, config.version, data_dir(path, config.name))

    @classmethod
    def read(cls, path: str) -> "BundleLocation":
        """The location of the bundle at ``path``, from its ``bentoml.yml``."""
        return cls.of(path, BundleConfig.load(path))
