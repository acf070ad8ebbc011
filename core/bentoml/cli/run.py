"""Commands that load a bundle: ``run`` (offline inference) and ``open-api-spec``."""
from __future__ import annotations

import json
import sys

import click

from bentoml.cli.common import common_options


def bundle_path(bento: str) -> str:
    """See :func:`bentoml.bundle.load.bundle_dir` (imported lazily: ``bentoml --help`` stays fast)."""
    from bentoml.bundle.load import bundle_dir

    return bundle_dir(bento)


def run_api(bundle_dir: str, api_name: str, input_value: str) -> None:
    """Parse ``--input`` with the API's adapter, call the API, print the result to stdout."""
    from bentoml.bundle.load import load_from_dir

    service = load_from_dir(bundle_dir)
    api = service.get_inference_api(api_name)
    task = api.input_adapter.from_cli_input(input_value)
    result = api.handle_batch([task])[0]
    if result.status != 200:
        try:
            message = json.loads(result.body)["error"]
        except (ValueError, KeyError, TypeError):
            message = result.body.decode("utf-8", "replace")
        raise click.ClickException(message)
    sys.stdout.write(result.body.decode("utf-8") + "\n")


input_option = click.option("--input", "input_value", required=True,
                            help="JSON text, or a path to a CSV/JSON file (an existing path wins)")


@click.command()
@click.argument("bento")
@click.argument("api_name")
@input_option
@common_options
def run(bento: str, api_name: str, input_value: str) -> None:
    """Run an API of a bundle once on --input and print the result."""
    run_api(bundle_path(bento), api_name, input_value)


@click.command(name="open-api-spec")
@click.argument("bento")
@common_options
def open_api_spec(bento: str) -> None:
    """Print the OpenAPI 3 document of a bundle's API server."""
    from bentoml.bundle.load import load_from_dir
    from bentoml.openapi import openapi_spec

    click.echo(json.dumps(openapi_spec(load_from_dir(bundle_path(bento))), indent=2))


COMMANDS = [run, open_api_spec]
