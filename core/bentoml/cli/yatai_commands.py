"""``yatai-service-start``: the team repository server (:mod:`bentoml.yatai.service`)."""
from __future__ import annotations

import sys

import click

from bentoml.cli.common import common_options
from bentoml.yatai.protocol import DEFAULT_API_PORT, DEFAULT_UI_PORT, DEFAULT_UPLOAD_TIMEOUT

_PORT = click.IntRange(0, 65535)


@click.command(name="yatai-service-start")
@click.option("--db-url", default=None,
              help="Database URL following RFC-1738 (any SQLAlchemy URL; "
                   "postgresql://USER:PASSWORD@HOST:5432/DB for PostgreSQL, through psycopg 3; "
                   "an older bentoml's database is upgraded in place) [default: "
                   "sqlite:///$BENTOML_HOME/storage.db]")
@click.option("--repo-base-url", default=None,
              help="Base URL for storing saved BentoService bundle files: a file system path, or "
                   "s3://BUCKET/PREFIX with bentoml-storage-s3 (credentials, region and endpoint from "
                   "the standard AWS variables and files) [default: $BENTOML_HOME/repository]")
@click.option("--grpc-port", "--api-port", "api_port", type=_PORT, default=DEFAULT_API_PORT, show_default=True,
              help="Port of the YataiService API (HTTP/JSON; the spec's gRPC port, 0 picks a free one)")
@click.option("--ui-port", type=_PORT, default=DEFAULT_UI_PORT, show_default=True,
              help="Port for the Yatai web UI (the repository's pages; a login page with --token-file)")
@click.option("--ui/--no-ui", default=True, show_default=True, help="Start BentoML YataiService without Web UI")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind (0.0.0.0 for a team's network; needs --token-file or --insecure-no-auth)")
@click.option("--token-file", type=click.Path(dir_okay=False), default=None,
              help="File of `ROLE TOKEN` lines (ROLE read or write), not readable by others; "
                   "every request but the probes then needs a bearer token [default: none, "
                   "loopback only]")
@click.option("--insecure-no-auth", is_flag=True, default=False,
              help="Allow binding a non-loopback --host without --token-file (anyone reaching it "
                   "may save and delete)")
@click.option("--upload-timeout", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_UPLOAD_TIMEOUT,
              show_default=True, help="Seconds an upload session may stay idle before it expires and "
                                      "its files are removed")
@common_options
def yatai_service_start(db_url, repo_base_url, api_port, ui_port, ui, host, upload_timeout, token_file,
                        insecure_no_auth) -> None:
    """Start BentoML YataiService for model management and deployment."""
    from bentoml.cli.common import show_tracebacks
    from bentoml.repository import bentoml_home
    from bentoml.yatai.service import YataiOptions, is_loopback, start_yatai_service

    if token_file is None and not insecure_no_auth and not is_loopback(host):
        raise click.UsageError(f"--host {host} serves beyond this machine: give --token-file "
                               "(or --insecure-no-auth to serve anyone without a token)")
    show_tracebacks()  # a server logs the traceback of every failed request
    sys.exit(start_yatai_service(YataiOptions(
        home=bentoml_home(), db_url=db_url, repo_base_url=repo_base_url, host=host, api_port=api_port,
        ui_port=ui_port, ui=ui, upload_timeout=upload_timeout, token_file=token_file)))


COMMANDS = [yatai_service_start]
