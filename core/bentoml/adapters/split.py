"""Cutting an API's return value back into one share per task (step 3 of :mod:`bentoml.adapters`)."""
from __future__ import annotations

from typing import Any, List, Mapping, Sequence

from bentoml.exceptions import BentoMLException
from bentoml.inference import InferenceTask


class ResultLengthMismatch(BentoMLException):
    """The API returned a different number of results than it received inputs."""


def _length(result: Any) -> int:
    try:
        return len(result)
    except TypeError:
        raise ResultLengthMismatch(
            f"the API returned a {type(result).__name__}, which has no length; "
            "an API must return one result per input (a list, array, Series or DataFrame)"
        ) from None


def _item(result: Any, i: int) -> Any:
    if hasattr(result, "columns") and hasattr(result, "iloc"):  # a DataFrame: its row as one record
        return dict(zip(result.columns, result.iloc[i].tolist()))
    return result.iloc[i] if hasattr(result, "iloc") else result[i]


def _slice(result: Any, start: int, stop: int) -> Any:
    return result.iloc[start:stop] if hasattr(result, "iloc") else result[start:stop]


def split_results(result: Any, tasks: Sequence[InferenceTask]) -> List[Any]:
    """Split by ``task.count``: ``None`` takes the item at the task's position,
    ``n`` the next ``n`` items as a slice; checks the total length."""
    expected = sum(t.expected_results for t in tasks)
    got = _length(result)
    if got != expected:
        raise ResultLengthMismatch(
            f"the API returned {got} results for {expected} inputs; "
            "it must return exactly one result per input, in order")
    shares, pos = [], 0
    for task in tasks:
        if task.count is None:
            shares.append(_item(result, pos))
        else:
            shares.append(_slice(result, pos, pos + task.count))
        pos += task.expected_results
    return shares


def split_named_results(outputs: Mapping[str, Any], tasks: Sequence[InferenceTask]) -> List[Any]:
    """Split each named output like :func:`split_results`, then give each result one
    dict of its values by name (a list of such dicts for a task of ``count`` n)."""
    names = list(outputs)
    columns = {name: split_results(outputs[name], tasks) for name in names}
    shares: List[Any] = []
    for i, task in enumerate(tasks):
        if task.count is None:
            shares.append({name: columns[name][i] for name in names})
        else:
            shares.append([{name: columns[name][i][j] for name in names} for j in range(task.count)])
    return shares
