"""A progress bar for long copies, shown on stderr only when it is a terminal.

A copy counts its bytes into :class:`CopyProgress`.  The bar (click's) appears
when stderr is a terminal and the copy is large (:data:`LARGE_BYTES` or more)
or slow (still running after :data:`SLOW_SECONDS`); when stderr is a file or a
pipe nothing is written, so scripts and logs stay clean.  ``-q`` (bentoml's
logs set to errors only) hides it too.
"""
from __future__ import annotations

import logging
import sys
import time
from typing import Any, Optional, TextIO

__all__ = ["CopyProgress", "LARGE_BYTES", "SLOW_SECONDS"]

LARGE_BYTES = 50 * 1000 * 1000
SLOW_SECONDS = 1.0
# A terminal line redrawn for every chunk would cost more than the copy.
_REDRAW_SECONDS = 0.1


def _is_terminal(stream: Optional[TextIO]) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # a closed or detached stream
        return False


def _megabytes(done: Optional[int], total: int) -> str:
    return f"{(done or 0) / 1e6:.0f}/{total / 1e6:.0f} MB"


class CopyProgress:
    """Counts the bytes of one copy and draws a bar for it when that is wanted.

    Use as a context manager: ``with CopyProgress("Copying X", total) as p: p.update(n)``.
    """

    def __init__(self, label: str, total_bytes: int, stream: Optional[TextIO] = None):
        self.label = label
        self.total = max(int(total_bytes), 0)
        self.done = 0
        self._stream = sys.stderr if stream is None else stream
        quiet = logging.getLogger("bentoml").getEffectiveLevel() > logging.WARNING
        self._wanted = _is_terminal(self._stream) and not quiet
        self._started = time.monotonic()
        self._bar: Any = None
        self._drawn = 0  # bytes the bar has been told about
        self._last_draw = 0.0

    @property
    def shown(self) -> bool:
        """Whether the bar has been drawn."""
        return self._bar is not None

    def update(self, n_bytes: int) -> None:
        """Count ``n_bytes`` more copied."""
        self.done += n_bytes
        if not self._wanted:
            return
        now = time.monotonic()
        if self._bar is None:
            if self.total < LARGE_BYTES and now - self._started < SLOW_SECONDS:
                return
            import click  # only once a bar is drawn

            total = max(self.total, 1)
            self._bar = click.progressbar(length=total, label=self.label, file=self._stream,
                                          item_show_func=lambda done: _megabytes(done, self.total))
            self._bar.__enter__()
        elif now - self._last_draw < _REDRAW_SECONDS and self.done < self.total:
            return
        self._bar.update(self.done - self._drawn, current_item=self.done)
        self._drawn, self._last_draw = self.done, now

    def close(self) -> None:
        """Finish the bar (its line ends) if one was drawn."""
        if self._bar is not None:
            if self._drawn < self.done:
                self._bar.update(self.done - self._drawn, current_item=self.done)
                self._drawn = self.done
            self._bar.__exit__(None, None, None)

    def __enter__(self) -> "CopyProgress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
