"""Where the ``bentoml`` loggers write when nothing else was set up: stderr, from INFO.

A notebook or a training script that configured no logging still sees one
line per save (``Saved IrisClassifier:VERSION to PATH``), as BentoML 0.x
users expect.  Once the application configures logging (a handler on the root
logger), records reach it by propagation and the default handler stays quiet,
so nothing is written twice; the CLI replaces the default with its own handler
(:func:`bentoml.cli.common.configure_logging`).  ``logging.getLogger("bentoml")
.setLevel(logging.WARNING)`` silences the INFO lines.
"""
from __future__ import annotations

import logging
import sys

FORMAT = "[%(asctime)s] %(levelname)s %(name)s: %(message)s"


class StderrUntilConfigured(logging.Handler):
    """Writes to the current ``sys.stderr`` while the root logger has no handler."""

    def emit(self, record: logging.LogRecord) -> None:
        if logging.getLogger().handlers:
            return
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # a closed or broken stderr must not break a save
            self.handleError(record)


def level_number(level: "int | str | None") -> int:
    """``logging.DEBUG``, ``"debug"`` or ``"DEBUG"`` -> 10; None -> INFO; anything else is an InvalidArgument."""
    from bentoml.exceptions import InvalidArgument

    if level is None:
        return logging.INFO
    if isinstance(level, int) and not isinstance(level, bool) and level >= 0:
        return level
    if isinstance(level, str) and isinstance(logging.getLevelName(level.upper()), int):
        return logging.getLevelName(level.upper())
    raise InvalidArgument(f"logging_level must be a logging level such as logging.DEBUG or 'DEBUG', got {level!r}")


def install() -> None:
    """Give the ``bentoml`` logger the default handler, and level INFO unless one was set."""
    root = logging.getLogger("bentoml")
    if any(isinstance(h, StderrUntilConfigured) for h in root.handlers):
        return
    handler = StderrUntilConfigured()
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    if root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def uninstall() -> None:
    """Remove the default handler (a program that set up its own, e.g. the CLI)."""
    root = logging.getLogger("bentoml")
    for handler in [h for h in root.handlers if isinstance(h, StderrUntilConfigured)]:
        root.removeHandler(handler)
