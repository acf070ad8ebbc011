"""scikit-learn's input checks, recognized so that input a model refuses is a 400.

Every scikit-learn estimator checks its input with the functions of
``sklearn.utils.validation`` (``validate_data``, ``check_array``,
``_check_n_features``, ``_check_feature_names``; methods of ``BaseEstimator``
in ``sklearn.base`` before 1.6).  A ``ValueError`` or ``TypeError`` raised
inside one of them is the model refusing its input: the wrong number of
features, feature names it was not fitted with, text where numbers belong,
NaN or infinity.  The same types raised anywhere else (the user's own code, a
model that is not fitted) are not.
"""
from __future__ import annotations

import re
import sys
from typing import List, Optional

from bentoml.model_errors import one_line, raised_in

#: Where scikit-learn checks an estimator's input (1.6+ and the older BaseEstimator methods).
INPUT_CHECKS = (
    "sklearn.utils.validation:validate_data",
    "sklearn.utils.validation:check_array",
    "sklearn.utils.validation:check_X_y",
    "sklearn.utils.validation:_check_n_features",
    "sklearn.utils.validation:_check_feature_names",
    "sklearn.utils.validation:_assert_all_finite",
    "sklearn.base:_validate_data",
    "sklearn.base:_check_n_features",
    "sklearn.base:_check_feature_names",
)

_N_FEATURES = re.compile(r"X has (\d+) features?, but (\w+) is expecting (\d+) features? as input")
_NAN = re.compile(r"^Input (?:X |y )?contains NaN")
_NAN_ESTIMATOR = re.compile(r"(\w+) does not accept missing values encoded as NaN")
_INFINITY = re.compile(r"^Input (?:X |y )?contains infinity or a value too large for dtype\('(\w+)'\)")
_UNSEEN = "Feature names unseen at fit time:"
_MISSING = "Feature names seen at fit time, yet now missing:"


def _listed(text: str, heading: str) -> List[str]:
    """The ``- name`` lines under ``heading`` in scikit-learn's feature-name message."""
    if heading not in text:
        return []
    names = []
    for line in text.split(heading, 1)[1].splitlines()[1:]:
        if not line.startswith("- "):
            break
        names.append(line[2:])
    return names


def _feature_names(text: str) -> str:
    parts = []
    unseen, missing = _listed(text, _UNSEEN), _listed(text, _MISSING)
    if unseen:
        parts.append(f"unseen at fit time: {', '.join(unseen)}")
    if missing:
        parts.append(f"missing: {', '.join(missing)}")
    if not parts:  # "Feature names must be in the same order as they were in fit."
        return one_line(text)
    return "the feature names do not match those the model was fitted with; " + "; ".join(parts)


def message(exc: BaseException) -> Optional[str]:
    """The client's message when ``exc`` is scikit-learn refusing a model's input, else None."""
    if not isinstance(exc, (ValueError, TypeError)):
        return None
    exceptions = sys.modules.get("sklearn.exceptions")  # not imported: sklearn raised nothing
    if exceptions is None or isinstance(exc, exceptions.NotFittedError):
        return None
    if not raised_in(exc, *INPUT_CHECKS):
        return None
    text = str(exc)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    found = _N_FEATURES.search(text)
    if found:
        got, estimator, expected = found.groups()
        return f"the model expects {expected} features, got {got} ({estimator})"
    if _NAN.search(text):
        estimator = _NAN_ESTIMATOR.search(text)
        who = estimator.group(1) if estimator else "the model"
        return f"the input contains NaN (a missing value: JSON null or an empty CSV field), which {who} does not accept"
    found = _INFINITY.search(text)
    if found:
        return (f"the input contains infinity or a value too large for {found.group(1)} "
                "(JSON 1e999 is infinity)")
    if _UNSEEN in text or _MISSING in text or "feature names" in first.lower():
        return _feature_names(text)
    return one_line(first)  # "could not convert string to float: 'abc'"; no data dumps after it
