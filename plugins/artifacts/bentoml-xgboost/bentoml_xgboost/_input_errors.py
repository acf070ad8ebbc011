"""XGBoost's input checks, recognized so that input a model refuses is a 400.

XGBoost refuses a model's input in three places: converting the data
(``xgboost.data``: a DataFrame column that is not a number or a category, an
unsupported type), checking feature names against the model's
(``Booster._validate_features``: ``feature_names mismatch``), and checking the
width (``Booster.inplace_predict``: ``Feature shape mismatch, expected: 4, got
3``).  Its C++ library reports some input errors too (``Input data contains
`inf```), as an ``XGBoostError`` carrying a source location and a stack trace
that the client must not see.  Errors of any type raised anywhere else stay
500s.
"""
from __future__ import annotations

import ast
import re
from typing import List, Optional

from bentoml.model_errors import one_line, raised_in

#: Where XGBoost converts or checks the data a model is asked to predict on.
INPUT_CHECKS = ("xgboost.data", "xgboost.core:_validate_features")

_SHAPE = re.compile(r"Feature shape mismatch, expected: (\d+), got (\d+)")
_NAMES = re.compile(r"^feature_names mismatch: (\[.*?\]) (\[.*?\])$", re.MULTILINE)
_DTYPES = re.compile(r"^DataFrame\.dtypes for data must be int, float, bool or category\..*?Invalid columns:\s*(.*)$",
                     re.DOTALL)
#: C++ errors: "[10:52:41] /workspace/src/data/data.cc:1196: Check failed: valid: MESSAGE\nStack trace: ..."
_NATIVE_PREFIX = re.compile(r"^\[[\d:]+\] \S+:\d+: (?:Check failed: [^:]*: )?")
_NATIVE_INPUT = ("Input data contains `inf`", "Number of columns does not match number of features",
                 "Feature shape mismatch", "feature_names mismatch")


def _names(text: str) -> Optional[List[str]]:
    try:
        names = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return [str(n) for n in names] if isinstance(names, list) else None


def _feature_names(text: str) -> str:
    found = _NAMES.search(text)
    model_names = _names(found.group(1)) if found else None
    data_names = _names(found.group(2)) if found else None
    if model_names is None or data_names is None:
        return one_line(text.replace("\n", "; "))
    missing = [n for n in model_names if n not in data_names]
    unseen = [n for n in data_names if n not in model_names]
    parts = [f"the model expects the features {', '.join(model_names)}"]
    if missing:
        parts.append(f"missing: {', '.join(missing)}")
    if unseen:
        parts.append(f"not in the training data: {', '.join(unseen)}")
    if not (missing or unseen):
        parts.append(f"got them in another order: {', '.join(data_names)}")
    return one_line("; ".join(parts))


def _native(text: str) -> str:
    """A C++ error's own message, without its source location and stack trace."""
    text = text.split("Stack trace:", 1)[0]
    return one_line(_NATIVE_PREFIX.sub("", text.strip()))


def message(exc: BaseException) -> Optional[str]:
    """The client's message when ``exc`` is XGBoost refusing a model's input, else None."""
    if not isinstance(exc, (ValueError, TypeError)):  # XGBoostError is a ValueError
        return None
    text = str(exc)
    shape = _SHAPE.search(text)
    if shape and raised_in(exc, "xgboost.core:inplace_predict", "xgboost.core:_check_call"):
        return f"the model expects {shape.group(1)} features, got {shape.group(2)}"
    native = type(exc).__name__ == "XGBoostError" and raised_in(exc, "xgboost.core:_check_call")
    # The library failing for another reason (memory, a broken model file) stays a 500.
    if not (raised_in(exc, *INPUT_CHECKS) or (native and any(phrase in text for phrase in _NATIVE_INPUT))):
        return None
    if text.startswith("feature_names mismatch"):
        return _feature_names(text)
    dtypes = _DTYPES.search(text)
    if dtypes:
        return (f"XGBoost takes columns of numbers (int, float, bool) or categories; "
                f"invalid columns: {one_line(dtypes.group(1))}")
    if native:
        return _native(text)
    return one_line(text.strip().splitlines()[0] if text.strip() else type(exc).__name__)
