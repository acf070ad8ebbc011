"""The one place this plugin imports TensorFlow (2.5-5 s), always from inside a method."""
from __future__ import annotations

from typing import Any

from bentoml.native_logs import import_with_log_level
from bentoml.plugins.install_hints import framework_install_hint



def import_tensorflow() -> Any:
    """``import tensorflow``, with its C++ INFO lines muted unless the user chose a level.

    TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL`` once, when its library loads, and
    otherwise greets every server worker and CLI run with CPU-feature banners.
    Level 1 drops only INFO: warnings and errors still show.  What it logs
    through absl while loading ignores the variable, so those lines are
    filtered at the same level (:mod:`bentoml.native_logs`).
    """
    try:
        return import_with_log_level("tensorflow", "TF_CPP_MIN_LOG_LEVEL")
    except ImportError as exc:
        raise ImportError(f"bentoml-tensorflow needs TensorFlow: "
                          f"{framework_install_hint('bentoml-tensorflow')} ({exc})") from exc


def import_keras() -> Any:
    """``import keras`` (Keras 3), after :func:`import_tensorflow` so the log level applies."""
    import_tensorflow()
    import keras

    return keras
