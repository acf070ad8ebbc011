"""``Deployer``: the base class of deployment targets (container images, clusters, batch engines).

A deployer plugin registers its class by target name through
``register_deployers`` (``register(DockerDeployer, "docker")``) and usually
adds a command through ``register_commands`` (``bentoml containerize``).  A
target implements ``build``, and ``deploy``/``describe``/``delete`` where it
has them; what it does not have raises :class:`~bentoml.exceptions.NotSupported`
naming the target.  :class:`bentoml.testing.DeployerContract` tests a deployer.

Example::

    class TarballDeployer(Deployer):
        name = "tarball"

        def build(self, bundle_path, output=None, **options):
            check_bundle(bundle_path)
            return shutil.make_archive(output or bundle_path, "gztar", bundle_path)
"""
from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any, ClassVar, Dict, Tuple

from bentoml.exceptions import NotSupported

if TYPE_CHECKING:
    from bentoml.bundle.config import BundleConfig

#: The operations a target may have besides ``build``.
OPTIONAL_OPERATIONS: Tuple[str, ...] = ("deploy", "describe", "delete")


def check_bundle(bundle_path: str) -> "BundleConfig":
    """The config of the bundle at ``bundle_path``; a :class:`~bentoml.exceptions.BundleError`
    naming the path when it is not one (every operation checks this first)."""
    from bentoml.bundle.config import BundleConfig  # cattrs and YAML: only when a deployer runs

    return BundleConfig.load(bundle_path)


class Deployer(abc.ABC):
    """A target a bundle goes to; one instance may serve many operations."""

    #: The target's name, as registered (``"docker"``, ``"kubernetes"``, ``"spark"``).
    name: ClassVar[str]

    @abc.abstractmethod
    def build(self, bundle_path: str, **options: Any) -> str:
        """Build what the target runs from the bundle at ``bundle_path`` (an image, an
        archive, a job package); returns a reference to it (an image name, a path)."""

    def deploy(self, bundle_path: str, deployment: str, **options: Any) -> Dict[str, Any]:
        """Run the bundle on the target as ``deployment``; returns what :meth:`describe` would."""
        raise self._not_supported("deploy")

    def describe(self, deployment: str) -> Dict[str, Any]:
        """The state of ``deployment`` (a :class:`~bentoml.exceptions.NotFound` if there is none)."""
        raise self._not_supported("describe")

    def delete(self, deployment: str) -> None:
        """Remove ``deployment`` from the target."""
        raise self._not_supported("delete")

    @classmethod
    def supports(cls, operation: str) -> bool:
        """Whether this target has ``operation`` (``"build"`` or one of :data:`OPTIONAL_OPERATIONS`)."""
        if operation == "build":
            return True
        if operation not in OPTIONAL_OPERATIONS:
            raise ValueError(f"unknown deployer operation {operation!r}")
        return getattr(cls, operation) is not getattr(Deployer, operation)

    def _not_supported(self, operation: str) -> NotSupported:
        return NotSupported(f"the {self.name} target cannot {operation}; it can "
                            + ", ".join(op for op in ("build", *OPTIONAL_OPERATIONS) if self.supports(op)))
