"""Container images of bundles: the ``docker`` deployment target and ``bentoml containerize``.

    bentoml containerize IrisClassifier:latest -t iris:1 --wheelhouse
    docker run -p 5000:5000 iris:1 --workers 2      # or podman run
"""
from bentoml.hookspecs import hookimpl

from bentoml_deployer_docker.deployer import DockerDeployer

__all__ = ["DockerDeployer"]


@hookimpl
def register_deployers(register):
    """The ``docker`` target."""
    register(DockerDeployer, DockerDeployer.name)


@hookimpl
def register_commands(cli):
    """``bentoml containerize``."""
    from bentoml_deployer_docker.command import containerize

    cli.add_command(containerize)
