"""The example deployer against the kernel's contracts, and its command as a user runs it."""
import os
import subprocess
import sys
import tarfile

import yaml

from bentoml.testing import CommandsContract, DeployerContract
from bentoml.testing.services import PLAIN_SERVICES, service_module
from bentoml_example_deployer import TarballDeployer


class TestTarballDeployer(DeployerContract):
    deployer_class = TarballDeployer
    target = "tarball"
    distribution = "bentoml-example-deployer"

    def build_options(self, tmp_path):
        return {"output_dir": str(tmp_path / "dist")}

    def check_build(self, reference, bundle, tmp_path):
        assert reference == str(tmp_path / "dist" / "ContractAlpha-1.tar.gz")
        with tarfile.open(reference) as tar:
            config = yaml.safe_load(tar.extractfile("ContractAlpha-1/bentoml.yml"))
        assert (config["name"], config["version"]) == ("ContractAlpha", "1")


class TestTarballCommand(CommandsContract):
    distribution = "bentoml-example-deployer"
    commands = ["tarball"]


def _bentoml(*args, home):
    return subprocess.run([sys.executable, "-m", "bentoml", *args], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, BENTOML_HOME=str(home)))


def test_bentoml_tarball_packs_a_bundle_by_path_or_tag(tmp_path):
    with service_module(PLAIN_SERVICES, "tarball_cli_service", tmp_path / "src") as module:
        bundle = module.ContractAlpha().save_to_dir(str(tmp_path / "bundle"), version="1")
    done = _bentoml("tarball", bundle, "-o", str(tmp_path / "out"), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "out" / "ContractAlpha-1.tar.gz")
    missing = _bentoml("tarball", "NoSuchBundle:1", home=tmp_path / "home")
    assert missing.returncode == 1 and "NoSuchBundle:1 is not in the repository" in missing.stderr
