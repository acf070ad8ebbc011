"""The configuration keys bentoml knows: one row each (default, one-line doc, validator).

A key is spelled ``section.key`` (``yatai_service.url``): the section and option
of ``$BENTOML_HOME/bentoml.cfg``, and ``BENTOML__SECTION__KEY`` in the
environment.  A validator takes the text as written and returns it normalized,
or raises :class:`~bentoml.exceptions.InvalidArgument` saying what is wrong.
Adding a key is adding a row to :data:`KEYS` (and to the README's table, which
a meta-test compares with this one).
"""
from __future__ import annotations

import difflib
import ipaddress
import os
import re
from typing import Callable, Dict, Optional, Tuple
from urllib.parse import urlsplit

import attrs

from bentoml.exceptions import InvalidArgument

__all__ = ["ConfigKey", "KEYS", "lookup_key", "env_var_name", "parse_size"]


@attrs.frozen
class ConfigKey:
    """One known key: ``name`` (``section.key``), its default, a one-line doc and a validator."""

    name: str
    default: Optional[str]
    doc: str
    validate: Callable[[str], str]
    #: shown masked by ``bentoml config view`` and ``view-effective``
    secret: bool = False
    #: more environment variables that override the file, after :attr:`env_var`
    env_aliases: Tuple[str, ...] = ()

    @property
    def section(self) -> str:
        """``yatai_service`` of ``yatai_service.url``: the INI section."""
        return self.name.split(".", 1)[0]

    @property
    def option(self) -> str:
        """``url`` of ``yatai_service.url``: the option in its section."""
        return self.name.split(".", 1)[1]

    @property
    def env_var(self) -> str:
        """The environment variable that overrides the file (``BENTOML__YATAI_SERVICE__URL``)."""
        return env_var_name(self.name)

    def set_env_var(self) -> Optional[str]:
        """The first of :attr:`env_var` and :attr:`env_aliases` that is set, or None."""
        return next((var for var in (self.env_var, *self.env_aliases) if var in os.environ), None)


def env_var_name(key: str) -> str:
    """``yatai_service.url`` -> ``BENTOML__YATAI_SERVICE__URL`` (BentoML 0.x's spelling)."""
    section, _, option = key.partition(".")
    return f"BENTOML__{section.upper()}__{option.upper()}"


_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def _check_host(host: str, value: str) -> None:
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
            return
        except ValueError:
            pass
    elif _HOST.match(host):
        return
    raise InvalidArgument(f"{value!r} is not a server address: {host!r} is not a host name or IP address")


def _check_port(port: str, value: str) -> None:
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidArgument(f"{value!r} is not a server address: the port {port!r} is not a number "
                              "from 1 to 65535")


def validate_url(value: str) -> str:
    """A YataiService address: ``host:port`` (meaning ``http://host:port``) or an
    ``http://`` / ``https://`` URL (a path is kept, for a server behind a proxy; the
    trailing ``/`` is dropped).  Credentials in the URL are refused: use the token key."""
    text = value.strip()
    if not text:
        raise InvalidArgument("the server address is empty")
    if "://" not in text:
        host, sep, port = text.rpartition(":")
        if not sep or not host:
            raise InvalidArgument(f"{value!r} is not a server address: give HOST:PORT "
                                  "(e.g. 127.0.0.1:50051) or an http:// or https:// URL")
        _check_host(host, value)
        _check_port(port, value)
        return f"http://{host}:{port}"
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidArgument(f"{value!r} is not a server address: the scheme must be http or https, "
                              f"not {parts.scheme!r} (YataiService speaks HTTP; 0.x's gRPC is not supported)")
    if "@" in parts.netloc:
        raise InvalidArgument(f"{value!r}: do not put credentials in the URL; "
                              "set yatai_service.token instead")
    if parts.query or parts.fragment:
        raise InvalidArgument(f"{value!r} is not a server address: it has a query or fragment")
    if any(c.isspace() for c in text):
        raise InvalidArgument(f"{value!r} is not a server address: it contains a space")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 0 < port < 65536:
        raise InvalidArgument(f"{value!r} is not a server address: the port is not a number from 1 to 65535")
    if not parts.hostname:
        raise InvalidArgument(f"{value!r} is not a server address: it names no host")
    _check_host(f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname, value)
    return f"{parts.scheme.lower()}://{parts.netloc}{parts.path.rstrip('/')}"


def validate_ca_bundle(value: str) -> str:
    """An existing, readable PEM file of CA certificates; returned as an absolute path."""
    path = os.path.abspath(os.path.expanduser(value.strip()))
    if not value.strip():
        raise InvalidArgument("the CA bundle path is empty")
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError as exc:
        raise InvalidArgument(f"cannot read the CA bundle {path}: {exc.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in head:
        raise InvalidArgument(f"{path} is not a PEM file of CA certificates "
                              "(no '-----BEGIN CERTIFICATE-----' line)")
    return path


def validate_token(value: str) -> str:
    """A bearer token: printable, no spaces."""
    text = value.strip()
    if not text or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidArgument("the token must be non-empty printable text without spaces")
    return text


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_UNITS = {"": 1, "b": 1, "kb": 10 ** 3, "mb": 10 ** 6, "gb": 10 ** 9, "tb": 10 ** 12,
          "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
          "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}


def parse_size(value: str) -> int:
    """Bytes in ``10GiB``, ``500MB``, ``1.5 GB``, ``4096`` (KB/MB/GB/TB are powers of 1000,
    KiB/MiB/GiB/TiB and K/M/G/T powers of 1024)."""
    match = _SIZE.match(value) if isinstance(value, str) else None
    if match is None or match.group(2).lower() not in _UNITS:
        raise InvalidArgument(f"{value!r} is not a size: write bytes or a number with a unit, "
                              "e.g. 10GiB, 500MB")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _validate_size(value: str) -> str:
    parse_size(value)
    return value.strip()


#: Every known key, in the order ``bentoml config view-effective`` shows them.
KEYS: Dict[str, ConfigKey] = {key.name: key for key in [
    ConfigKey("yatai_service.url", None,
              "The team's YataiService (HOST:PORT means http://HOST:PORT); unset: the local repository",
              validate_url),
    ConfigKey("yatai_service.ca_bundle", None,
              "A PEM file of the CA certificates that sign an https:// server's certificate",
              validate_ca_bundle),
    ConfigKey("yatai_service.token", None,
              "The token sent to the YataiService (`view` masks it)", validate_token, secret=True,
              env_aliases=("BENTOML_YATAI_TOKEN",)),
    ConfigKey("cache.max_size", "10GiB",
              "How much the cache of fetched bundles keeps before evicting the least recently used",
              _validate_size),
]}


def lookup_key(key: str) -> ConfigKey:
    """The known key ``key`` names; otherwise InvalidArgument suggesting the nearest one."""
    if not isinstance(key, str):
        raise InvalidArgument(f"a configuration key must be a string, not {key!r}")
    found = KEYS.get(key.strip().lower())
    if found is not None:
        return found
    close = difflib.get_close_matches(key.strip().lower(), list(KEYS), n=1, cutoff=0.6)
    if close:
        raise InvalidArgument(f"unknown configuration key {key!r}; did you mean {close[0]!r}?")
    raise InvalidArgument(f"unknown configuration key {key!r}; known keys: {', '.join(KEYS)}")
