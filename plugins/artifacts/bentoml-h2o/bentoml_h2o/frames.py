"""pandas in, pandas out: predicting with an H2O model inside an API function."""
from __future__ import annotations

import io
import re
from typing import Any, Dict, List, Optional

from bentoml.artifact import with_mixin
from bentoml.exceptions import BadInput

# H2O's column types as a model records them -> as H2OFrame(column_types=...) takes them.
_FRAME_TYPES = {"Numeric": "real", "Enum": "enum", "String": "string", "Time": "time", "UUID": "uuid"}
# A scoring job that fails on its input: "... failed with an exception: java.lang.IllegalArgumentException: MSG"
_INPUT_REJECTED = re.compile(r"java\.lang\.IllegalArgumentException: ([^\n]+)")


def feature_columns(model: Any) -> List[str]:
    """The columns ``model`` was trained on, without its response, weights, offset and fold columns."""
    info = getattr(model, "_model_json", None) or {}
    names = (info.get("output") or {}).get("names") or []
    params = getattr(model, "actual_params", None) or {}
    special = {info.get("response_column_name")}
    for key in ("response_column", "weights_column", "offset_column", "fold_column"):
        value = params.get(key)
        special.add(value.get("column_name") if isinstance(value, dict) else value)
    return [name for name in names if name not in special]


def _check_columns(df: Any, features: List[str]) -> None:
    """H2O scores a missing column as all NaN (with a warning in its log); for a request that is bad input."""
    present = {str(c) for c in df.columns}
    missing = [name for name in features if name not in present]
    if missing:
        raise BadInput(f"missing columns {', '.join(map(repr, missing))}; the H2O model was trained on "
                       f"{', '.join(map(repr, features))}")


def rejected_input(exc: BaseException) -> Optional[str]:
    """The reason H2O gives when a scoring job fails on its input ("... has no columns in common ..."), or None."""
    if not isinstance(exc, OSError):  # h2o's "job failed" error, carrying the Java exception's text
        return None
    rejected = _INPUT_REJECTED.search(str(exc))
    return f"the H2O model cannot score this input: {rejected.group(1).strip()}" if rejected else None


def training_column_types(model: Any) -> Dict[str, str]:
    """Column name -> H2O frame type (``real``, ``enum``...) of the frame ``model`` was trained on."""
    output = (getattr(model, "_model_json", None) or {}).get("output") or {}
    names, types = output.get("names") or [], output.get("column_types") or []
    return {name: _FRAME_TYPES[kind] for name, kind in zip(names, types) if kind in _FRAME_TYPES}


def _as_trained(df: Any, types: Dict[str, str]) -> Any:
    """``df`` with numeric columns made numbers and categorical ones strings, as in training.

    H2O would otherwise guess each column's type from this batch alone: a missing
    value makes a number column categorical, levels "1" and "2" make a categorical
    column numeric, and scoring then fails for the whole batch.
    """
    import pandas as pd

    df = df.copy()
    for column in df.columns:
        kind = types.get(column)
        values = df[column]
        if kind == "real":
            numbers = pd.to_numeric(values, errors="coerce").astype("float64")
            bad = values[numbers.isna() & values.notna()]
            if len(bad):
                raise BadInput(f"column {column!r} must be numeric; got {bad.iloc[0]!r}")
            df[column] = numbers
        elif kind == "enum":
            df[column] = values.where(values.isna(), values.astype(str))
    return df


def predict_dataframe(model: Any, df: Any, column_types: Optional[Dict[str, str]] = None) -> Any:
    """``model.predict`` on a pandas DataFrame; returns its predictions as a pandas DataFrame.

    An H2O model predicts on an ``H2OFrame`` living in the cluster.  This uploads
    ``df`` with the column types the model was trained with, predicts, reads the
    predictions back and removes both frames from the cluster: frames uploaded per
    request would otherwise stay in the H2O's memory until it stops.  The result
    has one row per row of ``df`` (for a classifier: ``predict`` and one
    probability column per class).  Input H2O cannot score raises
    :class:`BadInput`, which an API server answers with HTTP 400: text in a
    numeric column, a column the model was trained on that ``df`` lacks (H2O
    itself would score it as all NaN; send ``null`` values for a value that is
    really missing, or predict on an ``H2OFrame`` yourself), no column in common
    with training.  Extra columns are ignored.

    :param model: an H2O model, e.g. ``self.artifacts.model``.
    :param df: a pandas DataFrame with the model's feature columns.
    :param column_types: H2O frame types by column (``{"zip": "enum"}``) to use
        instead of the training types (or for columns the model does not know).

    Example::

        @bentoml.api(input=DataframeInput())
        def predict(self, df):
            return predict_dataframe(self.artifacts.model, df)["predict"]
    """
    import h2o
    import pandas as pd

    types = {**training_column_types(model), **(column_types or {})}
    _check_columns(df, feature_columns(model))
    df = _as_trained(df, types)
    frame = h2o.H2OFrame(df, column_types={c: types[c] for c in df.columns if c in types} or None)
    try:
        try:
            predictions = model.predict(frame)
        except OSError as exc:
            rejected = rejected_input(exc)
            if rejected is None:
                raise
            raise BadInput(rejected) from None
        try:
            # get_frame_data is the CSV that as_data_frame parses too, without its
            # warning (on every call) that polars/pyarrow would be faster.
            return pd.read_csv(io.StringIO(predictions.get_frame_data()), low_memory=False)
        finally:
            h2o.remove(predictions)
    finally:
        h2o.remove(frame)


class AcceptsPandas:
    """Mixin placed before an H2O model's class: ``predict`` also takes a pandas DataFrame.

    H2O's own ``predict`` takes only an ``H2OFrame``, so the spec's service
    (``return self.artifacts.model.predict(df)`` under ``DataframeInput``) would
    fail on every request.  With this mixin a DataFrame goes through
    :func:`predict_dataframe` and a DataFrame of predictions comes back; an
    ``H2OFrame`` goes to H2O unchanged.  The subclass keeps its base's name and
    module, and ``isinstance`` checks against H2O's classes still hold.
    """

    def predict(self, test_data: Any, *args: Any, **kwargs: Any) -> Any:
        if _is_pandas_dataframe(test_data) and not args and not kwargs:
            return predict_dataframe(self, test_data)
        return super().predict(test_data, *args, **kwargs)  # type: ignore[misc]


def _is_pandas_dataframe(value: Any) -> bool:
    return type(value).__module__.startswith("pandas") and hasattr(value, "columns")


def accept_pandas(model: Any) -> Any:
    """Give ``model`` the DataFrame-taking ``predict`` of :class:`AcceptsPandas` (in place)."""
    return with_mixin(model, AcceptsPandas)
