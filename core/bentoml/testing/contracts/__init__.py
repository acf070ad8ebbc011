"""Contract test classes: each plugin's tests subclass one and fill in a few hooks.

pytest collects the subclass (name it ``Test...``) and runs every ``test_``
method against the plugin, so all artifacts, adapters, storage backends,
deployers, plugin commands and repositories are held to the same promises.
Override a test only to skip it with a reason, never to weaken it.  Each
plugin contract names the hook it covers in ``hook``.
"""
from bentoml.testing.contracts.adapters import InputAdapterContract, OutputAdapterContract, example_request
from bentoml.testing.contracts.artifact import ArtifactContract
from bentoml.testing.contracts.commands import CommandsContract
from bentoml.testing.contracts.deployer import DeployerContract
from bentoml.testing.contracts.plugin import PluginContract
from bentoml.testing.contracts.repository import RepositoryContract
from bentoml.testing.contracts.storage import StorageBackendContract

__all__ = ["ArtifactContract", "CommandsContract", "DeployerContract", "InputAdapterContract",
           "OutputAdapterContract", "PluginContract", "RepositoryContract", "StorageBackendContract",
           "example_request"]
