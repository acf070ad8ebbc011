"""The optional libraries of batch jobs, imported with an error that says how to install them."""
from __future__ import annotations

from types import ModuleType

from bentoml.exceptions import BentoMLException


class MissingDependency(BentoMLException):
    """A library a batch job needs is not installed; the message names the pip command."""


def pandas() -> ModuleType:
    """``import pandas``, or an error naming ``pip install pandas``."""
    try:
        import pandas as pd
    except ImportError:
        raise MissingDependency("batch jobs (bentoml run --output) need pandas: pip install pandas "
                                "(or pip install 'bentoml[batch]')") from None
    return pd


def pyarrow_parquet() -> ModuleType:
    """``import pyarrow.parquet``, or an error naming ``pip install pyarrow``."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependency("Parquet needs pyarrow: pip install pyarrow "
                                "(or pip install 'bentoml[parquet]')") from None
    return pq
