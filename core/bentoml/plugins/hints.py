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
        "KerasModelArtifact": "bentoml-tensorflow",
        "H2oModelArtifact": "bentoml-h2o",
    },
    "input_adapters": {
        "DataframeInput": "bentoml-adapter-dataframe",
        "JsonInput": "bentoml-adapter-json",
        "LegacyJsonInput": "bentoml-adapter-json",
        "ImageInput": "bentoml-adapter-image",
        "MultiImageInput": "bentoml-adapter-image",
        "TfTensorInput": "bentoml-adapter-tensor",
        "FileInput": "bentoml-adapter-file",
        "StringInput": "bentoml-adapter-string",
    },
    "output_adapters": {
        "DataframeOutput": "bentoml-adapter-dataframe",
        "TfTensorOutput": "bentoml-adapter-tensor",
    },
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

#: The BentoML 0.x paths our plugins declare (``legacy_paths``), so that importing one
#: names the distribution to install when that plugin is not there: ``MODULE:NAME`` ->
#: (kind, registered name).  Only a hint, like KNOWN_PROVIDERS; tests/compat checks
#: that it matches what the plugins declare.
KNOWN_LEGACY_PATHS: Dict[str, tuple] = {
    "bentoml.frameworks.sklearn:SklearnModelArtifact": ("artifacts", "SklearnModelArtifact"),
    "bentoml.frameworks.xgboost:XgboostModelArtifact": ("artifacts", "XgboostModelArtifact"),
    "bentoml.frameworks.tensorflow:TensorflowSavedModelArtifact": ("artifacts", "TensorflowSavedModelArtifact"),
    "bentoml.frameworks.h2o:H2oModelArtifact": ("artifacts", "H2oModelArtifact"),
    "bentoml.frameworks.keras:KerasModelArtifact": ("artifacts", "KerasModelArtifact"),
    "bentoml.service.artifacts.common:PickleArtifact": ("artifacts", "PickleArtifact"),
    "bentoml.service.artifacts.pickle:PickleArtifact": ("artifacts", "PickleArtifact"),
    "bentoml.handlers:DataframeHandler": ("input_adapters", "DataframeInput"),
    "bentoml.handlers.dataframe_handler:DataframeHandler": ("input_adapters", "DataframeInput"),
    "bentoml.adapters.dataframe_input:DataframeInput": ("input_adapters", "DataframeInput"),
    "bentoml.handlers:JsonHandler": ("input_adapters", "JsonInput"),
    "bentoml.handlers.json_handler:JsonHandler": ("input_adapters", "JsonInput"),
    "bentoml.adapters.json_input:JsonInput": ("input_adapters", "JsonInput"),
    "bentoml.adapters.legacy_json_input:LegacyJsonInput": ("input_adapters", "LegacyJsonInput"),
    "bentoml.handlers:ImageHandler": ("input_adapters", "ImageInput"),
    "bentoml.handlers.image_handler:ImageHandler": ("input_adapters", "ImageInput"),
    "bentoml.adapters.image_input:ImageInput": ("input_adapters", "ImageInput"),
    "bentoml.adapters.multi_image_input:MultiImageInput": ("input_adapters", "MultiImageInput"),
    "bentoml.handlers:TensorflowTensorHandler": ("input_adapters", "TfTensorInput"),
    "bentoml.handlers.tensorflow_tensor_handler:TensorflowTensorHandler": ("input_adapters", "TfTensorInput"),
    "bentoml.adapters.tensorflow_tensor_input:TfTensorInput": ("input_adapters", "TfTensorInput"),
    "bentoml.adapters.file_input:FileInput": ("input_adapters", "FileInput"),
    "bentoml.adapters.string_input:StringInput": ("input_adapters", "StringInput"),
    "bentoml.adapters.default_output:DefaultOutput": ("output_adapters", "DefaultOutput"),
    "bentoml.adapters.dataframe_output:DataframeOutput": ("output_adapters", "DataframeOutput"),
    "bentoml.adapters.tensorflow_tensor_output:TfTensorOutput": ("output_adapters", "TfTensorOutput"),
    # 0.8.6 names no plugin of ours provides: importing them says why (NOT_PROVIDED).
    "bentoml.handlers:LegacyImageHandler": ("input_adapters", "LegacyImageInput"),
    "bentoml.handlers:FastaiImageHandler": ("input_adapters", "FastaiImageInput"),
    **{f"bentoml.handlers:Clipper{t}Handler": ("input_adapters", f"Clipper{t}Input")
       for t in ("Bytes", "Floats", "Ints", "Doubles", "Strings")},
}

_CLIPPER = "deploying to Clipper is not supported; serve the bundle with `bentoml serve-gunicorn` or its Dockerfile"

#: BentoML 0.x classes that no plugin of this kernel provides, and what to use instead.
NOT_PROVIDED: Dict[str, Dict[str, str]] = {
    "artifacts": {},
    "input_adapters": {
        "LegacyImageInput": "its API function took one image array per input name; use "
                            "MultiImageInput(input_names=...) with @api(..., batch=False), whose function "
                            "receives a dict of input name -> image array",
        "FastaiImageInput": "fastai is not supported by a plugin of this kernel; use ImageInput and "
                            "convert the arrays in the API function",
        **{f"Clipper{t}Input": _CLIPPER for t in ("Bytes", "Floats", "Ints", "Doubles", "Strings")},
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
    note = NOT_PROVIDED.get(kind, {}).get(name)
    if note:
        return MissingPlugin(f"the BentoML 0.x {label} {name!r} is not provided here: {note}")
    return MissingPlugin(f"no plugin registers the {label} {name!r} (registered: {', '.join(registered) or 'none'})")


def conflict(kind: str, name: str, regs: List[Registration]) -> PluginConflict:
    """The error for a name two or more distributions registered."""
    dists = sorted({r.distribution for r in regs})
    return PluginConflict(
        f"{KIND_LABELS[kind]} {name!r} is registered by more than one plugin: "
        f"{' and '.join(dists)}; uninstall or disable one (BENTOML_DISABLE_PLUGINS)")
