"""``bentoml containerize``: a bundle's container image, with whichever engine is present."""
from __future__ import annotations

from typing import Optional, Tuple

import click

from bentoml.cli.common import common_options
from bentoml_deployer_docker.engines import ENGINES


def _check_tag(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    """A name no engine takes is a usage error (exit 2), before any work."""
    from bentoml_deployer_docker.checks import normalize_image

    if value is None:
        return None
    try:
        normalize_image(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


@click.command()
@click.argument("bento")
@click.option("-t", "--tag", callback=_check_tag,
              help="Image name NAME[:TAG] (lower-cased); default: the service's name and version")
@click.option("--push", is_flag=True, help="Push the image to the registry its name says, after building")
@click.option("--backend", type=click.Choice(ENGINES),
              help="Container engine; default: the first of docker, podman, buildah installed")
@click.option("--wheelhouse", is_flag=True,
              help="Put wheels of every requirement into the build context first: the build needs no index")
@click.option("--ignore-conda", is_flag=True,
              help="Build although the bundle declares conda packages (your docker_base_image has them)")
@click.option("--base-image", metavar="IMAGE",
              help="Build FROM this image instead of the bundle's docker_base_image (a mirror, a conda image)")
@click.option("--build-option", "build_options", multiple=True, metavar="ARG",
              help="An argument for the engine's build, e.g. --build-option=--network=host (repeatable)")
@common_options
def containerize(bento: str, tag: Optional[str], push: bool, backend: Optional[str], wheelhouse: bool,
                 ignore_conda: bool, base_image: Optional[str], build_options: Tuple[str, ...]) -> None:
    """Build the container image of BENTO (a path, NAME:VERSION or NAME:latest) and print its name.

    The image serves the bundle's APIs on port 5000 as an unprivileged user; arguments
    after the image name that start with '-' go to the server
    (`docker run -p 5000:5000 IMAGE --workers 2`).
    """
    from bentoml.cli.common import bundle_path
    from bentoml_deployer_docker.deployer import DockerDeployer

    image = DockerDeployer().build(bundle_path(bento), tag=tag, push=push, backend=backend,
                                   wheelhouse=wheelhouse, ignore_conda=ignore_conda,
                                   base_image=base_image, build_options=build_options)
    click.echo(image)
