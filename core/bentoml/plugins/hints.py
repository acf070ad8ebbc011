"""The messages of a failed lookup: which distribution provides a name, and why it is not there."""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional

from bentoml.exceptions import MissingPlugin, PluginConflict
from bentoml.plugins.install_hints import plugin_install_command
from bentoml.plugins.records import PluginFailure, Registration

#: Which distribution provides a well-known name, for the "install X" hint
#: when nothing registers it.  Only a hint: lookups never consult it first.
KNOWN_PROVIDERS: Dict[str, Dict[str, str]] = {
    "artifacts": {
        "SklearnModelArtifact": "bentoml-sklearn",
        "PickleArtifact": "bentoml-pickle",
        "XgboostModelArtifact": "bentoml-xgboost",
        "TensorflowSavedModelArtifact": "bentoml-tensorflow",
        "H2oModelArtifact": "bentoml-h2o",
    },
    "input_adapters": {
        "DataframeInput": "bentoml-adapter-dataframe",
        "JsonInput": "bentoml-adapter-json",
        "ImageInput": "bentoml-adapter-image",
        "MultiImageInput": "bentoml-adapter-image",
        "TfTensorInput": "bentoml-adapter-tensor",
        "FileInput": "bentoml-adapter-file",
        "StringInput": "bentoml-adapter-string",
    },
    "output_adapters": {},
    "storage_backends": {"file": "bentoml-storage-local", "s3": "bentoml-storage-s3"},
    "deployers": {
        "docker": "bentoml-deployer-docker",
        "kubernetes": "bentoml-deployer-kubernetes",
        "spark": "bentoml-deployer-spark",
    },
    "commands": {
        "containerize": "bentoml-deployer-docker",
        "batch": "bentoml-deployer-spark",
    },
}

KIND_LABELS = {
    "artifacts": "artifact",
    "input_adapters": "input adapter",
    "output_adapters": "output adapter",
    "storage_backends": "storage backend for scheme",
    "deployers": "deployer",
    "commands": "command",
}


def missing(kind: str, name: str, skipped: Optional[PluginFailure], failures: Iterable[PluginFailure],
            registered: List[str]) -> MissingPlugin:
    """The error for a name nothing registers: its plugin was skipped (and why), is not
    installed, or is unknown (listing what is registered)."""
    label = KIND_LABELS[kind]
    dist = KNOWN_PROVIDERS.get(kind, {}).get(name)
    failure = skipped or next((f for f in failures if dist and f.distribution == dist), None)
    if failure is not None:
        return MissingPlugin(
            f"{label} {name!r} is provided by the plugin distribution {failure.distribution!r}, "
            f"which is installed but was skipped: {failure.error}", failure.distribution)
    if dist:
        return MissingPlugin(
            f"{label} {name!r} is provided by the plugin distribution {dist!r}, "
            f"which is not installed (or was disabled); {plugin_install_command(dist)}", dist)
    return MissingPlugin(f"no plugin registers the {label} {name!r} (registered: {', '.join(registered) or 'none'})")


def conflict(kind: str, name: str, regs: List[Registration]) -> PluginConflict:
    """The error for a name two or more distributions registered."""
    dists = sorted({r.distribution for r in regs})
    return PluginConflict(
        f"{KIND_LABELS[kind]} {name!r} is registered by more than one plugin: "
        f"{' and '.join(dists)}; uninstall or disable one (BENTOML_DISABLE_PLUGINS)")
