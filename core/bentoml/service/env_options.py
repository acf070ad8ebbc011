"""Checking the ``@bentoml.env`` options that BentoML 0.9-0.13 added.

``pip_index_url``, ``pip_extra_index_url`` and ``pip_trusted_host`` become
option lines of the bundle's ``requirements.txt`` (which its Dockerfile
installs); ``conda_env_yml_file`` is the base of its ``environment.yml``;
``zipimport_archives`` are copied into the bundle and put on ``sys.path``
when it loads.  Each value ends up in a generated file, so anything that could
break out of its line (whitespace, a newline) is refused here.
"""
from __future__ import annotations

import os
import re
import zipfile
from typing import Any, Dict, List, Optional, Sequence, Union

import yaml

from bentoml.bundle.naming import is_plain_file_name
from bentoml.exceptions import InvalidArgument

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^\s]+$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
#: Keys of a conda environment file that describe one machine, not the environment.
_MACHINE_KEYS = ("name", "prefix")


def _strings(option: str, value: Union[None, str, Sequence[str]]) -> List[str]:
    if value is None:
        return []
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise InvalidArgument(f"@env({option}=...) takes a string or a list of strings, got {value!r}")
    return list(values)


def index_url(option: str, value: Optional[str]) -> Optional[str]:
    """A package index URL (``https://...``), or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not _URL.fullmatch(value):
        raise InvalidArgument(f"@env({option}=...) must be a URL such as https://pypi.example.com/simple, "
                              f"got {value!r}")
    return value


def index_urls(option: str, value: Union[None, str, Sequence[str]]) -> List[str]:
    return [index_url(option, v) for v in _strings(option, value)]  # type: ignore[misc]


def trusted_hosts(value: Union[None, str, Sequence[str]]) -> List[str]:
    hosts = _strings("pip_trusted_host", value)
    for host in hosts:
        if not _HOST.fullmatch(host):
            raise InvalidArgument(f"@env(pip_trusted_host=...) must be a host name, optionally with :PORT, "
                                  f"got {host!r}")
    return hosts


def _is_dependency(entry: Any) -> bool:
    if isinstance(entry, str):
        return bool(entry.strip())
    return (isinstance(entry, dict) and list(entry) == ["pip"] and isinstance(entry["pip"], list)
            and all(isinstance(p, str) for p in entry["pip"]))


def read_conda_env_file(path: str) -> Dict[str, Any]:
    """The content of a conda ``environment.yml`` (without ``name`` and ``prefix``), checked."""
    if not os.path.isfile(path):
        raise InvalidArgument(f"@env(conda_env_yml_file=...): {path} does not exist")
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"@env(conda_env_yml_file=...): {path} is not valid YAML ({exc})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidArgument(f"@env(conda_env_yml_file=...): {path} must hold a mapping "
                              "(channels:, dependencies:), got " + type(data).__name__)
    channels = data.get("channels", [])
    if not isinstance(channels, list) or not all(isinstance(c, str) and c.strip() for c in channels):
        raise InvalidArgument(f"@env(conda_env_yml_file=...): {path}: channels must be a list of names")
    dependencies = data.get("dependencies", [])
    if not isinstance(dependencies, list) or not all(_is_dependency(d) for d in dependencies):
        raise InvalidArgument(f"@env(conda_env_yml_file=...): {path}: dependencies must be a list of "
                              "package specs and at most a '- pip: [...]' list")
    return {k: v for k, v in data.items() if k not in _MACHINE_KEYS}


def zipimport_archives(base_dir: str, value: Union[None, str, Sequence[str]]) -> List[str]:
    """Absolute paths of existing zip archives (``.zip``, ``.egg``), each file name once."""
    paths = [os.path.abspath(os.path.join(base_dir, os.path.expanduser(p)))
             for p in _strings("zipimport_archives", value)]
    seen: Dict[str, str] = {}
    for path in paths:
        if not os.path.isfile(path) or not zipfile.is_zipfile(path):
            raise InvalidArgument(f"@env(zipimport_archives=...): {path} is not a zip archive")
        name = os.path.basename(path)
        if not is_plain_file_name(name):
            raise InvalidArgument(f"@env(zipimport_archives=...): rename {path}: a bundle keeps archives "
                                  "named with letters, digits and _ . + - only")
        if name in seen:
            raise InvalidArgument(f"@env(zipimport_archives=...): {seen[name]} and {path} have the same "
                                  "file name; the bundle keeps them side by side, rename one")
        seen[name] = path
    return paths
