"""The one place this plugin imports TensorFlow (2.5-5 s), always from inside a method."""
from __future__ import annotations

import os
from typing import Any

INSTALL_HINT = "pip install 'bentoml-tensorflow[cpu]' (or [gpu])"


def import_tensorflow() -> Any:
    """``import tensorflow``, with its C++ INFO lines muted unless the user chose a level.

    TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL`` once, when its library loads, and
    otherwise greets every server worker and CLI run with CPU-feature banners.
    Level 1 drops only INFO: warnings and errors still show.  Setting the
    variable after TensorFlow is loaded changes nothing, so this is harmless then.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise ImportError(f"bentoml-tensorflow needs TensorFlow: {INSTALL_HINT} ({exc})") from exc
    return tf


def import_keras() -> Any:
    """``import keras`` (Keras 3), after :func:`import_tensorflow` so the log level applies."""
    import_tensorflow()
    import keras

    return keras
