"""Request ids: the client's ``X-Request-Id`` when it is safe to echo, else a fresh one."""
from __future__ import annotations

import itertools
import os
import re
import secrets

#: What a client's id may look like to be echoed (no header or log injection).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class RequestIds:
    """Unique request ids without a syscall per request: a random per-process prefix and a counter.

    >>> ids = RequestIds()
    >>> ids.next("client-id.42")
    'client-id.42'
    >>> len(ids.next("evil id <script>"))
    32
    """

    def __init__(self) -> None:
        self._pid = -1
        self._prefix = ""
        self._counter = itertools.count()

    def next(self, incoming: str = "") -> str:
        """``incoming`` when it is a safe id, else a new one (32 hex digits, like a uuid4)."""
        if incoming and REQUEST_ID.match(incoming):
            return incoming
        if self._pid != os.getpid():  # a forked worker draws its own prefix
            self._pid, self._prefix = os.getpid(), secrets.token_hex(8)
        return f"{self._prefix}{next(self._counter):016x}"
