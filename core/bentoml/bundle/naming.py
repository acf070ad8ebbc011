"""Bundle names and versions; anything path-like is refused.

Names and versions become directory names under ``$BENTOML_HOME`` and keys in
object stores, so only a safe alphabet is accepted: no ``/``, no ``..``, no
leading dot.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone

from bentoml.exceptions import InvalidArgument

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+\-]{0,127}$")


def is_plain_file_name(name: str) -> bool:
    """A file name a bundle may keep and join to its path: no separator, no ``..``, no leading dot."""
    return isinstance(name, str) and bool(_FILE_NAME.fullmatch(name)) and ".." not in name


def new_version() -> str:
    """``YYYYMMDDHHMMSS_XXXXXX``: UTC time plus six random hex digits."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    return f"{stamp}_{secrets.token_hex(3).upper()}"


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidArgument(
            f"invalid bundle name {name!r}: use a Python identifier (letters, digits, _), "
            "as the service class name")
    return name


def validate_version(version: str) -> str:
    if not isinstance(version, str) or not _VERSION.fullmatch(version) or ".." in version:
        raise InvalidArgument(
            f"invalid version {version!r}: use letters, digits, '_', '-' and '.', "
            "starting with a letter or digit (no '/' or '..')")
    if version.lower() == "latest":  # NAME:latest names the newest version, never this one
        raise InvalidArgument("invalid version 'latest': NAME:latest means the newest version")
    return version
