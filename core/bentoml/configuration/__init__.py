"""bentoml's settings: ``$BENTOML_HOME/bentoml.cfg``, overridden by the environment.

A value is looked up, as BentoML 0.x did, in the environment first
(``BENTOML__YATAI_SERVICE__URL`` for ``yatai_service.url``: double
underscores, upper case), then in the INI file ``$BENTOML_HOME/bentoml.cfg``
(section ``[yatai_service]``, option ``url``), then in the key's default.  An
environment variable set to the empty string overrides the file with "not set"
(``BENTOML__YATAI_SERVICE__URL= bentoml list`` lists the local repository).
The known keys are a table (:data:`bentoml.configuration.keys.KEYS`); any
other key is refused, suggesting the nearest known one.  The file may hold other
sections (a BentoML 0.x file does): they are kept and ignored.

The cache of fetched bundles lives in ``$BENTOML_CACHE_DIR``, or
``$BENTOML_HOME/cache`` (:func:`cache_dir`), so a read-only home still works.

>>> set_config_values({"yatai_service.url": "127.0.0.1:50051"})  # doctest: +SKIP
>>> yatai_service_url()  # doctest: +SKIP
'http://127.0.0.1:50051'
"""
from __future__ import annotations

import os
from typing import Dict, List, Mapping, Optional, Tuple

from bentoml.configuration.config_file import (config_file_path, read_config_file, remove_config_file,
                                               update_config_file)
from bentoml.configuration.keys import KEYS, ConfigKey, lookup_key, parse_size
from bentoml.exceptions import ConfigurationError, InvalidArgument
from bentoml.home import bentoml_home

__all__ = ["config_value", "set_config_values", "unset_config_value", "effective_config",
           "yatai_service_url", "config_file_path", "cache_dir", "cache_max_bytes", "reset_config",
           "unknown_environment_keys", "masked", "KEYS"]

#: Where a value came from, as :func:`effective_config` says it.
ENV, FILE, DEFAULT = "env", "file", "default"
CACHE_DIR_ENV = "BENTOML_CACHE_DIR"
_MASK = "********"


def _raw(spec: ConfigKey) -> Tuple[Optional[str], str]:
    """The text configured for ``spec`` and its source; the file is read only when needed."""
    var = spec.set_env_var()
    if var is not None:
        return (os.environ[var].strip() or None), ENV
    parser = read_config_file()
    if parser.has_option(spec.section, spec.option):
        value = parser.get(spec.section, spec.option).strip()
        if value:
            return value, FILE
    return None, DEFAULT


def masked(key: str, value: Optional[str]) -> Optional[str]:
    """``value`` as it may be shown: a secret key's value (the token) is masked."""
    return _MASK if value and lookup_key(key).secret else value


def _value(spec: ConfigKey) -> Tuple[Optional[str], str]:
    value, source = _raw(spec)
    if value is None:
        return spec.default, source if source == ENV else DEFAULT
    try:
        return spec.validate(value), source
    except InvalidArgument as exc:
        if source == ENV:
            var = spec.set_env_var()
            where, fix = f"from ${var}", f"change or unset {var}"
        else:
            where, fix = f"in {config_file_path()}", (f"fix it with `bentoml config set {spec.name}=...` "
                                                      f"or `bentoml config unset {spec.name}`")
        raise ConfigurationError(f"{spec.name} = {masked(spec.name, value)!r} ({where}) is invalid: "
                                 f"{exc}; {fix}") from None


def config_value(key: str) -> Optional[str]:
    """The value of ``key`` (``section.key``): environment, else file, else default,
    validated and normalized; None when it is unset and has no default.

    An unknown key is an :class:`~bentoml.exceptions.InvalidArgument` suggesting the
    nearest known one; an invalid configured value (or an unreadable file) is a
    :class:`~bentoml.exceptions.ConfigurationError` naming where it was set.
    """
    return _value(lookup_key(key))[0]


def effective_config() -> Dict[str, Tuple[Optional[str], str]]:
    """Every known key -> ``(value, source)``, source ``"env"``, ``"file"`` or ``"default"``
    (value None: unset, no default).  Values are validated as by :func:`config_value`."""
    return {name: _value(spec) for name, spec in KEYS.items()}


def _checked(key: str, value: str) -> Tuple[ConfigKey, str]:
    spec = lookup_key(key)
    if not isinstance(value, str):
        raise InvalidArgument(f"{spec.name}: a value must be a string, not {value!r}")
    if not value.strip():
        raise InvalidArgument(f"{spec.name}: the value is empty; to remove the key use "
                              f"`bentoml config unset {spec.name}`")
    try:
        return spec, spec.validate(value)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{spec.name}: {exc}") from None


def set_config_values(pairs: Mapping[str, str]) -> None:
    """Write ``key -> value`` pairs to ``bentoml.cfg``, normalized, all or none.

    Every key and value is checked before the file is touched (InvalidArgument
    names the first bad one); the write is atomic and serialized with other
    writers (:mod:`bentoml.configuration.config_file`).
    """
    checked = [_checked(key, value) for key, value in pairs.items()]

    def change(parser) -> None:
        for spec, value in checked:
            if not parser.has_section(spec.section):
                parser.add_section(spec.section)
            parser.set(spec.section, spec.option, value)

    if checked:
        update_config_file(change)


def unset_config_value(key: str) -> None:
    """Remove ``key`` from ``bentoml.cfg`` (nothing happens when it is not there); an
    environment override, if any, still applies."""
    spec = lookup_key(key)

    def change(parser) -> None:
        if parser.has_section(spec.section):
            parser.remove_option(spec.section, spec.option)

    if os.path.exists(config_file_path()):
        update_config_file(change)


def reset_config() -> bool:
    """Remove ``bentoml.cfg``: every key back to its default. Whether there was a file."""
    return remove_config_file()


def yatai_service_url() -> Optional[str]:
    """The YataiService URL (``http://host:port`` for a bare ``host:port``), or None: local mode."""
    return config_value("yatai_service.url")


def cache_dir() -> str:
    """The root of the client's cache of fetched bundles: ``$BENTOML_CACHE_DIR`` or
    ``$BENTOML_HOME/cache``."""
    configured = os.environ.get(CACHE_DIR_ENV, "").strip()
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    return os.path.join(bentoml_home(), "cache")


def cache_max_bytes() -> int:
    """``cache.max_size`` in bytes."""
    return parse_size(config_value("cache.max_size") or KEYS["cache.max_size"].default or "0")


def unknown_environment_keys() -> List[str]:
    """The ``BENTOML__SECTION__KEY`` variables set in the environment that name no known key
    (BentoML 0.x had many more), each with a hint; they are ignored."""
    known = {spec.env_var: name for name, spec in KEYS.items()}
    found = []
    for var in sorted(os.environ):
        if var.startswith("BENTOML__") and var not in known:
            section, _, option = var[len("BENTOML__"):].partition("__")
            try:
                lookup_key(f"{section.lower()}.{option.lower()}")
            except InvalidArgument as exc:
                found.append(f"{var}: {str(exc).replace('unknown configuration key', 'names the unknown key')}")
    return found
