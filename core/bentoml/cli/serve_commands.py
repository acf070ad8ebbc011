"""``serve`` (development) and ``serve-gunicorn`` (production; the name is kept for
compatibility with the spec, it runs waitress with pre-forked workers).

Their server options are generated from :class:`~bentoml.server.config.ServerConfig`
(``SERVER_OPTIONS``): flag, type, bounds and the ``[env BENTOML_X; default Y]``
part of each help text come from there, never repeated here.
"""
from __future__ import annotations

import sys
from typing import Callable, Dict, Optional

import attrs
import click

from bentoml.cli.common import common_options
from bentoml.server.config import SERVER_OPTIONS, ServerOption


class _OrAuto(click.ParamType):
    """``base``'s values or ``auto``, which the option computes when it is read (``--workers auto``)."""

    def __init__(self, base: click.ParamType, option: ServerOption) -> None:
        self.base, self.option = base, option
        self.name = f"{base.name}|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, str) and value.strip().lower() == "auto":
            return self.option.auto()
        return self.base.convert(value, param, ctx)


def _click_type(option: ServerOption):
    if option.auto is not None:
        base = _click_type(attrs.evolve(option, auto=None))
        return _OrAuto(click.types.convert_type(base), option)
    bounded = option.minimum is not None or option.maximum is not None
    if option.kind is int:
        return click.IntRange(min=option.minimum, max=option.maximum, min_open=option.min_open) if bounded else int
    if option.kind is float:
        return (click.FloatRange(min=option.minimum, max=option.maximum, min_open=option.min_open)
                if bounded else float)
    return None  # str, or a boolean flag pair


def _click_option(option: ServerOption, help: Optional[str] = None, short: Optional[str] = None) -> Callable:
    if option.off_flag:
        flags = [f"{option.flag}/{option.off_flag}"]
    else:
        flags = [short, option.flag] if short else [option.flag]
    # default None: an option not given leaves the BENTOML_* variable or the config default in charge
    return click.option(*flags, option.name, type=_click_type(option), default=None,
                        help=option.help_text(help))


def server_option(name: str, help: Optional[str] = None) -> Callable:
    """The click option of server option ``name`` (a :class:`ServerConfig` field) as ``serve``
    has it: flag, bounds, ``[env BENTOML_X; default Y]``; for commands that pass server
    settings on to a server elsewhere (``bentoml deploy TARGET``).  Not given, it is None."""
    [option] = [option for option in SERVER_OPTIONS if option.name == name]
    return _click_option(option, help)


def _server_options(**overrides: Dict[str, str]) -> Callable:
    """Every server option as a click option; ``overrides[name]`` gives that option's
    ``help`` text or ``short`` flag for one command."""
    def decorate(func: Callable) -> Callable:
        for option in reversed(SERVER_OPTIONS):
            func = _click_option(option, **overrides.get(option.name, {}))(func)
        return func
    return decorate


def _serve(bento: str, production: bool, workers, **options) -> None:
    from bentoml.cli.common import bundle_path, show_tracebacks
    from bentoml.repository import reset_repository
    from bentoml.server.config import server_config
    from bentoml.server.runner import serve

    show_tracebacks()  # a server logs the traceback of every failed API call

    # The development server is one process whatever BENTOML_WORKERS says.
    config = server_config(workers=workers if production else 1, **options)
    if config.access_log is None:  # neither --access-log/--no-access-log nor BENTOML_ACCESS_LOG
        config.access_log = production
    path = bundle_path(bento)
    reset_repository()  # no database connection may outlive into forked workers
    sys.exit(serve(path, config))


@click.command()
@click.argument("bento")
@click.option("--production", is_flag=True, help="Run the production server (same as serve-gunicorn)")
@_server_options(workers={"help": "With --production: worker processes"})
@common_options
def serve(bento: str, production: bool, workers, **options) -> None:
    """Serve a bundle's APIs over HTTP (development server, one process).

    BENTO is a path, NAME, NAME:latest or NAME:VERSION.
    """
    _serve(bento, production, workers, **options)


@click.command(name="serve-gunicorn")
@click.argument("bento")
@_server_options(workers={"short": "-w"})
@common_options
def serve_gunicorn(bento: str, workers, **options) -> None:
    """Serve a bundle with the production server: pre-forked workers, optional micro-batching.

    The name is kept for compatibility; it runs waitress, not gunicorn.
    """
    _serve(bento, True, workers, **options)


COMMANDS = [serve, serve_gunicorn]
