"""The kubernetes target keeps the deployer and commands contracts of the kernel."""
import kubernetes_validate
import yaml

from bentoml.testing import CommandsContract, DeployerContract
from bentoml_deployer_kubernetes import KubernetesDeployer
from bentoml_deployer_kubernetes.names import check_name


class TestKubernetesDeployer(DeployerContract):
    deployer_class = KubernetesDeployer
    target = "kubernetes"
    distribution = "bentoml-deployer-kubernetes"
    framework_module = "kubernetes_validate"  # a test dependency only: never imported at run time

    def build_options(self, tmp_path):
        return {"image": "registry.example/contract-alpha:1", "output": str(tmp_path / "manifests") + "/"}

    def check_build(self, reference, bundle, tmp_path):
        assert reference == str(tmp_path / "manifests" / "contract-alpha.yaml")
        with open(reference) as manifest:
            objects = list(yaml.safe_load_all(manifest))
        for obj in objects:
            kubernetes_validate.validate(obj, "1.37", strict=True)
        assert [o["kind"] for o in objects] == ["Deployment", "Service"]
        for obj in objects:
            assert check_name(obj["metadata"]["name"]) == "contract-alpha"


class TestKubernetesCommand(CommandsContract):
    distribution = "bentoml-deployer-kubernetes"
    commands = ["deploy kubernetes"]
