"""The YataiService's bearer tokens: ``--token-file PATH``, one ``ROLE TOKEN`` a line.

``ROLE`` is ``read`` (list, get, run, serve, retrieve) or ``write`` (also save and
delete).  Blank lines and lines starting with ``#`` are ignored; any other line
that is not two words with a known role is a start-up error naming its line.  The
file holds secrets: one that others may read (``chmod o-rwx``) is refused, not
merely warned about, since a warning scrolls by and the tokens stay exposed.
Tokens are compared in constant time (:func:`hmac.compare_digest`) and never
appear in an error or a log line.
"""
from __future__ import annotations

import hmac
import os
import stat
from typing import List, Optional, Tuple

from bentoml.exceptions import BentoMLException, ConfigurationError

READ, WRITE = "read", "write"
ROLES = (READ, WRITE)
#: Paths answered without a token: the probes (a load balancer has none).
OPEN_PATHS = frozenset({"/healthz", "/livez", "/readyz"})


class Unauthorized(BentoMLException):
    """No token, or one the server does not know (HTTP 401)."""


class Forbidden(BentoMLException):
    """A read token asked to save or delete (HTTP 403)."""


class Tokens:
    """The tokens of a token file and their roles."""

    def __init__(self, entries: List[Tuple[str, str]]):
        # bytes: compare_digest on str refuses non-ASCII text
        self._entries = [(role, token.encode()) for role, token in entries]

    def __len__(self) -> int:
        return len(self._entries)

    def role_of(self, token: Optional[str]) -> Optional[str]:
        """The role of ``token`` (``read``/``write``), None for no or an unknown token.

        Every entry is compared, so the time taken does not say which one matched."""
        if not token:
            return None
        given = token.encode()
        found: Optional[str] = None
        for role, known in self._entries:
            if hmac.compare_digest(given, known) and (found is None or role == WRITE):
                found = role
        return found


def load_tokens(path: str) -> Tokens:
    """The tokens in the file at ``path``; a ConfigurationError (one line) for a bad file."""
    try:
        mode = os.stat(path).st_mode
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read the token file {path}: "
                                 f"{getattr(exc, 'strerror', None) or exc}") from None
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        raise ConfigurationError(f"the token file {path} may be read or written by any user "
                                 f"(mode {stat.S_IMODE(mode):o}); run `chmod o-rwx {path}` (or 600)")
    entries: List[Tuple[str, str]] = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        words = text.split()
        if len(words) != 2 or words[0] not in ROLES:
            # the line itself is not quoted: it may be a token with a typo in its role
            raise ConfigurationError(f"{path} line {number}: expected `ROLE TOKEN` with ROLE "
                                     f"{' or '.join(ROLES)} (got {len(words)} word(s)"
                                     f"{', role ' + repr(words[0]) if words[0] not in ROLES and len(words) == 2 else ''})")
        if not words[1].isprintable():
            raise ConfigurationError(f"{path} line {number}: the token must be printable text")
        entries.append((words[0], words[1]))
    if not entries:
        raise ConfigurationError(f"the token file {path} holds no `ROLE TOKEN` line; "
                                 "a server with no token would refuse everyone")
    return Tokens(entries)


def bearer_token(authorization: str) -> Optional[str]:
    """The token of an ``Authorization: Bearer TOKEN`` header, None for any other header."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def required_role(method: str, path: str) -> Optional[str]:
    """The role ``method path`` needs on the API: None for the probes, ``write`` for a change."""
    if path in OPEN_PATHS:
        return None
    return READ if method in ("GET", "HEAD", "OPTIONS") else WRITE


def check_access(tokens: Optional[Tokens], method: str, path: str, authorization: str) -> None:
    """Raise Unauthorized or Forbidden unless ``authorization`` allows ``method path``."""
    if tokens is None:
        return
    needed = required_role(method, path)
    if needed is None:
        return
    token = bearer_token(authorization)
    if token is None:
        raise Unauthorized("this YataiService needs a token: `bentoml config set yatai_service.token=TOKEN` "
                           "(a token from the server's --token-file)")
    role = tokens.role_of(token)
    if role is None:
        raise Unauthorized("the YataiService does not know this token; check yatai_service.token")
    if needed == WRITE and role != WRITE:
        raise Forbidden("this token may only read: saving and deleting need a write token")
