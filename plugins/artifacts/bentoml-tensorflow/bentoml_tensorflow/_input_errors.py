"""TensorFlow's and Keras's input checks, recognized so that input a model refuses is a 400.

The artifact conforms what it is called with to the model's declared inputs
(:mod:`bentoml_tensorflow._inputs`), but an API function may call what it
unpacked itself: a Keras model or layer (``model(x)``, ``model.predict(x)``),
which checks shapes in ``keras.src.layers.input_spec``, or a restored
``tf.function`` or signature (``loaded.serve(x)``), which binds its arguments
to the declared ``TensorSpec``s in ``function_type_utils`` and finds no
concrete function in ``function_deserialization``.  Those checks name the
shapes; Keras wraps its message in ANSI bold and the call's arguments, which
the client must not see.  Errors raised anywhere else stay 500s.
"""
from __future__ import annotations

import re
from typing import Optional

from bentoml.model_errors import one_line, raised_in

#: Where Keras checks a layer's input, and where TensorFlow binds a restored function's arguments.
INPUT_CHECKS = ("keras.src.layers.input_spec:assert_input_compatibility",
                "tensorflow.python.eager.polymorphic_function.function_type_utils:bind_function_inputs",
                "tensorflow.python.saved_model.function_deserialization:restored_function_body")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_KERAS = re.compile(r"(Input \d+ (?:with name '[^']*' )?of layer '[^']*' is incompatible with the layer: .*)")
_CAST = re.compile(r"Can not cast TensorSpec\(shape=(\(.*?\)), dtype=tf\.(\w+).*?\) to "
                   r"TensorSpec\(shape=(\(.*?\)), dtype=tf\.(\w+)")


def message(exc: BaseException) -> Optional[str]:
    """The client's one-line message when ``exc`` is one of those checks refusing the input, else None."""
    if not isinstance(exc, (ValueError, TypeError)) or not raised_in(exc, *INPUT_CHECKS):
        return None
    text = _ANSI.sub("", str(exc))
    keras = _KERAS.search(text)
    if keras:
        return one_line(keras.group(1))
    cast = _CAST.search(text)
    if cast:
        got_shape, got_dtype, want_shape, want_dtype = cast.groups()
        return (f"the model takes a {want_dtype} tensor of shape {want_shape}, "
                f"got a {got_dtype} tensor of shape {got_shape}")
    return one_line(text.split("\n\n")[0].split(" Received args:")[0])
