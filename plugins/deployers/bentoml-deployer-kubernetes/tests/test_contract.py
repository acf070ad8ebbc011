"""The kubernetes target keeps the deployer and commands contracts of the kernel; deploy applies."""
import json
import os

import kubernetes_validate
import pytest
import yaml

from bentoml.exceptions import InvalidArgument
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


def test_deploy_applies_the_manifests_under_the_deployment_name(bundle, fake_kubectl, parse_documents):
    path, argv, stdin = fake_kubectl(says="deployment.apps/alpha-prod created\nservice/alpha-prod created")
    kubectl = os.path.join(path.split(os.pathsep)[0], "kubectl")  # by path: this process's PATH has none
    done = KubernetesDeployer(kubectl=kubectl).deploy(str(bundle), "alpha-prod", image="example/alpha:1",
                                                      namespace="prod")
    assert done == {"target": "kubernetes", "name": "alpha-prod", "namespace": "prod",
                    "objects": ["Deployment/alpha-prod", "Service/alpha-prod"],
                    "kubectl": "deployment.apps/alpha-prod created\nservice/alpha-prod created"}
    assert [o["metadata"]["name"] for o in parse_documents(stdin.read_text())] == ["alpha-prod", "alpha-prod"]
    assert json.loads(argv.read_text()) == ["apply", "-f", "-"]


def test_deploy_refuses_a_bad_deployment_name_before_running_kubectl(bundle, fake_kubectl):
    path, argv, _stdin = fake_kubectl()
    with pytest.raises(InvalidArgument, match="'alpha_prod' is not a valid Kubernetes name"):
        KubernetesDeployer(kubectl=os.path.join(path.split(os.pathsep)[0], "kubectl")).deploy(
            str(bundle), "alpha_prod", image="x:1")
    assert not argv.exists()
