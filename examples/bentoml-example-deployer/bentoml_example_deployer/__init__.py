"""A deployment target that packs a bundle into a ``.tar.gz``, and ``bentoml tarball`` to run it.

    bentoml tarball IrisClassifier:latest --output-dir dist/
"""
import os
import tarfile

import click

from bentoml.deployer import Deployer, check_bundle
from bentoml.hookspecs import hookimpl


class TarballDeployer(Deployer):
    """Builds ``NAME-VERSION.tar.gz`` of a bundle, ready to copy to a machine without a repository."""

    name = "tarball"

    def build(self, bundle_path, output_dir=".", **options):
        config = check_bundle(bundle_path)
        os.makedirs(output_dir, exist_ok=True)
        archive = os.path.join(os.path.abspath(output_dir), f"{config.name}-{config.version}.tar.gz")
        partial = archive + ".partial"
        with tarfile.open(partial, "w:gz") as tar:  # renamed when complete: no half archive
            tar.add(bundle_path, arcname=f"{config.name}-{config.version}")
        os.replace(partial, archive)
        return archive


@hookimpl
def register_deployers(register):
    register(TarballDeployer, TarballDeployer.name)


@hookimpl
def register_commands(cli):
    @cli.command()
    @click.argument("bento")
    @click.option("-o", "--output-dir", default=".", show_default=True, help="Where to write the archive")
    def tarball(bento, output_dir):
        """Pack a bundle (a path, NAME:VERSION or NAME:latest) into NAME-VERSION.tar.gz."""
        from bentoml.repository import get_repository

        click.echo(TarballDeployer().build(get_repository().resolve(bento), output_dir))
