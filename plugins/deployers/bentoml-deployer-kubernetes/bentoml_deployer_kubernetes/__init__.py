"""bentoml-deployer-kubernetes: the ``kubernetes`` deployment target.

``bentoml deploy kubernetes BENTO --image IMAGE`` writes a Deployment and a
Service (and a HorizontalPodAutoscaler for ``--min-replicas/--max-replicas``)
with the server's probes, drain time, micro-batching variables and an emptyDir
for its Prometheus files; ``--apply`` runs ``kubectl apply``.  Names are made
valid for Kubernetes: ``IrisClassifier`` and the spec's ``iris_classifier``
become ``iris-classifier``.
"""
from bentoml.hookspecs import hookimpl
from bentoml_deployer_kubernetes.deployer import KubernetesDeployer

__all__ = ["KubernetesDeployer"]


@hookimpl
def register_deployers(register):
    """The ``kubernetes`` target."""
    register(KubernetesDeployer, KubernetesDeployer.name)


@hookimpl
def register_commands(cli):
    """``bentoml deploy kubernetes``, in the kernel's ``deploy`` group."""
    from bentoml_deployer_kubernetes.command import kubernetes

    cli.commands["deploy"].add_command(kubernetes)
