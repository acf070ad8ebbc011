"""The command a pip-installed bundle provides, named after its service.

    IrisClassifier run predict --input='[[5.1, 3.5, 1.4, 0.2]]'
    ImageClassifier run predict --input-file cat.png
"""
from __future__ import annotations

import json
from typing import List, Optional

import click

from bentoml.cli.common import BentoMLGroup, common_options


def main(bundle_dir: str, args: Optional[List[str]] = None) -> None:
    from bentoml.bundle.config import BundleConfig
    from bentoml.cli.run_commands import input_file_option, input_option

    name = BundleConfig.load(bundle_dir).name

    @click.group(cls=BentoMLGroup, help=f"The {name} prediction service (a BentoML bundle).")
    @common_options
    def group() -> None: ...

    @group.command()
    @click.argument("api_name")
    @input_option
    @input_file_option
    @common_options
    def run(api_name: str, input_value: Optional[str], input_files: tuple) -> None:
        """Run an API once on --input or --input-file and print the result."""
        from bentoml.cli.run_commands import check_one_input, parse_input_file, run_api

        check_one_input(input_value, input_files)
        run_api(bundle_dir, api_name, input_value, [parse_input_file(v) for v in input_files])

    @group.command()
    @common_options
    def info() -> None:
        """Print the bundle's bentoml.yml as JSON."""
        click.echo(json.dumps(BundleConfig.load(bundle_dir).to_dict(), indent=2))

    group(args=args, prog_name=name)
