"""The Deployer base class: what a target has, and what it says about what it lacks."""
import pytest

from bentoml.deployer import Deployer, check_bundle
from bentoml.exceptions import BundleError, NotSupported


class BuildOnly(Deployer):
    name = "build-only"

    def build(self, bundle_path, **options):
        return check_bundle(bundle_path).name


class Describes(BuildOnly):
    name = "describes"

    def describe(self, deployment):
        return {"name": deployment}


def test_a_target_has_build_and_what_it_overrides():
    assert BuildOnly.supports("build") and not BuildOnly.supports("deploy")
    assert [op for op in ("deploy", "describe", "delete") if Describes.supports(op)] == ["describe"]
    with pytest.raises(ValueError, match="launch"):
        BuildOnly.supports("launch")


def test_what_a_target_lacks_raises_not_supported_naming_it():
    with pytest.raises(NotSupported, match="the describes target cannot delete; it can build, describe"):
        Describes().delete("x")
    with pytest.raises(NotSupported, match="the build-only target cannot deploy; it can build$"):
        BuildOnly().deploy("/b", "x")
    assert Describes().describe("x") == {"name": "x"}


def test_check_bundle_names_a_directory_that_is_not_one(tmp_path):
    with pytest.raises(BundleError, match=str(tmp_path)):
        BuildOnly().build(str(tmp_path))


def test_a_deployer_must_build():
    with pytest.raises(TypeError):
        type("NoBuild", (Deployer,), {"name": "x"})()
