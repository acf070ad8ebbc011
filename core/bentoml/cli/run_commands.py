"""Commands that load a bundle: ``run`` (offline inference) and ``open-api-spec``."""
from __future__ import annotations

import json
import os
import sys
from typing import Optional, Sequence, Tuple

import click

from bentoml.adapters.cli_input import check_input_text
from bentoml.cli.common import bundle_path, common_options
from bentoml.exceptions import InvalidArgument

def parse_input_file(value: str) -> Tuple[Optional[str], str]:
    """``PATH`` or ``NAME=PATH`` -> ``(NAME or None, PATH)``; the file must exist.

    An existing path wins, so a file whose name contains ``=`` needs no escaping.
    """
    if os.path.isfile(os.path.expanduser(value)):
        return None, value
    name, sep, path = value.partition("=")
    if sep and name and "/" not in name and os.sep not in name:
        if not os.path.isfile(os.path.expanduser(path)):
            raise InvalidArgument(f"--input-file {value}: no such file {path!r}")
        return name, path
    raise InvalidArgument(f"--input-file {value}: no such file {value!r}")


def check_one_input(input_value: Optional[str], input_files: Sequence) -> None:
    """Exactly one of ``--input`` and ``--input-file`` must be given."""
    if (input_value is None) == (not input_files):
        raise click.UsageError("give exactly one of --input or --input-file")


def run_api(bundle_dir: str, api_name: str, input_value: Optional[str] = None,
            input_files: Sequence[Tuple[Optional[str], str]] = ()) -> None:
    """Parse ``--input`` or ``--input-file`` with the API's adapter, call the API, print the result."""
    from bentoml.bundle.load import load_from_dir

    check_one_input(input_value, input_files)
    service = load_from_dir(bundle_dir)
    api = service.get_inference_api(api_name)
    if input_files:
        task = api.input_adapter.from_cli_files(list(input_files))
    else:
        task = api.input_adapter.from_cli_input(input_value)
    result = api.handle_batch([task])[0]
    if result.status != 200:
        try:
            message = json.loads(result.body)["error"]
        except (ValueError, KeyError, TypeError):
            message = result.body.decode("utf-8", "replace")
        raise click.ClickException(message)
    sys.stdout.write(result.body.decode("utf-8") + "\n")


input_option = click.option("--input", "input_value",
                            help="JSON text, or a path to a CSV/JSON file (an existing path wins)")
input_file_option = click.option(
    "--input-file", "input_files", multiple=True, metavar="[NAME=]PATH",
    help="A file to send as the request body (images, files); repeat it, or give NAME=PATH, "
         "to send several files as multipart/form-data fields (MultiImageInput's input_names)")


@click.command()
@click.argument("bento")
@click.argument("api_name")
@input_option
@input_file_option
@common_options
def run(bento: str, api_name: str, input_value: Optional[str], input_files: Tuple[str, ...]) -> None:
    """Run an API of a bundle once on --input or --input-file and print the result."""
    check_one_input(input_value, input_files)
    if input_value is not None:  # before loading the bundle: fail fast
        check_input_text(input_value)
    files = [parse_input_file(v) for v in input_files]
    run_api(bundle_path(bento), api_name, input_value, files)


@click.command(name="open-api-spec")
@click.argument("bento")
@common_options
def open_api_spec(bento: str) -> None:
    """Print the OpenAPI 3 document of a bundle's API server (its models are not loaded)."""
    from bentoml.bundle.load import load_from_dir
    from bentoml.openapi import openapi_spec

    # The document needs the APIs and the recorded input schemas only: reading
    # gigabytes of weights for it would make the command as slow as a server start.
    service = load_from_dir(bundle_path(bento), artifact_filter=lambda _artifact: False)
    click.echo(json.dumps(openapi_spec(service), indent=2))


COMMANDS = [run, open_api_spec]
