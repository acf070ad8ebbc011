"""What the plugin registry records: one registered name, one failed plugin, one loaded plugin."""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import attrs


@attrs.frozen
class Registration:
    """One name registered by one plugin, with the BentoML 0.x paths it declared for it."""

    kind: str
    name: str
    obj: object
    distribution: str
    version: Optional[str]
    plugin: str
    #: See :mod:`bentoml.plugins.legacy_paths`.
    legacy_paths: Tuple[str, ...] = ()


@attrs.frozen
class PluginFailure:
    """A plugin that could not be loaded, whose hooks do not match the specs, or whose hook raised."""

    plugin: str
    distribution: str
    error: str


@attrs.frozen
class PluginInfo:
    """What ``bentoml plugins`` shows for one loaded plugin."""

    plugin: str
    distribution: str
    version: Optional[str]
    registers: Dict[str, List[str]]
