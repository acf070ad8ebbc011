"""A SavedModel (or packed tf.Module) whose functions take lists and numpy arrays.

``self.artifacts.model`` is a :class:`LoadedSavedModel`.  Calling it, or any of
its ``tf.function`` attributes, first fits each argument to the function's
declared input signature (see :mod:`bentoml_tensorflow._inputs`), so a request
of the wrong shape or type is a :class:`~bentoml.exceptions.BadInput` (HTTP 400)
naming the input, not a TensorFlow traceback (HTTP 500).  Everything else is
the SavedModel's own: attribute access is delegated, so ``.signatures``,
variables and other functions work as on the object ``tf.saved_model.load``
returns (``.wrapped``).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from bentoml.exceptions import BadInput

from bentoml_tensorflow._inputs import conform
from bentoml_tensorflow._tensorflow import import_tensorflow

Signature = Tuple[Tuple[Any, ...], Dict[str, Any]]


def _is_tf_function(value: Any) -> bool:
    """A ``tf.function`` (traced or restored) or a concrete function: something with a signature."""
    return callable(value) and (hasattr(value, "concrete_functions") or hasattr(value, "input_signature")
                                or hasattr(value, "structured_input_signature"))


def _signatures(fn: Any) -> List[Signature]:
    """The ``(args, kwargs)`` specs ``fn`` accepts; empty when it traces whatever it gets."""
    if hasattr(fn, "structured_input_signature"):  # a concrete function (e.g. from .signatures)
        return [fn.structured_input_signature]
    restored = getattr(fn, "concrete_functions", None)
    if restored:  # a function restored by tf.saved_model.load: one entry per traced signature
        return [cf.structured_input_signature for cf in restored]
    if getattr(fn, "input_signature", None) is not None:
        # Tracing now is what the first call would do anyway; it names the arguments.
        return [fn.get_concrete_function().structured_input_signature]
    return []


def _fit(value: Any, spec: Any, what: str) -> Any:
    """``value`` fitted to ``spec``: a TensorSpec, or a dict/list/tuple of them."""
    tf = import_tensorflow()
    if isinstance(spec, tf.TensorSpec):
        shape = None if spec.shape.rank is None else spec.shape.as_list()
        return conform(value, shape, spec.dtype.name, what)
    if isinstance(spec, Mapping) and isinstance(value, Mapping):
        missing = [k for k in spec if k not in value]
        if missing:
            raise BadInput(f"{what} is missing {', '.join(map(repr, missing))}; expected keys {list(spec)}")
        return {k: _fit(v, spec[k], f"{what}[{k!r}]") if k in spec else v for k, v in value.items()}
    if isinstance(spec, (list, tuple)) and isinstance(value, (list, tuple)) and len(spec) == len(value) \
            and any(isinstance(s, tf.TypeSpec) for s in spec):
        return type(value)(_fit(v, s, f"{what}[{i}]") for i, (v, s) in enumerate(zip(value, spec)))
    return value  # other specs (ragged, sparse, Python constants): TensorFlow checks them itself


def _spec_name(spec: Any, fallback: str) -> str:
    name = getattr(spec, "name", None)
    return f"input {name!r}" if name else fallback


def _fit_call(args: Sequence[Any], kwargs: Mapping[str, Any], signature: Signature,
              fn_name: str) -> Tuple[tuple, dict]:
    sig_args, sig_kwargs = signature
    if len(args) > len(sig_args):
        raise BadInput(f"{fn_name} takes {len(sig_args)} positional input(s), got {len(args)}")
    fitted = tuple(_fit(v, s, _spec_name(s, f"{fn_name} argument {i}"))
                   for i, (v, s) in enumerate(zip(args, sig_args)))
    # Positional parameters may be passed by name too (``model(**named_tensors)``).
    by_name = {getattr(s, "name", None): s for s in sig_args[len(args):]}
    by_name.update(sig_kwargs)
    unknown = [k for k in kwargs if k not in by_name]
    if unknown and None not in by_name:  # every parameter's name is known: ``unknown`` is a client's typo
        raise BadInput(f"{fn_name} has no input {unknown[0]!r}; its inputs are {sorted(by_name)}")
    fitted_kwargs = {k: _fit(v, by_name[k], f"input {k!r}") if k in by_name else v for k, v in kwargs.items()}
    return fitted, fitted_kwargs


class GuardedFunction:
    """A ``tf.function`` of a SavedModel whose arguments are fitted to its signature first.

    With several traced signatures the first that the arguments fit is used;
    a function traced without any signature gets the arguments unchanged.
    Other attributes (``concrete_functions``, ``get_concrete_function``) are the function's own.
    """

    def __init__(self, fn: Any, name: str):
        self._fn = fn
        self._name = name
        self._signatures: Optional[List[Signature]] = None  # read on first call, then fixed

    @property
    def wrapped(self) -> Any:
        """The TensorFlow function itself."""
        return self._fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function with the arguments fitted to a signature; BadInput if none fits."""
        if self._signatures is None:
            self._signatures = _signatures(self._fn)
        signatures = self._signatures
        if not signatures:
            return self._fn(*args, **kwargs)
        errors: List[str] = []
        for signature in signatures:
            try:
                fitted_args, fitted_kwargs = _fit_call(args, kwargs, signature, self._name)
            except BadInput as exc:
                errors.append(str(exc))
                continue
            return self._fn(*fitted_args, **fitted_kwargs)
        if len(errors) == 1:
            raise BadInput(errors[0])
        raise BadInput(f"the inputs fit none of the {len(errors)} signatures of {self._name}: " + "; ".join(errors))

    def __getattr__(self, name: str) -> Any:
        if name in ("_fn", "_name", "_signatures"):
            raise AttributeError(name)
        return getattr(self._fn, name)

    def __repr__(self) -> str:
        return f"GuardedFunction({self._name}: {self._fn!r})"


