"""Lossless casts for plugins that hand numpy arrays to models.

An input adapter that types request values, or an artifact that fits a call's
argument to the input a model declares, converts an array only when every
value survives: ints into float32, integral floats (``3.0``) into int32, text
into a string input.  A conversion that would change a value (``3.7`` into
int32, ``300`` into uint8, ``1e6`` into float16, text into float32, ``True``
into a number) is a :class:`~bentoml.exceptions.BadInput` naming the input, an
example value and the expected dtype, so the API server answers 400 instead of
predicting on silently altered data.

Float targets round to the nearest representable value, as any float
conversion does (``0.1`` into float32, ``2**24 + 1`` into float32); what they
refuse is overflow.

The kernel does not depend on numpy: it is imported inside the function, and
the plugins that call it depend on numpy themselves.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bentoml.exceptions import BadInput

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["STRING", "lossless_cast"]

#: TensorFlow's name for its bytes dtype: the target that takes text and binary values.
STRING = "string"

_KIND_WORDS = {"U": "strings", "S": "strings", "b": "booleans", "c": "complex numbers"}


def lossless_cast(array: "np.ndarray", dtype: Any, what: str) -> "np.ndarray":
    """``array`` as ``dtype`` when no value changes, else :class:`~bentoml.exceptions.BadInput`.

    :param array: a numpy array (the caller builds it: from JSON, a list, a tensor).
    :param dtype: a numpy dtype name (``"float32"``, ``"int64"``, ``"bool"``) or
        anything ``numpy.dtype()`` takes, or ``"string"``: text and binary values,
        returned as an object array of ``bytes`` (``str`` encoded as UTF-8), the
        form TensorFlow takes for ``tf.string``.
    :param what: how messages name the value (``"input 'x'"``).
    :returns: ``array`` itself when it already has the dtype, else a new array.
    :raises BadInput: when a value would change, or is of another kind
        (strings for a number, booleans for a number and the reverse).
    :raises ValueError: when ``dtype`` is not a numeric, bool or string dtype.
    """
    import numpy as np

    if isinstance(dtype, str) and dtype == STRING:
        return _to_bytes(np, array, what)
    target = np.dtype(dtype)
    name = target.name
    if target.kind in "USOMm":
        raise ValueError(f"lossless_cast casts to numeric, bool or {STRING!r} dtypes, not {dtype!r}")
    src = array.dtype
    if src == target:
        return array
    if src.kind in "USO" or "b" in (src.kind, target.kind):
        _refuse(what, array, None, f"{name} is expected")  # text into numbers; booleans and numbers either way
    if src.kind == "c" and target.kind != "c":
        imaginary = array.imag != 0
        if imaginary.any():
            raise BadInput(f"{what} holds complex numbers with an imaginary part "
                           f"(e.g. {_example(array, imaginary)!r}) but {name} is expected")
        array = array.real
    if target.kind in "iu":
        if array.dtype.kind == "f":
            bad = ~np.isfinite(array) | (array != np.trunc(array))
            if bad.any():
                raise BadInput(f"{what} holds non-integer values (e.g. {_example(array, bad)!r}) but {name} "
                               "is expected; round them first if that is intended")
        if array.size:
            info = np.iinfo(target)
            # Python scalars compare exactly (2.0**63 > 2**63 - 1), numpy scalars may round
            low, high = array.min().item(), array.max().item()
            if low < info.min or high > info.max:
                raise BadInput(f"{what} holds values outside the {name} range [{info.min}, {info.max}] "
                               f"(e.g. {low if low < info.min else high!r})")
        return array.astype(target)
    # float and complex targets (and float-like extension types such as bfloat16)
    with np.errstate(over="ignore", invalid="ignore"):
        out = array.astype(target)
        finite_out = np.isfinite(out if target.kind in "fc" else out.astype(np.float64))
    overflow = np.isfinite(array) & ~finite_out
    if overflow.any():
        raise BadInput(f"{what} holds values too large for {name} (e.g. {_example(array, overflow)!r})")
    return out


def _example(array: "np.ndarray", mask: Any = None) -> Any:
    """The first value (where ``mask`` is true) as a Python scalar."""
    value = (array if mask is None else array[mask]).flat[0]
    return value.item() if hasattr(value, "item") else value


def _describe(array: "np.ndarray") -> str:
    kind = array.dtype.kind
    if kind == "O":
        kinds = {type(v) for v in array.flat}
        return "strings" if kinds <= {str, bytes} else " and ".join(sorted(k.__name__ for k in kinds)) + " values"
    return _KIND_WORDS.get(kind, f"{array.dtype.name} numbers")


def _refuse(what: str, array: "np.ndarray", mask: Any, expected: str) -> None:
    example = ""
    if array.size:
        value = _example(array, mask)
        if isinstance(value, bytes):  # shown as the text a client sent, when it is text
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                pass
        example = f" (e.g. {value!r})"
    raise BadInput(f"{what} holds {_describe(array)}{example} but {expected}")


def _to_bytes(np: Any, array: "np.ndarray", what: str) -> "np.ndarray":
    """str and bytes values as an object array of bytes; anything else is refused."""
    kind = array.dtype.kind
    if kind not in "USO":
        _refuse(what, array, None, "strings are expected")
    values = list(array.flat)
    if kind == "O":
        if all(type(v) is bytes for v in values):
            return array
        wrong = [not isinstance(v, (str, bytes)) for v in values]
        if any(wrong):
            _refuse(what, array, np.array(wrong, dtype=bool).reshape(array.shape), "strings are expected")
    out = np.empty(array.shape, dtype=object)
    out.reshape(-1)[:] = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in values]
    return out
