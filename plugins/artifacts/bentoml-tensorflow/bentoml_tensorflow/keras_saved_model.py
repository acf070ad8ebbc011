"""A SavedModel of a Keras model, for when the ``.keras`` file cannot be read back without its class.

Keras rebuilds a ``.keras`` file from the class names in its ``config.json``:
its own classes it imports itself, but a user's class (a subclassed
``keras.Model`` defined in a notebook, a custom layer) only if that class is
registered in the loading process.  A Bento is loaded in a fresh process that
often lacks it (``Could not locate class 'FashionMnist'``).  BentoML 0.x saved
such models with ``tf.saved_model.save`` and loaded them with
``tf.saved_model.load``, which needs no Python class; so for those models this
plugin writes that SavedModel next to the ``.keras`` file, holding:

- ``__call__``: the model's forward pass, traced for the input shapes of its
  first call (subclassed models) or its declared inputs, with a free batch size;
- every ``tf.function`` the model's own class defines (``predict_image``), as
  traced for its ``input_signature``;
- ``model``: the model's restored layers and variables.
"""
from __future__ import annotations

import json
import zipfile
from typing import Any, Dict, Iterator, List, Optional

from bentoml_tensorflow._tensorflow import import_tensorflow
from bentoml_tensorflow.keras_model import declared_inputs

#: Packages whose classes Keras imports by itself when it reads a ``.keras`` file.
_KERAS_PACKAGES = ("keras", "keras_hub", "keras_cv", "keras_nlp")


def _objects(config: Any) -> Iterator[Dict[str, Any]]:
    """Every serialized object (``{"class_name": ..., "module": ...}``) nested in ``config``."""
    if isinstance(config, dict):
        if "class_name" in config and "module" in config:
            yield config
        for value in config.values():
            yield from _objects(value)
    elif isinstance(config, list):
        for value in config:
            yield from _objects(value)


def classes_keras_cannot_import(keras_file: str) -> List[str]:
    """The classes (and functions) in a ``.keras`` file that Keras finds only if they are registered.

    Those are the user's own: Keras imports only the modules of its own packages.
    """
    with zipfile.ZipFile(keras_file) as archive:
        config = json.loads(archive.read("config.json"))
    own = []
    for obj in _objects(config):
        module = obj.get("module") or ""
        if module.split(".", 1)[0] not in _KERAS_PACKAGES:
            own.append(f"{module}.{obj['class_name']}" if module else str(obj["class_name"]))
    return sorted(set(own))


def _call_signature(model: Any) -> Optional[List[Any]]:
    """The TensorSpecs ``model(x)`` is traced for (any batch size); None if the model was never built."""
    tf = import_tensorflow()
    inputs = declared_inputs(model)
    specs = [tf.TensorSpec(spec.shape, spec.dtype, name=spec.name) for spec in inputs]
    if not specs:
        return None
    if len(specs) > 1 and not inputs[0].recorded:
        return [specs]  # a functional model takes its inputs as one list
    return specs


def _own_functions(model: Any) -> Dict[str, Any]:
    """The ``tf.function`` methods the model's own classes (not Keras's) define, bound to the model."""
    tf = import_tensorflow()
    functions: Dict[str, Any] = {}
    for klass in reversed(type(model).__mro__):
        if klass.__module__.split(".", 1)[0] in _KERAS_PACKAGES or klass.__module__.startswith("tensorflow"):
            continue
        for name, value in vars(klass).items():
            if isinstance(value, tf.types.experimental.GenericFunction):
                functions[name] = getattr(model, name)
    return functions


def save_keras_as_saved_model(model: Any, path: str) -> None:
    """Write ``model`` to ``path`` with ``tf.saved_model.save``: ``__call__``, its tf.functions, ``model``.

    ``tf.saved_model.save(model)`` alone would keep the tf.functions but not
    ``__call__`` (Keras 3 does not trace it), so they go into a ``tf.Module``.
    """
    tf = import_tensorflow()
    export = tf.Module()
    export.model = model
    for name, function in _own_functions(model).items():
        setattr(export, name, function)
    signature = _call_signature(model)
    if signature is not None:
        export.__call__ = tf.function(lambda *args: model(*args, training=False), input_signature=signature)
    tf.saved_model.save(export, path)
