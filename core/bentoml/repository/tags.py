"""``NAME``, ``NAME:latest``, ``NAME:VERSION`` or a path: how every command names a bundle."""
from __future__ import annotations

import os
from typing import Optional, Tuple

from bentoml.bundle.naming import validate_name, validate_version
from bentoml.exceptions import BundleError

LATEST = "latest"


def parse_tag(tag: str) -> Tuple[str, Optional[str]]:
    """``NAME`` -> (NAME, None); ``NAME:VERSION`` or ``NAME:latest`` -> (NAME, VERSION)."""
    name, sep, version = tag.partition(":")
    validate_name(name)
    if not sep:
        return name, None
    if version != LATEST:
        validate_version(version)
    return name, version


def bundle_dir_named(tag_or_path: str) -> Optional[str]:
    """The directory ``tag_or_path`` names when it is a path, None when it is a tag.

    An existing directory wins; something path-like that is not one is an error
    (never looked up as a name).
    """
    expanded = os.path.expanduser(tag_or_path)
    if os.path.isdir(expanded):
        return expanded
    if os.sep in tag_or_path or tag_or_path.startswith("."):
        raise BundleError(f"{tag_or_path} is not a bundle directory")
    return None
