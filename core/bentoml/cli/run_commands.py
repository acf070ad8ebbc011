"""Commands that load a bundle: ``run`` (offline inference, batch jobs) and ``open-api-spec``."""
from __future__ import annotations

import json
import os
import sys
from typing import Optional, Sequence, Tuple

import click

from bentoml.adapters.cli_input import check_input_text
from bentoml.batch.formats import FORMATS
from bentoml.batch.runner import DEFAULT_CHUNK_SIZE
from bentoml.cli.common import bundle_path, common_options
from bentoml.exceptions import InvalidArgument

BATCH_FORMATS = tuple(FORMATS)


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


def run_batch(bundle_dir: str, api_name: str, input_path: str, output_path: str, chunk_size: int,
              input_format: Optional[str], output_format: Optional[str]) -> None:
    """Stream a table file through an API into ``output_path`` (see :mod:`bentoml.batch`)."""
    from bentoml.batch import needs
    from bentoml.batch.formats import format_of, open_reader, open_writer
    from bentoml.batch.job import run_job
    from bentoml.batch.runner import BatchRunner
    from bentoml.bundle.load import load_from_dir

    try:
        in_fmt = format_of(input_path, input_format, "--input-format")
        out_fmt = format_of(output_path, output_format, "--output-format")
    except InvalidArgument as exc:
        raise click.UsageError(str(exc)) from None
    needs.pandas()  # before loading the models: fail fast
    if "parquet" in (in_fmt, out_fmt):
        needs.pyarrow_parquet()
    reader = open_reader(input_path, in_fmt, chunk_size)
    runner = BatchRunner(load_from_dir(bundle_dir), api_name, chunk_size=chunk_size)
    run_job(runner, reader, open_writer(output_path, out_fmt))


def check_batch_options(input_value: Optional[str], input_files: Sequence, output: Optional[str],
                        options_given: Sequence[str]) -> None:
    """``--output`` takes ``--input PATH|-`` only; the batch options need ``--output``."""
    if output is None:
        if options_given:
            raise click.UsageError(f"{options_given[0]} applies to batch jobs only: give --output too")
        return
    if input_files:
        raise click.UsageError("--output runs a batch job over a table: give --input PATH (or - for stdin), "
                               "not --input-file")
    if input_value is None:
        raise click.UsageError("--output needs --input PATH (a CSV, JSON lines or Parquet file, or - for stdin)")
    if input_value != "-" and not os.path.isfile(os.path.expanduser(input_value)):
        raise click.BadParameter(f"no such file: {input_value} (with --output, --input is a file or -)",
                                 param_hint="--input")


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
@click.option("--output", metavar="PATH",
              help="Run a batch job: stream --input (a CSV, JSON lines or Parquet file, - for stdin) through "
                   "the API in chunks and write one result row per input row to PATH (- for stdout)")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None, metavar="ROWS",
              help=f"Batch jobs: rows per call of the API (default {DEFAULT_CHUNK_SIZE})")
@click.option("--input-format", type=click.Choice(BATCH_FORMATS), default=None,
              help="Batch jobs: the input's format (default: by its extension; CSV for -)")
@click.option("--output-format", type=click.Choice(BATCH_FORMATS), default=None,
              help="Batch jobs: the output's format (default: by its extension; CSV for -)")
@common_options
def run(bento: str, api_name: str, input_value: Optional[str], input_files: Tuple[str, ...],
        output: Optional[str], chunk_size: Optional[int], input_format: Optional[str],
        output_format: Optional[str]) -> None:
    """Run an API of a bundle once on --input or --input-file and print the result.

    With --output, run it as a batch job over a whole table instead: rows are
    read and answered in chunks (bounded memory), results are written in input
    order, and a bad row stops the job naming its number (1-based, header not
    counted); a file output appears only when every row succeeded.
    """
    given = [name for name, value in (("--chunk-size", chunk_size), ("--input-format", input_format),
                                      ("--output-format", output_format)) if value is not None]
    check_batch_options(input_value, input_files, output, given)
    if output is not None:
        run_batch(bundle_path(bento), api_name, input_value, output, chunk_size or DEFAULT_CHUNK_SIZE,
                  input_format, output_format)
        return
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
