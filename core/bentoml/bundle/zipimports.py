"""``@env(zipimport_archives=...)``: zip archives of modules that a bundle carries and loads from.

They are put on ``sys.path`` before the service module is imported, and stay
there: an API function may import from them at call time.
"""
from __future__ import annotations

import os
import sys

from bentoml.bundle.config import BundleConfig
from bentoml.bundle.layout import BundleLocation
from bentoml.exceptions import BundleError


def add_to_sys_path(location: BundleLocation, config: BundleConfig) -> None:
    """Append each archive the bundle carries to ``sys.path`` (once)."""
    for name in config.env.zipimport_archives:
        archive = os.path.join(location.zipimports_dir, name)
        if not os.path.isfile(archive):
            raise BundleError(f"bundle {location.path} is incomplete: its zipimport archive {archive} is missing")
        if archive not in sys.path:
            sys.path.append(archive)
