"""``bentoml deploy kubernetes``: the target's subcommand of the kernel's ``deploy`` group."""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional

import click

from bentoml.cli.common import common_options
from bentoml.cli.serve_commands import server_option
from bentoml.server.config import SERVER_OPTIONS, ServerOption
from bentoml_deployer_kubernetes.settings import DEFAULT_CPU_UTILIZATION, SERVER_SETTINGS, SERVICE_TYPES

logger = logging.getLogger("bentoml.deployer.kubernetes")


#: Help texts that say more than ``serve``'s for a deployment; the others are the kernel's.
_HELP = {"drain_grace": "On SIGTERM, seconds /readyz answers 503 before the listener closes; the pods' "
                        "terminationGracePeriodSeconds is this plus --timeout plus 5"}


def _microbatch_option(option: ServerOption):
    """Micro-batching: on in the pods, unlike ``serve``'s default, so an option of its own."""
    return click.option(f"{option.flag}/{option.off_flag}", option.name, default=True,
                        help=f"Batch concurrent requests in the pods [env {option.env}; default on]")


def _server_options(func):
    """The server options a deployment passes on to its pods, as ``serve`` spells them."""
    for option in reversed([o for o in SERVER_OPTIONS if o.name in SERVER_SETTINGS]):
        if option.name == "enable_microbatch":
            func = _microbatch_option(option)(func)
        else:
            func = server_option(option.name, help=_HELP.get(option.name))(func)
    return func


@click.command("kubernetes")
@click.argument("bento")
@click.option("--image", required=True, help="The Bento's container image, as the cluster pulls it "
              "(bentoml containerize BENTO -t NAME:TAG, then push it)")
@click.option("--name", help="Name of the Deployment, Service and autoscaler [default: the Bento's name, "
              "made valid: IrisClassifier and iris_classifier are iris-classifier]")
@click.option("--namespace", help="Namespace of the objects [default: kubectl's current one]")
@click.option("--replicas", type=click.IntRange(min=0), help="Number of pods [default: 1]")
@click.option("--min-replicas", type=int, help="With --max-replicas: a HorizontalPodAutoscaler's lower "
              "bound [default: 1]")
@click.option("--max-replicas", type=int, help="Scale between --min-replicas and this many pods on CPU use "
              "(needs --cpu)")
@click.option("--cpu-utilization", type=int, default=DEFAULT_CPU_UTILIZATION, show_default=True,
              help="The autoscaler's target: average CPU use, in % of --cpu")
@click.option("--cpu", help="CPUs each pod requests (a Kubernetes quantity: 500m, 2)")
@click.option("--memory", help="Memory each pod requests (a Kubernetes quantity: 512Mi, 2Gi)")
@click.option("--service-type", type=click.Choice(SERVICE_TYPES), default="ClusterIP", show_default=True,
              help="How the Service is reached")
@_server_options
@click.option("-o", "--output", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True,
              help="Manifest format: YAML documents, or a JSON List")
@click.option("--to", "destination", metavar="PATH", help="Write the manifests to this file, or into this "
              "directory as NAME.yaml (a directory: existing, or ending in /) instead of stdout")
@click.option("--apply", "apply_", is_flag=True, help="Run kubectl apply on the manifests (kubectl on PATH, "
              "configured for the cluster)")
@common_options
def kubernetes(bento: str, image: str, name: Optional[str], namespace: Optional[str], replicas: Optional[int],
               min_replicas: Optional[int], max_replicas: Optional[int], cpu_utilization: int,
               cpu: Optional[str], memory: Optional[str], service_type: str, output: str,
               destination: Optional[str], apply_: bool, **server: Any) -> None:
    """Write a Bento's Kubernetes manifests: a Deployment and a Service, and a
    HorizontalPodAutoscaler given --max-replicas; with --apply, apply them.

    BENTO is a path, NAME, NAME:latest or NAME:VERSION.  The manifests go to
    stdout unless --to names a file or directory.
    """
    from bentoml.cli.common import bundle_path
    from bentoml.deployer import check_bundle
    from bentoml.exceptions import InvalidArgument
    from bentoml_deployer_kubernetes import kubectl
    from bentoml_deployer_kubernetes.deployer import KubernetesDeployer, manifest_path, write_manifests
    from bentoml_deployer_kubernetes.manifests import render

    options: Dict[str, Any] = dict(
        image=image, namespace=namespace, replicas=replicas, min_replicas=min_replicas,
        max_replicas=max_replicas, cpu=cpu, memory=memory, cpu_utilization=cpu_utilization,
        service_type=service_type, server={key: value for key, value in server.items() if value is not None})
    path = bundle_path(bento)
    try:
        settings, objects = KubernetesDeployer().objects(path, name=name, **options)
    except InvalidArgument as exc:
        raise click.UsageError(str(exc)) from None
    bento_name = check_bundle(path).name
    if name is None and settings.name != bento_name:
        logger.info("%s is named %s in Kubernetes, whose names take only lowercase letters, digits and '-' "
                    "(--name sets another)", bento_name, settings.name)
    text = render(objects, output)
    if destination is not None:
        written = manifest_path(destination, settings.name, output)
        write_manifests(written, text)
        click.echo(written)
    elif not apply_:
        click.echo(text, nl=False)
    if apply_:
        click.echo(kubectl.apply(render(objects, "yaml")), nl=False)

