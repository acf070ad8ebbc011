"""``DockerDeployer``: the ``docker`` target, which builds a bundle's container image."""
from __future__ import annotations

import logging
from typing import Optional, Sequence

from bentoml.deployer import Deployer, check_bundle

from bentoml_deployer_docker.checks import image_name, python_mismatch, refuse_conda
from bentoml_deployer_docker.context import build_context
from bentoml_deployer_docker.engines import find_engine

logger = logging.getLogger(__name__)


class DockerDeployer(Deployer):
    """Builds (and optionally pushes) the image of a bundle's Dockerfile with docker, podman or buildah.

    ``DockerDeployer().build(path, tag="iris:1", backend="podman", wheelhouse=True)``
    returns the image's name.
    """

    name = "docker"

    def build(self, bundle_path: str, tag: Optional[str] = None, push: bool = False,
              backend: Optional[str] = None, wheelhouse: bool = False, ignore_conda: bool = False,
              base_image: Optional[str] = None, build_options: Sequence[str] = (), **options) -> str:
        """Build the image of the bundle at ``bundle_path``; returns its name.

        :param tag: ``NAME[:TAG]`` (lower-cased); by default ``name:version`` of the bundle
        :param push: push the image after building it
        :param backend: ``docker``, ``podman`` or ``buildah``; by default the first installed
        :param wheelhouse: put wheels of every requirement into the build context first, so
            the build reaches no package index
        :param ignore_conda: build although the bundle declares conda packages (the base
            image has them, or they are not needed); refused otherwise
        :param base_image: build ``FROM`` this image instead of the bundle's ``docker_base_image``
        :param build_options: more arguments for the engine's build (``--network=host``)
        """
        config = check_bundle(bundle_path)
        image = image_name(config, tag)
        if not ignore_conda:
            refuse_conda(config)
        mismatch = python_mismatch(config, base_image)
        if mismatch:
            logger.warning(mismatch)
        engine = find_engine(backend)
        with build_context(bundle_path, config, wheelhouse, base_image) as context:
            engine.run(engine.build_command(context, image, build_options), "build")
        if push:
            engine.run(engine.push_command(image), "push")
        return image