class _ServingSignatureCall:
    """``model(x)`` for a SavedModel without ``__call__`` (e.g. Keras ``model.export()``).

    Signature functions take keyword arguments and return a dict of outputs; a
    single positional argument goes to the only input, and a single output is
    returned alone, as TF Serving does for single-output signatures.
    """

    def __init__(self, fn: Any, key: str):
        self._fn = fn
        self._key = key
        self._guarded = GuardedFunction(fn, f"signature {key!r}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        names = list(self._fn.structured_input_signature[1])
        if args:
            if len(args) == 1 and isinstance(args[0], Mapping) and not kwargs:
                kwargs = dict(args[0])
            elif len(args) == 1 and len(names) == 1 and not kwargs:
                kwargs = {names[0]: args[0]}
            else:
                raise BadInput(f"signature {self._key!r} takes named inputs {names}; "
                               "pass them as keywords or as one dict")
        unknown = [k for k in kwargs if k not in names]
        if unknown:
            raise BadInput(f"signature {self._key!r} has no input {unknown[0]!r}; its inputs are {names}")
        missing = [k for k in names if k not in kwargs]
        if missing:
            raise BadInput(f"signature {self._key!r} is missing input {missing[0]!r}; its inputs are {names}")
        outputs = self._guarded(**kwargs)
        if isinstance(outputs, Mapping) and len(outputs) == 1:
            return next(iter(outputs.values()))
        return outputs


class LoadedSavedModel:
    """What ``self.artifacts.<name>`` is for a SavedModel or a packed ``tf.Module``.

    ``model(x)`` calls the object's ``__call__`` (or, when it has none, its
    ``serving_default`` signature) with ``x`` fitted to the declared input:
    lists and numpy arrays are converted to the signature's dtype when every
    value survives the conversion, and anything that cannot match raises
    :class:`~bentoml.exceptions.BadInput`::

        model = self.artifacts.model
        model([[5.1, 3.5, 1.4, 0.2]])        # list -> float32 tensor of shape (1, 4)
        model.other_function(np.arange(3))  # every tf.function attribute is guarded the same way
        model.signatures["serving_default"]  # the SavedModel's own, unchanged

    :param obj: the object ``tf.saved_model.load`` returned, or a ``tf.Module``.
    :param path: the SavedModel directory it was loaded from; saving copies it
        as is.  None for an in-memory module, which saving writes with
        ``tf.saved_model.save``.
    """

    def __init__(self, obj: Any, path: Optional[str] = None):
        self._obj = obj
        self._path = path
        self._guarded: Dict[str, Any] = {}  # one guard per function, so signatures are read once

    @property
    def wrapped(self) -> Any:
        """The TensorFlow object itself (``tf.saved_model.load``'s result or the packed module)."""
        return self._obj

    @property
    def path(self) -> Optional[str]:
        """The SavedModel directory this was loaded from, or None for an in-memory module."""
        return self._path

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The model's ``__call__`` (or ``serving_default`` signature) on fitted arguments."""
        call = self._guarded.get("__call__")
        if call is None:
            call = self._guarded["__call__"] = self._call_target()
        return call(*args, **kwargs)

    def _call_target(self) -> Any:
        if callable(self._obj):
            return GuardedFunction(self._obj.__call__, "the model")
        signatures = getattr(self._obj, "signatures", None) or {}
        if "serving_default" in signatures:
            return _ServingSignatureCall(signatures["serving_default"], "serving_default")
        functions = [n for n in dir(self._obj) if not n.startswith("_") and _is_tf_function(getattr(self._obj, n))]
        raise TypeError("this SavedModel has no __call__ and no 'serving_default' signature; "
                        f"call one of its functions instead: {functions or list(signatures)}")

    def __getattr__(self, name: str) -> Any:
        if name in ("_obj", "_path", "_guarded"):  # not set yet (copy, unpickling): no delegation
            raise AttributeError(name)
        value = getattr(self._obj, name)
        if name.startswith("_") or not _is_tf_function(value):
            return value
        guarded = self._guarded.get(name)
        if guarded is None or guarded.wrapped is not value:
            guarded = self._guarded[name] = GuardedFunction(value, name)
        return guarded

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(dir(self._obj)))

    def __repr__(self) -> str:
        where = f" from {self._path}" if self._path else ""
        return f"<LoadedSavedModel{where}: {type(self._obj).__name__}>"
