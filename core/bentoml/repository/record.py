"""``BundleRecord``: one saved bundle as a repository lists it."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict

import attrs


@attrs.frozen
class BundleRecord:
    """A ready bundle as the repository lists it; ``config`` is its ``bentoml.yml`` as a dict."""

    seq: int
    name: str
    version: str
    uri: str
    uri_type: str
    created_at: datetime
    config: Dict[str, Any]

    @property
    def tag(self) -> str:
        return f"{self.name}:{self.version}"


@attrs.frozen
class ServiceSummary:
    """One service in a repository: its latest version, how many it has, and when it was last saved."""

    name: str
    latest_version: str
    versions: int
    last_saved: datetime
