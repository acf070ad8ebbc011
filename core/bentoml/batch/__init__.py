"""Offline batch jobs: an API of a saved service over a whole table, in chunks, in one process.

:class:`BatchRunner` calls the API in-process on chunks of rows (pandas
DataFrames) and turns the results into columns; ``bentoml run BENTO API
--input big.csv --output out.csv`` drives it with the readers and writers of
:mod:`bentoml.batch.formats` (CSV, JSON lines, Parquet).  pandas is needed
(``pip install bentoml[batch]``), and pyarrow for Parquet
(``pip install bentoml[parquet]``).
"""
from __future__ import annotations

from bentoml.batch.results import RESULT_COLUMN, MixedResults, results_frame
from bentoml.batch.runner import DEFAULT_CHUNK_SIZE, BatchFailed, BatchRunner

__all__ = ["BatchFailed", "BatchRunner", "DEFAULT_CHUNK_SIZE", "MixedResults", "RESULT_COLUMN", "results_frame"]
