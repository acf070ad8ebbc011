"""``KubernetesDeployer``: the ``kubernetes`` target; build writes the manifests, deploy applies them."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

from bentoml.deployer import Deployer, check_bundle
from bentoml_deployer_kubernetes import kubectl as kubectl_cli
from bentoml_deployer_kubernetes.manifests import Manifest, manifests, render
from bentoml_deployer_kubernetes.names import kubernetes_name
from bentoml_deployer_kubernetes.settings import Settings


class KubernetesDeployer(Deployer):
    """Deploys a Bento's image (``bentoml containerize BENTO -t NAME:TAG``) to Kubernetes.

    ``build(bundle, image="iris:1", output="k8s/")`` writes a Deployment and a
    Service (and a HorizontalPodAutoscaler given ``max_replicas``) and returns
    the file's path; ``deploy(bundle, "iris-classifier", image=...)`` also runs
    ``kubectl apply``.  The other options are :class:`Settings`' fields.
    """

    name = "kubernetes"

    def __init__(self, kubectl: Optional[str] = None):
        #: the kubectl to run (default: the one on PATH), e.g. a wrapper with a context
        self.kubectl = kubectl

    def objects(self, bundle_path: str, name: Optional[str] = None,
                **options: Any) -> Tuple[Settings, List[Manifest]]:
        """The checked settings and the manifests for the bundle at ``bundle_path``; the
        name defaults to the Bento's, made valid (``IrisClassifier``: ``iris-classifier``)."""
        config = check_bundle(bundle_path)
        settings = Settings(name=name or kubernetes_name(config.name), **options)
        return settings, manifests(settings, config)

    def build(self, bundle_path: str, output: Optional[str] = None, format: str = "yaml",
              **options: Any) -> str:
        """Write the manifests to ``output`` (a file, or a directory that gets ``NAME.yaml``;
        default ``./NAME.yaml``) and return the file's path."""
        settings, objects = self.objects(bundle_path, **options)
        path = manifest_path(output, settings.name, format)
        write_manifests(path, render(objects, format))
        return path

    def deploy(self, bundle_path: str, deployment: str, **options: Any) -> Dict[str, Any]:
        """Apply the manifests with ``kubectl apply`` as ``deployment``; what was applied."""
        settings, objects = self.objects(bundle_path, name=deployment, **options)
        said = kubectl_cli.apply(render(objects), self.kubectl)
        return {"target": self.name, "name": settings.name, "namespace": settings.namespace,
                "objects": [f"{o['kind']}/{o['metadata']['name']}" for o in objects], "kubectl": said.strip()}


def manifest_path(output: Optional[str], name: str, fmt: str = "yaml") -> str:
    """Where ``output`` asks the manifests to go: a directory (existing, or ending in ``/``)
    gets ``NAME.yaml``/``NAME.json``; another path is the file itself."""
    if output is None:
        output = os.curdir + os.sep
    if output.endswith(("/", os.sep)) or os.path.isdir(output):
        return os.path.join(output, f"{name}.{fmt}")
    return output


def write_manifests(path: str, text: str) -> None:
    """Write ``text`` to ``path``, making its directory."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as out:
        out.write(text)
