"""``KerasModelArtifact``: BentoML 0.x's Keras artifact, for the Keras 3 models TensorFlow builds today.

0.x services declare ``KerasModelArtifact('model')`` (``bentoml.artifact``,
``bentoml.frameworks.keras``) and pack what ``tf.keras`` builds; since
TensorFlow 2.16 that is a Keras 3 model, which this artifact stores and loads
exactly as :class:`~bentoml_tensorflow.TensorflowSavedModelArtifact` stores a
Keras model (``model.keras``, plus a SavedModel for classes of the user's own),
and serves with the same input checks.  Keras 2 models (the ``tf_keras``
package) are refused with what to do instead.
"""
from __future__ import annotations

import sys
from typing import Any, Dict, Optional

from bentoml.exceptions import InvalidArgument

from bentoml_tensorflow import TensorflowSavedModelArtifact, _is_keras_model

#: 0.x's ``model_extension`` values: the file Keras 2 wrote.  Keras 3 keeps a model in
#: its ``.keras`` format whichever is given (it holds the architecture and the weights).
MODEL_EXTENSIONS = (".h5", ".keras")


class KerasModelArtifact(TensorflowSavedModelArtifact):
    """A Keras 3 model, declared as BentoML 0.x declared Keras models::

        @bentoml.artifacts([KerasModelArtifact("model", custom_objects={"Scale": Scale})])
        class Classifier(bentoml.BentoService):
            @bentoml.api(input=JsonInput())
            def predict(self, docs):
                return self.artifacts.model.predict_classes(np.array([d["x"] for d in docs]))

    ``pack`` takes the model, or 0.x's ``{"model": model, "custom_objects": {...}}``.
    ``self.artifacts.<name>`` is the Keras model itself, with Keras 2's
    ``predict_classes`` (see :mod:`bentoml_tensorflow.keras_model`).

    :param custom_objects: classes and functions the model uses that Keras cannot
        import by name; given to Keras when the bundle loads.
    :param model_extension: ``".h5"`` (0.x's default) or ``".keras"``; accepted for
        0.x services, the model is stored in the ``.keras`` format either way.
    :param store_as_json_and_weights: accepted for 0.x services (its JSON-and-weights
        layout); the ``.keras`` file holds both.
    """

    def __init__(self, name: str, custom_objects: Optional[Dict[str, Any]] = None,
                 model_extension: str = ".h5", store_as_json_and_weights: bool = False):
        super().__init__(name)
        if custom_objects is not None and not (isinstance(custom_objects, dict)
                                               and all(isinstance(k, str) for k in custom_objects)):
            raise InvalidArgument(f"KerasModelArtifact(custom_objects=...) must be a dict of name -> class or "
                                  f"function, got {custom_objects!r}")
        if model_extension not in MODEL_EXTENSIONS:
            raise InvalidArgument(f"KerasModelArtifact(model_extension=...) must be one of {MODEL_EXTENSIONS}, "
                                  f"got {model_extension!r}")
        if not isinstance(store_as_json_and_weights, bool):
            raise InvalidArgument("KerasModelArtifact(store_as_json_and_weights=...) must be True or False, "
                                  f"got {store_as_json_and_weights!r}")
        self.custom_objects = custom_objects
        self.model_extension = model_extension
        self.store_as_json_and_weights = store_as_json_and_weights

    def _pack(self, obj: Any) -> Any:
        if isinstance(obj, dict) and "model" in obj:  # 0.x: pack({"model": m, "custom_objects": {...}})
            extra = set(obj) - {"model", "custom_objects"}
            if extra:
                raise InvalidArgument(f"KerasModelArtifact {self.name!r} packs {{'model': ..., 'custom_objects': "
                                      f"...}}; got the keys {sorted(extra)} as well")
            if obj.get("custom_objects") is not None:
                self.custom_objects = {**(self.custom_objects or {}), **obj["custom_objects"]}
            obj = obj["model"]
        if _is_keras_model(obj):
            return super()._pack(obj)
        what = obj if isinstance(obj, type) else type(obj)
        if "tf_keras" in what.__module__.split(".")[0] or _is_tf_keras_model(obj):
            raise InvalidArgument(
                f"KerasModelArtifact {self.name!r}: {what.__module__}.{what.__qualname__} is a Keras 2 (tf_keras) "
                "model; build it with Keras 3 (tf.keras in TensorFlow 2.16+), or pack it into "
                "TensorflowSavedModelArtifact, which saves it as a SavedModel")
        raise InvalidArgument(
            f"KerasModelArtifact {self.name!r} packs a Keras model; got {what.__module__}.{what.__qualname__} "
            "(a tf.Module or a SavedModel directory goes into TensorflowSavedModelArtifact)")


def _is_tf_keras_model(obj: Any) -> bool:
    tf_keras = sys.modules.get("tf_keras")
    return tf_keras is not None and isinstance(obj, tf_keras.Model)
