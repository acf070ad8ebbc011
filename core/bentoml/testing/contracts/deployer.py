"""``DeployerContract``: what every deployer plugin promises."""
from __future__ import annotations

import pathlib
import uuid
from typing import Any, ClassVar, Dict, Tuple

import pytest

from bentoml.deployer import OPTIONAL_OPERATIONS, Deployer
from bentoml.exceptions import BundleError, NotFound, NotSupported
from bentoml.testing.contracts.plugin import PluginContract
from bentoml.testing.services import PLAIN_SERVICES, service_module


class DeployerContract(PluginContract):
    """Tests for a deployer plugin.

    Set ``deployer_class``, ``target`` (the registered name) and
    ``distribution``; implement ``check_build`` (assert that what ``build``
    made is real: the image runs, the archive holds the bundle); override
    ``make_deployer`` and ``build_options`` when the target needs settings.
    The bundle deployed is a service with nothing to pack (``sample_bundle``).
    """

    kind = "deployers"
    hook = "register_deployers"
    deployer_class: ClassVar[type]
    target: ClassVar[str]

    def make_deployer(self, tmp_path: pathlib.Path) -> Deployer:
        return self.deployer_class()

    def build_options(self, tmp_path: pathlib.Path) -> Dict[str, Any]:
        return {}

    def check_build(self, reference: str, bundle: pathlib.Path, tmp_path: pathlib.Path) -> None:
        """Assert that ``reference`` (what ``build`` returned) is the built bundle."""
        raise NotImplementedError

    def registered(self, tmp_path: pathlib.Path) -> Tuple[str, type]:
        return self.target, self.deployer_class

    @pytest.fixture
    def sample_bundle(self, tmp_path: pathlib.Path) -> pathlib.Path:
        """A saved bundle of ``ContractAlpha`` (:data:`~bentoml.testing.services.PLAIN_SERVICES`)."""
        module = f"deployer_contract_{uuid.uuid4().hex[:8]}"
        with service_module(PLAIN_SERVICES, module, tmp_path / "services") as loaded:
            return pathlib.Path(loaded.ContractAlpha().save_to_dir(str(tmp_path / "bundle"), version="1"))

    def test_name_is_the_registered_target(self) -> None:
        """The class's ``name`` is the name it is registered under."""
        assert self.deployer_class.name == self.target
        assert issubclass(self.deployer_class, Deployer)

    def test_build_makes_what_the_target_runs(self, sample_bundle, tmp_path) -> None:
        """``build`` on a saved bundle returns a reference to something real."""
        reference = self.make_deployer(tmp_path).build(str(sample_bundle), **self.build_options(tmp_path))
        assert isinstance(reference, str) and reference
        self.check_build(reference, sample_bundle, tmp_path)

    def test_build_refuses_what_is_not_a_bundle(self, tmp_path) -> None:
        """A directory without ``bentoml.yml`` is a BundleError naming it."""
        empty = tmp_path / "not-a-bundle"
        empty.mkdir()
        with pytest.raises(BundleError, match="not-a-bundle"):
            self.make_deployer(tmp_path).build(str(empty), **self.build_options(tmp_path))

    def test_operations_it_lacks_say_so(self, tmp_path) -> None:
        """Each operation the target does not have raises NotSupported naming the target;
        ``describe`` of an unknown deployment, where there is one, is NotFound."""
        deployer = self.make_deployer(tmp_path)
        assert deployer.supports("build")
        with pytest.raises(ValueError):
            deployer.supports("launch")
        calls = {"deploy": lambda: deployer.deploy(str(tmp_path), "contract-test"),
                 "describe": lambda: deployer.describe(f"no-such-deployment-{uuid.uuid4().hex[:6]}"),
                 "delete": lambda: deployer.delete(f"no-such-deployment-{uuid.uuid4().hex[:6]}")}
        for operation in OPTIONAL_OPERATIONS:
            if not deployer.supports(operation):
                with pytest.raises(NotSupported, match=self.target):
                    calls[operation]()
        if deployer.supports("describe"):
            with pytest.raises(NotFound):
                calls["describe"]()
