"""Shared CLI pieces: logging options on every command, error handling, output formats."""
from __future__ import annotations

import json
import logging
import os
import sys
import time
import warnings
from datetime import datetime, timezone
from typing import Any, Callable, Optional, Sequence

import click
import yaml

from bentoml import log_defaults
from bentoml.exceptions import BentoMLException

logger = logging.getLogger("bentoml")


class _OneLineErrors(logging.Filter):
    """Turns a record's traceback into one line, unless tracebacks were asked for."""

    keep_tracebacks = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and not self.keep_tracebacks:
            exc = record.exc_info[1]
            record.msg = f"{record.getMessage()}: {type(exc).__name__}: {exc} (--debug shows the traceback)"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


_one_line_errors = _OneLineErrors()


class _Formatter(logging.Formatter):
    """The CLI's log format; the date of ``asctime`` is formatted once a second, not per
    line (a server's access log writes a line per request)."""

    _second: tuple = (None, "")

    def formatTime(self, record: logging.LogRecord, datefmt: Optional[str] = None) -> str:
        if datefmt:
            return super().formatTime(record, datefmt)
        second, text = self._second
        if second != int(record.created):
            second = int(record.created)
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (second, text)
        return self.default_msec_format % (text, record.msecs)


def show_tracebacks() -> None:
    """Keep tracebacks in log records (servers log them; other commands only with --debug)."""
    _one_line_errors.keep_tracebacks = True


def configure_logging(level: int) -> None:
    log_defaults.uninstall()
    root = logging.getLogger("bentoml")
    if not any(getattr(h, "_bentoml_cli", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_Formatter("[%(asctime)s] %(levelname)s %(name)s: %(message)s"))
        handler.addFilter(_one_line_errors)
        handler._bentoml_cli = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.propagate = False
    root.setLevel(level)


#: Python loggers of frameworks that set their own level (TensorFlow's absl, H2O's client).
FRAMEWORK_LOGGERS = ("tensorflow", "absl", "h2o", "py4j", "xgboost")


def quiet_frameworks() -> None:
    """Hide what frameworks warn about: Python warnings (also in processes started
    from here), framework loggers and TensorFlow's native log lines below ERROR."""
    warnings.simplefilter("ignore")
    os.environ["PYTHONWARNINGS"] = "ignore"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger().setLevel(logging.ERROR)
    for name in FRAMEWORK_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def _set_quiet(ctx: click.Context, _param: Any, value: bool) -> None:
    if value:
        configure_logging(logging.ERROR)
        quiet_frameworks()


def _set_verbose(ctx: click.Context, _param: Any, value: bool) -> None:
    if value:
        show_tracebacks()
        configure_logging(logging.DEBUG)


def common_options(func: Callable) -> Callable:
    """``-q/--quiet`` and ``--verbose/--debug``, accepted by the group and every command."""
    func = click.option("--verbose", "--debug", is_flag=True, expose_value=False, is_eager=True,
                        callback=_set_verbose, help="Show debug logs when running the command")(func)
    return click.option("-q", "--quiet", is_flag=True, expose_value=False, is_eager=True,
                        callback=_set_quiet,
                        help="Hide info logs and warnings, the frameworks' warnings included")(func)


class BentoMLGroup(click.Group):
    """Turns our typed errors into one-line messages on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        if not logging.getLogger("bentoml").handlers:
            configure_logging(logging.INFO)
        try:
            return super().invoke(ctx)
        except (BentoMLException, ImportError) as exc:
            logger.debug("command failed", exc_info=True)
            raise click.ClickException(str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # a bug or an environment problem: still no traceback dump
            logger.debug("command failed", exc_info=True)
            raise click.ClickException(
                f"unexpected {type(exc).__name__}: {exc} (run with --debug for the traceback)") from None


def bundle_path(bento: str) -> str:
    """The local bundle directory for a path or tag (:meth:`bentoml.repository.Repository.resolve`)."""
    from bentoml.repository.tags import bundle_dir_named

    # A directory needs no repository: opening one (SQLAlchemy, the database) costs a
    # quarter of a second that a `bentoml run BUNDLE_DIR` batch job would pay for nothing.
    path = bundle_dir_named(bento)
    if path is not None:
        return path
    from bentoml.repository import get_repository  # lazily: `bentoml --help` stays fast

    return get_repository().resolve(bento)


OUTPUT_FORMATS = click.Choice(["table", "wide", "json", "yaml"])


def echo_data(data: Any, fmt: str) -> None:
    if fmt == "yaml":
        click.echo(yaml.safe_dump(data, sort_keys=False).rstrip())
    else:
        click.echo(json.dumps(data, indent=2))


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max([len(h)] + [len(str(r[i])) for r in rows]) for i, h in enumerate(headers)]
    for line in [headers] + list(rows):
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())


_UNITS = [("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)]


def humanize_age(then: datetime, now: datetime | None = None) -> str:
    """``1 day and 22 hours``, ``3 weeks and 4 hours``: the two largest non-zero units."""
    seconds = int(((now or datetime.now(timezone.utc)) - then).total_seconds())
    parts = []
    for unit, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " and ".join(parts[:2]) or "0 seconds"
