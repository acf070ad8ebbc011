"""TensorFlow models as BentoML artifacts: SavedModels, ``tf.Module``s and Keras models.

``from bentoml.artifact import TensorflowSavedModelArtifact`` resolves to the
class below once this distribution is installed.  TensorFlow is imported only
when a model is packed from a path, saved or loaded, never by importing this
package; numpy and the helper modules are imported as late.
"""
from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import InvalidArgument, NotFound
from bentoml.hookspecs import hookimpl

__all__ = ["TensorflowSavedModelArtifact"]

SAVED_MODEL_DIR = "saved_model"
KERAS_FILE = "model.keras"
_SAVED_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt")


def _is_keras_model(obj: Any) -> bool:
    # A Keras model exists only if keras is already imported: no need to import it to check.
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(obj, keras.Model)


def _is_trackable(obj: Any) -> bool:
    """A ``tf.Module``, or what ``tf.saved_model.load`` returned: something SavedModel can save."""
    tf = sys.modules.get("tensorflow")
    if tf is None or isinstance(obj, type):
        return False
    # tf.saved_model.load returns an AutoTrackable, not a tf.Module; TF exposes that class only internally.
    tracking = getattr(getattr(tf, "__internal__", None), "tracking", None)
    return isinstance(obj, (tf.Module, getattr(tracking, "AutoTrackable", tf.Module)))


class TensorflowSavedModelArtifact(BentoServiceArtifact):
    """A TensorFlow model: a ``tf.Module`` with ``tf.function``s, a SavedModel directory, or a Keras model.

    ``pack`` takes:

    - a ``tf.Module`` (or an object ``tf.saved_model.load`` returned); it is
      saved with ``tf.saved_model.save`` into ``<name>/saved_model/``;
    - the path of an existing SavedModel directory (one holding
      ``saved_model.pb``), copied as is; or the path of a ``.keras`` file;
    - a Keras 3 model, saved in the ``.keras`` format as ``<name>/model.keras``:
      Keras 3 cannot read a SavedModel back as a Keras model, and the ``.keras``
      file keeps it one (layers, ``predict``, ``fit``).

    In the API function, ``self.artifacts.<name>`` is, for a SavedModel, a
    :class:`~bentoml_tensorflow.saved_model.LoadedSavedModel` (also for a
    packed ``tf.Module``, so a service behaves the same before and after it is
    saved) and, for Keras, the Keras model itself (see
    :mod:`bentoml_tensorflow.keras_model`).  Calling either with lists or
    numpy arrays converts them to the declared input dtype when no value
    changes, and raises :class:`~bentoml.exceptions.BadInput` (HTTP 400,
    naming the input) when the shape or dtype cannot match::

        @bentoml.artifacts([TensorflowSavedModelArtifact("model")])
        class Classifier(bentoml.BentoService):
            @bentoml.api(input=TfTensorInput())
            def predict(self, tensor):
                return self.artifacts.model(tensor)

        svc.pack("model", my_module)            # a tf.Module with tf.function methods
        svc.pack("model", "exported/1/")        # an existing SavedModel directory
        svc.pack("model", keras_model)          # a Keras model

    TensorFlow's thread pools do not survive a fork, so each API server
    worker loads the model after forking (``fork_safe = False``).

    :param name: the artifact's name (``self.artifacts.<name>``).
    """

    requirement_imports = ("tensorflow", "keras")
    fork_safe = False

    # -- pack ------------------------------------------------------------------------
    def _pack(self, obj: Any) -> Any:
        from bentoml_tensorflow.saved_model import LoadedSavedModel

        if isinstance(obj, LoadedSavedModel) or _is_keras_model(obj):
            return obj
        if isinstance(obj, (str, os.PathLike)):
            return self._pack_path(os.path.abspath(os.fspath(obj)))
        if _is_trackable(obj):
            return LoadedSavedModel(obj)
        what = obj if isinstance(obj, type) else type(obj)
        raise InvalidArgument(
            f"TensorflowSavedModelArtifact {self.name!r} packs a tf.Module (with tf.function methods), "
            f"a Keras model, or the path of a SavedModel directory or .keras file; "
            f"got {what.__module__}.{what.__qualname__}")

    def _pack_path(self, path: str) -> Any:
        if os.path.isfile(path) and path.endswith(".keras"):
            return self._load_keras(path)
        if os.path.isdir(path):
            if not any(os.path.isfile(os.path.join(path, f)) for f in _SAVED_MODEL_FILES):
                raise InvalidArgument(
                    f"TensorflowSavedModelArtifact {self.name!r}: {path} holds no saved_model.pb; "
                    "pass the directory that tf.saved_model.save wrote")
            return self._load_saved_model(path)
        raise InvalidArgument(
            f"TensorflowSavedModelArtifact {self.name!r}: {path} is neither a SavedModel directory "
            "nor a .keras file" + ("" if os.path.exists(path) else " (it does not exist)"))

    # -- save ------------------------------------------------------------------------
    def _save(self, obj: Any, path: str) -> None:
        if _is_keras_model(obj):
            obj.save(os.path.join(path, KERAS_FILE))
            return
        target = os.path.join(path, SAVED_MODEL_DIR)
        if obj.path is not None:  # a SavedModel from disk: copy it, assets and all, unchanged
            shutil.copytree(obj.path, target)
        else:
            from bentoml_tensorflow._tensorflow import import_tensorflow

            import_tensorflow().saved_model.save(obj.wrapped, target)

    # -- load ------------------------------------------------------------------------
    def _load(self, path: str) -> Any:
        keras_file = os.path.join(path, KERAS_FILE)
        if os.path.isfile(keras_file):
            return self._load_keras(keras_file)
        saved_model = os.path.join(path, SAVED_MODEL_DIR)
        if os.path.isdir(saved_model):
            return self._load_saved_model(saved_model)
        raise NotFound(f"TensorflowSavedModelArtifact {self.name!r}: {path} holds neither "
                       f"{SAVED_MODEL_DIR}/ nor {KERAS_FILE}")

    @staticmethod
    def _load_saved_model(path: str) -> Any:
        from bentoml_tensorflow._tensorflow import import_tensorflow
        from bentoml_tensorflow.saved_model import LoadedSavedModel

        return LoadedSavedModel(import_tensorflow().saved_model.load(path), path=path)

    @staticmethod
    def _load_keras(path: str) -> Any:
        from bentoml_tensorflow._tensorflow import import_keras
        from bentoml_tensorflow.keras_model import guard_keras_model

        return guard_keras_model(import_keras().saving.load_model(path))


@hookimpl
def register_artifacts(register):
    """Provide ``TensorflowSavedModelArtifact`` to ``bentoml.artifact``."""
    # Where BentoML 0.9-0.13 kept it.
    register(TensorflowSavedModelArtifact, legacy_paths=("bentoml.frameworks.tensorflow",))
