"""``DockerDeployer`` against the kernel's ``DeployerContract``, with a real podman build."""
from __future__ import annotations

import uuid

import pytest

from bentoml.testing import DeployerContract
from bentoml_deployer_docker import DockerDeployer
from bentoml_deployer_docker.testing import podman, running


class TestDockerDeployer(DeployerContract):
    deployer_class = DockerDeployer
    target = "docker"
    distribution = "bentoml-deployer-docker"

    @pytest.fixture(autouse=True)
    def _base(self, request, next_port):
        # only the build needs the engine and the base image; the other contract tests run anywhere
        self.next_port = next_port
        if request.node.name.startswith("test_build_makes"):
            self.base = request.getfixturevalue("base_image")

    def build_options(self, tmp_path):
        # ContractAlpha's bundle names python:3.11-slim, which no registry here serves: the stand-in
        return {"tag": f"localhost/bentoml-test/contract:{uuid.uuid4().hex[:8]}", "backend": "podman",
                "wheelhouse": True, "base_image": getattr(self, "base", None),
                "build_options": ["--network=none"]}

    def check_build(self, reference, bundle, tmp_path):
        try:
            with running(reference, port=self.next_port()) as container:
                container.wait_ready()
                assert "Serving ContractAlpha:1 on" in container.logs()
        finally:
            podman("rmi", "-f", reference, check=False)
