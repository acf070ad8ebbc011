"""Artifact-declared conda and system packages reach a bundle's environment.yml,
Dockerfile and bentoml.yml; bundles saved before the field existed still load."""
import re

import pytest
import yaml

import bentoml
from bentoml.bundle.config import BundleConfig
from bentoml.exceptions import InvalidArgument

#: Two artifact classes declaring packages (one shared), and a service using both.
SERVICE = '''
class NeedsJavaArtifact(TextArtifact):
    """A TextArtifact that declares a Java runtime, the way a JVM-backed plugin would."""

    conda_dependencies = ("openjdk", "conda-forge::libgomp")
    system_packages = ("default-jre-headless", "libgomp1")


class NeedsGompArtifact(TextArtifact):
    conda_dependencies = ("libgomp>=12",)
    system_packages = ("libgomp1",)


@bentoml.env(conda_channels=["h2oai"], conda_dependencies=["openjdk=17", "h2o==3.46.0.11"])
@bentoml.artifacts([NeedsJavaArtifact("a"), NeedsJavaArtifact("b"), NeedsGompArtifact("c")])
class JavaService(bentoml.BentoService):

    @bentoml.api(input=EchoInput())
    def echo(self, xs):
        return xs
'''


@pytest.fixture
def saved(service_module, tmp_path):
    module = service_module(SERVICE, prefix="javasvc")
    svc = module.JavaService()
    for name in "abc":
        svc.pack(name, name)
    return svc.save_to_dir(str(tmp_path / "bundle"))


def _read(bundle, name):
    with open(f"{bundle}/{name}") as f:
        return f.read()


def test_environment_yml_adds_artifact_conda_packages_after_the_service_own(saved):
    env = yaml.safe_load(_read(saved, "environment.yml"))
    # The service's `openjdk=17` wins over the artifact's bare `openjdk`; the
    # artifact's `conda-forge::libgomp` comes before the second class's `libgomp>=12`.
    assert env["dependencies"][2:] == ["openjdk=17", "h2o==3.46.0.11", "conda-forge::libgomp"]
    assert env["channels"] == ["h2oai", "defaults"]


def test_dockerfile_installs_system_packages_once_before_copying_the_bundle(saved):
    dockerfile = _read(saved, "Dockerfile")
    install = re.search(r"apt-get install -y --no-install-recommends (.*?) \\$", dockerfile, re.M)
    assert install, dockerfile
    assert install.group(1).split() == ["default-jre-headless", "libgomp1"]
    assert dockerfile.index("apt-get install") < dockerfile.index("COPY . /bento")
    assert "rm -rf /var/lib/apt/lists/*" in dockerfile


def test_bentoml_yml_records_them_and_reads_back(saved):
    config = BundleConfig.load(saved)
    assert config.env.system_packages == ["default-jre-headless", "libgomp1"]
    assert "conda-forge::libgomp" in config.env.conda_dependencies
    assert bentoml.load_from_dir(saved).artifacts.a == "a"


def test_a_bundle_without_system_packages_in_bentoml_yml_still_loads(saved):
    """Bundles saved before ``system_packages`` existed (same schema) load with an empty list."""
    path = f"{saved}/bentoml.yml"
    data = yaml.safe_load(_read(saved, "bentoml.yml"))
    del data["env"]["system_packages"]
    with open(path, "w") as f:
        yaml.safe_dump(data, f, sort_keys=False)
    assert BundleConfig.load(saved).env.system_packages == []
    assert bentoml.load_from_dir(saved).artifacts.c == "c"


def test_no_declared_packages_leave_the_files_as_before(greeter_module, tmp_path):
    bundle = greeter_module.Greeter().pack("greeting", "hi").save_to_dir(str(tmp_path / "plain"))
    assert "apt-get" not in _read(bundle, "Dockerfile")
    assert yaml.safe_load(_read(bundle, "environment.yml"))["dependencies"][2:] == []
    assert BundleConfig.load(bundle).env.system_packages == []


@pytest.mark.parametrize("declared, message", [
    ('"default-jre-headless"', "must be a tuple of non-empty strings"),
    ('("ok", "")', "must be a tuple of non-empty strings"),
    ('("jre; rm -rf /",)', "is not a Debian package name"),
    ('("Default-JRE",)', "is not a Debian package name"),
])
def test_bad_system_packages_are_named_at_save(service_module, tmp_path, declared, message):
    module = service_module(f'''
        class OddArtifact(TextArtifact):
            system_packages = {declared}

        @bentoml.artifacts([OddArtifact("t")])
        class Odd(bentoml.BentoService):
            @bentoml.api(input=EchoInput())
            def echo(self, xs):
                return xs
    ''', prefix="odd")
    with pytest.raises(InvalidArgument, match=f"OddArtifact.system_packages.*{re.escape(message)}"):
        module.Odd().pack("t", "x").save_to_dir(str(tmp_path / "odd"))
    assert not (tmp_path / "odd").exists()


def test_pinned_debian_package_is_accepted(service_module, tmp_path):
    module = service_module('''
        class PinnedArtifact(TextArtifact):
            system_packages = ("openjdk-17-jre-headless=17.0.15+6-1~deb12u1",)

        @bentoml.artifacts([PinnedArtifact("t")])
        class Pinned(bentoml.BentoService):
            @bentoml.api(input=EchoInput())
            def echo(self, xs):
                return xs
    ''', prefix="pinned")
    bundle = module.Pinned().pack("t", "x").save_to_dir(str(tmp_path / "pinned"))
    assert "openjdk-17-jre-headless=17.0.15+6-1~deb12u1" in _read(bundle, "Dockerfile")
