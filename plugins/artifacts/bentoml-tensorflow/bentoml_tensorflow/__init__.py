"""TensorFlow models as BentoML artifacts: SavedModels, ``tf.Module``s and Keras models.

``from bentoml.artifact import TensorflowSavedModelArtifact`` resolves to the
class below once this distribution is installed.  TensorFlow is imported only
when a model is packed from a path, saved or loaded, never by importing this
package; numpy and the helper modules are imported as late.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import sys
from typing import Any, Dict, Optional

from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import BundleError, InvalidArgument, NotFound
from bentoml.hookspecs import hookimpl

__all__ = ["KerasModelArtifact", "TensorflowSavedModelArtifact"]

logger = logging.getLogger("bentoml.tensorflow")

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
      file keeps it one (layers, ``predict``, ``fit``).  When the model uses
      classes of the user's own (a subclassed ``keras.Model``, a custom layer),
      which Keras can rebuild only where they are registered, a SavedModel is
      written next to it as BentoML 0.x did; a process where Keras cannot find
      those classes loads that instead, with the model's ``tf.function``
      methods and ``__call__`` (see :mod:`bentoml_tensorflow.keras_saved_model`).

    In the API function, ``self.artifacts.<name>`` is, for a SavedModel, a
    :class:`~bentoml_tensorflow.saved_model.LoadedSavedModel` (also for a
    packed ``tf.Module``, so a service behaves the same before and after it is
    saved) and, for Keras, the Keras model itself (see
    :mod:`bentoml_tensorflow.keras_model`), packed or loaded.  Calling either with lists or
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
    #: Given to Keras when it loads the model: classes and functions the model uses (see KerasModelArtifact).
    custom_objects: Optional[Dict[str, Any]] = None

    @classmethod
    def bad_input_message(cls, exc: BaseException) -> Optional[str]:
        """Keras's layer input checks and a restored function's argument binding refusing
        what the API function passed itself (see :mod:`bentoml_tensorflow._input_errors`)."""
        from bentoml_tensorflow import _input_errors

        return _input_errors.message(exc)

    # -- pack ------------------------------------------------------------------------
    def _pack(self, obj: Any) -> Any:
        from bentoml_tensorflow.saved_model import LoadedSavedModel

        if isinstance(obj, LoadedSavedModel):
            return obj
        if _is_keras_model(obj):
            from bentoml_tensorflow.keras_model import guard_keras_model

            return guard_keras_model(obj)
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
            self._save_keras(obj, path)
            return
        target = os.path.join(path, SAVED_MODEL_DIR)
        if obj.path is not None:  # a SavedModel from disk: copy it, assets and all, unchanged
            shutil.copytree(obj.path, target)
        else:
            from bentoml_tensorflow._tensorflow import import_tensorflow

            import_tensorflow().saved_model.save(obj.wrapped, target)

    def _save_keras(self, model: Any, path: str) -> None:
        from bentoml_tensorflow.keras_model import as_own_class
        from bentoml_tensorflow.keras_saved_model import classes_keras_cannot_import, save_keras_as_saved_model

        keras_file = os.path.join(path, KERAS_FILE)
        model.save(keras_file)
        own = classes_keras_cannot_import(keras_file)
        if not own:
            return
        target = os.path.join(path, SAVED_MODEL_DIR)
        logger.debug("artifact %r uses %s: also saving it as a SavedModel", self.name, ", ".join(own))
        try:
            with as_own_class(model):
                save_keras_as_saved_model(model, target)
        except Exception as exc:  # tracing runs the user's code; the .keras file is complete anyway
            shutil.rmtree(target, ignore_errors=True)
            logger.debug("tracing the Keras model of artifact %r failed", self.name, exc_info=True)
            logger.warning("artifact %r: could not also save the Keras model as a SavedModel (%s); it loads only "
                           "where Keras finds %s", self.name, _traced_error(exc), ", ".join(own))

    # -- load ------------------------------------------------------------------------
    def _load(self, path: str) -> Any:
        keras_file = os.path.join(path, KERAS_FILE)
        saved_model = os.path.join(path, SAVED_MODEL_DIR)
        if os.path.isfile(keras_file):
            try:
                return self._load_keras(keras_file)
            except (TypeError, ValueError) as exc:  # how Keras says it cannot rebuild a class
                reason = _first_line(exc)
                if not os.path.isdir(saved_model):
                    raise BundleError(f"TensorflowSavedModelArtifact {self.name!r}: Keras cannot rebuild "
                                      f"{keras_file}: {reason}") from None
            logger.info("artifact %r is loaded as a SavedModel, not as a Keras model: %s", self.name, reason)
        if os.path.isdir(saved_model):
            return self._load_saved_model(saved_model)
        raise NotFound(f"TensorflowSavedModelArtifact {self.name!r}: {path} holds neither "
                       f"{SAVED_MODEL_DIR}/ nor {KERAS_FILE}")

    @staticmethod
    def _load_saved_model(path: str) -> Any:
        from bentoml_tensorflow._tensorflow import import_tensorflow
        from bentoml_tensorflow.saved_model import LoadedSavedModel

        return LoadedSavedModel(import_tensorflow().saved_model.load(path), path=path)

    def _load_keras(self, path: str) -> Any:
        from bentoml_tensorflow._tensorflow import import_keras
        from bentoml_tensorflow.keras_model import guard_keras_model

        # safe_mode=False: Keras otherwise refuses the Python bytecode of Lambda layers.  That
        # guard is for files from strangers; a Bento is trusted code (it runs its own Python
        # module and unpickles its artifacts anyway, see the README's "Trust").
        return guard_keras_model(import_keras().saving.load_model(path, custom_objects=self.custom_objects,
                                                                  safe_mode=False))


def _first_line(exc: BaseException) -> str:
    """The first sentence of an error: Keras appends the whole object config to some."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.split(". ", 1)[0].rstrip(".")


def _traced_error(exc: BaseException) -> str:
    """A tracing error in one line: TensorFlow wraps it in the traced frames ("in user code: ...")."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(exc).splitlines()]
    named = [line for line in lines if re.match(r"\w+(Error|Exception): ", line)]
    return named[-1] if named else f"{type(exc).__name__}: {next((line for line in lines if line), '')}"


@hookimpl
def register_artifacts(register):
    """Provide ``TensorflowSavedModelArtifact`` and ``KerasModelArtifact`` to ``bentoml.artifact``."""
    # Where BentoML 0.9-0.13 kept it.
    register(TensorflowSavedModelArtifact, legacy_paths=("bentoml.frameworks.tensorflow",))
    # BentoML 0.x's Keras artifact (0.9-0.13 kept it in bentoml.frameworks.keras), for Keras 3 models.
    register(KerasModelArtifact, legacy_paths=("bentoml.frameworks.keras",))


from bentoml_tensorflow.keras_artifact import KerasModelArtifact  # noqa: E402 - it subclasses the class above
