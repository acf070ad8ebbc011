"""The kernel's test harness for plugin authors.

``bentoml.testing.pytest_plugin`` is registered as a ``pytest11`` plugin, so
its fixtures (``plugin_registry``, ``empty_plugin_registry``, ``bentoml_home``)
are available in any test once ``bentoml`` is installed.  The contract classes
(one per hook in ``PLUGIN_CONTRACTS``, and ``RepositoryContract``) give every
plugin and every repository implementation its tests by subclassing::

    from bentoml.testing import ArtifactContract

    class TestSklearnArtifact(ArtifactContract):
        artifact_class = SklearnModelArtifact
        distribution = "bentoml-sklearn"
        framework_module = "sklearn"
        ...
"""
import pytest

# Contract classes are imported by test modules, not collected as tests
# themselves, so pytest would not rewrite their asserts without this.
pytest.register_assert_rewrite("bentoml.testing.contracts")

from bentoml.testing.contracts import (  # noqa: E402
    ArtifactContract,
    CommandsContract,
    DeployerContract,
    InputAdapterContract,
    OutputAdapterContract,
    RepositoryContract,
    StorageBackendContract,
)

#: The contract class of each kind of plugin, by the hook it implements.
PLUGIN_CONTRACTS = (ArtifactContract, InputAdapterContract, OutputAdapterContract, StorageBackendContract,
                    DeployerContract, CommandsContract)

__all__ = ["ArtifactContract", "CommandsContract", "DeployerContract", "InputAdapterContract",
           "OutputAdapterContract", "PLUGIN_CONTRACTS", "RepositoryContract", "StorageBackendContract"]
