"""The table formats of batch jobs (CSV, JSON lines, Parquet): names, file extensions, readers, writers."""
from __future__ import annotations

import os
import sys
from typing import Dict, Optional, Tuple, Type

from bentoml.batch.readers import CsvReader, JsonLinesReader, ParquetReader, Reader
from bentoml.batch.writers import CsvWriter, JsonLinesWriter, ParquetWriter, Writer
from bentoml.exceptions import InvalidArgument

#: format name -> (reader, writer)
FORMATS: Dict[str, Tuple[Type[Reader], Type[Writer]]] = {
    "csv": (CsvReader, CsvWriter),
    "jsonl": (JsonLinesReader, JsonLinesWriter),
    "parquet": (ParquetReader, ParquetWriter),
}
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def format_of(path: str, given: Optional[str], option: str) -> str:
    """The format ``given`` (``--input-format``/``--output-format``), else the one of ``path``'s extension.

    ``-`` (stdin/stdout) without a given format is CSV.  An unknown extension
    is an ``InvalidArgument`` naming the option that chooses one.
    """
    if given is not None:
        return given
    if path == "-":
        return "csv"
    ext = os.path.splitext(path)[1].lower()
    if ext in EXTENSIONS:
        return EXTENSIONS[ext]
    known = ", ".join(sorted(EXTENSIONS))
    hint = " (a .json file holds one document: use JSON lines, .jsonl)" if ext == ".json" else ""
    raise InvalidArgument(f"cannot tell the format of {path!r} by its extension{hint}: name a file "
                          f"ending in {known}, or give {option} {'|'.join(FORMATS)}")


def open_reader(path: str, fmt: str, chunk_size: int) -> Reader:
    """A reader of ``path`` (``-``: stdin) in format ``fmt``; a missing file is an ``InvalidArgument``."""
    if path == "-":
        return FORMATS[fmt][0](sys.stdin.buffer, "stdin", chunk_size)
    try:
        stream = open(os.path.expanduser(path), "rb")
    except OSError as exc:
        raise InvalidArgument(f"cannot read {path}: {exc.strerror or exc}") from None
    return FORMATS[fmt][0](stream, path, chunk_size)


def open_writer(path: str, fmt: str) -> Writer:
    """A writer of ``path`` (``-``: stdout) in format ``fmt`` (a file is renamed into place on commit)."""
    return FORMATS[fmt][1](path if path == "-" else os.path.expanduser(path))
