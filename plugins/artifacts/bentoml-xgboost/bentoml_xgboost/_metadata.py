"""The sidecar saved next to the model file: which class to rebuild, and with which parameters.

XGBoost's model file holds the trees, the objective and the feature names, but
not which Python class wrapped them nor the scikit-learn style constructor
parameters (``missing=`` matters at prediction time).  Those go in a small JSON
file, so that loading never needs pickle.
"""
from __future__ import annotations

import importlib
import json
import math
from typing import Any, Dict, List, Tuple

from bentoml.exceptions import BundleError
from bentoml.plugins.install_hints import framework_install_hint

#: Bumped if the sidecar's layout ever changes incompatibly.
METADATA_VERSION = 1

#: Constructor parameters that describe the machine, not the model: the serving
#: machine decides them (see ``XgboostModelArtifact(nthread=...)``).
RUNTIME_PARAMS = frozenset({"n_jobs", "nthread", "device", "gpu_id"})


def import_xgboost():
    """``import xgboost``, or an ImportError saying which distribution to install."""
    try:
        import xgboost
    except ImportError as exc:
        raise ModuleNotFoundError(
            "XgboostModelArtifact needs XGBoost, which is not installed: "
            f"{framework_install_hint('bentoml-xgboost')} ({exc})", name="xgboost") from exc
    return xgboost


def class_path(cls: type) -> str:
    """``module:QualName`` of a class, e.g. ``xgboost.sklearn:XGBClassifier``."""
    return f"{cls.__module__}:{cls.__qualname__}"


def resolve_class(path: str, xgboost) -> type:
    """The Booster or XGBModel class named by :func:`class_path`, checked to be one."""
    module_name, _, qualname = path.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError, ValueError) as exc:
        raise BundleError(f"the saved XGBoost model was a {path!r}, which cannot be imported here: {exc}") from None
    if not (isinstance(obj, type) and issubclass(obj, (xgboost.Booster, xgboost.XGBModel))):
        raise BundleError(f"the saved XGBoost model names {path}, which is not an xgboost.Booster "
                          "or xgboost.XGBModel class")
    return obj


def _same(value: Any, default: Any) -> bool:
    if value is default:
        return True
    if isinstance(value, float) and isinstance(default, float) and math.isnan(value) and math.isnan(default):
        return True
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # arrays compare element-wise
        return False


def _as_json(value: Any) -> Tuple[bool, Any]:
    """(True, value as plain JSON) when ``value`` survives a JSON round trip unchanged."""
    if hasattr(value, "item") and type(value).__module__ == "numpy":  # numpy scalars
        value = value.item()
    try:
        back = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return False, None
    return back == value, value


def estimator_params(model: Any) -> Tuple[Dict[str, Any], List[str]]:
    """The constructor parameters of a scikit-learn style model that differ from its class's
    defaults: (those saved as JSON, names of those that cannot be, such as callables)."""
    try:
        defaults = type(model)().get_params(deep=False)
    except TypeError:  # a subclass with required arguments: keep every parameter
        defaults = {}
    kept: Dict[str, Any] = {}
    dropped: List[str] = []
    missing = object()
    for key, value in model.get_params(deep=False).items():
        if key in RUNTIME_PARAMS or _same(value, defaults.get(key, missing)):
            continue
        ok, plain = _as_json(value)
        if ok:
            kept[key] = plain
        else:
            dropped.append(key)
    return kept, sorted(dropped)


def write(path: str, meta: Dict[str, Any]) -> None:
    """Write the sidecar as strict JSON (no NaN), readable by any tool."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2, sort_keys=True, allow_nan=False)
        f.write("\n")


def read(path: str) -> Dict[str, Any]:
    """Read the sidecar back; BundleError when it is missing, corrupt or of another version."""
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise BundleError(f"{path} is missing: this artifact was not saved by XgboostModelArtifact") from None
    except ValueError as exc:
        raise BundleError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.get("metadata_version") != METADATA_VERSION:
        raise BundleError(f"{path} is not an XgboostModelArtifact metadata file of version {METADATA_VERSION}; "
                          "was it saved by a newer bentoml-xgboost?")
    return meta
