"""``serve`` (development) and ``serve-gunicorn`` (production; the name is kept for
compatibility with the spec, it runs waitress with pre-forked workers)."""
from __future__ import annotations

import sys

import click

from bentoml.cli.common import common_options


def _server_options(func):
    options = [
        click.option("--port", type=int, default=None, help="Port to listen on [env BENTOML_PORT; default 5000]"),
        click.option("--host", default=None, help="Address to bind [env BENTOML_HOST; default 127.0.0.1]"),
        click.option("--enable-microbatch/--disable-microbatch", "enable_microbatch", default=None,
                     help="Batch concurrent requests [env BENTOML_ENABLE_MICROBATCH]"),
        click.option("--mb-max-batch-size", type=click.IntRange(min=1), default=None,
                     help="Most requests per API call [env BENTOML_MB_MAX_BATCH_SIZE; default 64]"),
        click.option("--mb-max-latency", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Latency budget per request in ms [env BENTOML_MB_MAX_LATENCY; default 1000]"),
        click.option("--threads", type=click.IntRange(min=1), default=None,
                     help="Request threads per worker [env BENTOML_THREADS; default 72]"),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Seconds an API call or a graceful stop may take [env BENTOML_TIMEOUT; default 60]"),
        click.option("--max-request-size", type=click.IntRange(min=1), default=None,
                     help="Largest request body in bytes [env BENTOML_MAX_REQUEST_SIZE; default 20 MiB]"),
        click.option("--enable-cors/--disable-cors", "cors", default=None,
                     help="Send CORS headers [env BENTOML_ENABLE_CORS; default off]"),
        click.option("--cpu-affinity/--no-cpu-affinity", "cpu_affinity", default=None,
                     help="With several workers, pin each to its own share of the CPUs "
                          "[env BENTOML_CPU_AFFINITY; default on]"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _serve(bento: str, production: bool, workers, **options) -> None:
    from bentoml.cli.common import show_tracebacks
    from bentoml.cli.run import bundle_path
    from bentoml.server.config import server_config
    from bentoml.server.runner import serve

    show_tracebacks()  # a server logs the traceback of every failed API call

    from bentoml.repository import reset_repository

    # The development server is one process whatever BENTOML_WORKERS says.
    config = server_config(workers=workers if production else 1, **options)
    path = bundle_path(bento)
    reset_repository()  # no database connection may outlive into forked workers
    sys.exit(serve(path, config))


@click.command()
@click.argument("bento")
@click.option("--production", is_flag=True, help="Run the production server (same as serve-gunicorn)")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="With --production: worker processes [env BENTOML_WORKERS; default 1]")
@_server_options
@common_options
def serve(bento: str, production: bool, workers, **options) -> None:
    """Serve a bundle's APIs over HTTP (development server, one process).

    BENTO is a path, NAME, NAME:latest or NAME:VERSION.
    """
    _serve(bento, production, workers, **options)


@click.command(name="serve-gunicorn")
@click.argument("bento")
@click.option("-w", "--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes sharing the port [env BENTOML_WORKERS; default 1]")
@_server_options
@common_options
def serve_gunicorn(bento: str, workers, **options) -> None:
    """Serve a bundle with the production server: pre-forked workers, optional micro-batching.

    The name is kept for compatibility; it runs waitress, not gunicorn.
    """
    _serve(bento, True, workers, **options)


COMMANDS = [serve, serve_gunicorn]
