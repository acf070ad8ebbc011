"""Readers: a CSV, JSON lines or Parquet input as an iterator of DataFrame chunks.

Each reader holds at most one chunk of rows in memory.  ``position()`` gives
the bytes consumed so far and ``size`` the input's size (0 when unknown, as
for stdin), for the progress bar.  Bad input (a row with more fields than the
header, a line that is not JSON) raises :class:`~bentoml.exceptions.BadInput`
naming the row (1-based, header not counted) or the file's line.
"""
from __future__ import annotations

import json
import os
import re
import sys
from typing import IO, Any, Iterator, List

from bentoml.batch import needs
from bentoml.exceptions import BadInput

_CSV_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


class Reader:
    """Base of the readers: iterate for chunks of at most ``chunk_size`` rows."""

    def __init__(self, stream: IO[bytes], name: str, chunk_size: int):
        self.stream, self.name, self.chunk_size = stream, name, chunk_size
        try:
            self.size = os.fstat(stream.fileno()).st_size if stream.seekable() else 0
        except (OSError, ValueError):
            self.size = 0

    def position(self) -> int:
        """Bytes of the input consumed so far (0 when it cannot tell)."""
        try:
            return self.stream.tell() if self.size else 0
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        """Close the input file (stdin stays open)."""
        if self.stream is not getattr(sys.stdin, "buffer", None):
            self.stream.close()

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError


class CsvReader(Reader):
    """CSV with a header row, through ``pandas.read_csv(chunksize=)``."""

    def __iter__(self) -> Iterator[Any]:
        pd = needs.pandas()
        try:
            chunks = pd.read_csv(self.stream, chunksize=self.chunk_size)
            for chunk in chunks:
                if not isinstance(chunk.index, pd.RangeIndex):
                    # pandas takes surplus leading fields of the first row as an index;
                    # pandas takes them only from the first row, so this is the first chunk.
                    raise BadInput(f"{self.name}: row 1 (line 2): more fields than the header")
                yield chunk
        except pd.errors.EmptyDataError:
            raise BadInput(f"{self.name}: the CSV is empty (it needs a header row)") from None
        except pd.errors.ParserError as exc:
            found = _CSV_LINE.search(str(exc))
            if found:
                want, line, got = found.groups()
                raise BadInput(f"{self.name}: row {int(line) - 1} (line {line}): {got} fields where the header "
                               f"has {want}") from None
            raise BadInput(f"{self.name}: not valid CSV: {str(exc).strip()}") from None
        except UnicodeDecodeError as exc:
            raise BadInput(f"{self.name}: not UTF-8 text: {exc}") from None


class JsonLinesReader(Reader):
    """JSON lines: one JSON object (a record) or array (a row of values) per line; blank lines are skipped."""

    def __iter__(self) -> Iterator[Any]:
        docs: List[Any] = []
        row = 0
        for line_no, line in enumerate(self.stream, 1):
            if not line.strip():
                continue
            row += 1
            try:
                doc = json.loads(line)
            except ValueError as exc:
                raise BadInput(f"{self.name}: row {row} (line {line_no}): not valid JSON: "
                               f"{getattr(exc, 'msg', exc)}") from None
            if not isinstance(doc, (dict, list)):
                raise BadInput(f"{self.name}: row {row} (line {line_no}): a JSON line must be an object "
                               f"or an array, got {type(doc).__name__}")
            if docs and isinstance(doc, dict) != isinstance(docs[0], dict):
                raise BadInput(f"{self.name}: row {row} (line {line_no}): lines mix objects and arrays")
            docs.append(doc)
            if len(docs) == self.chunk_size:
                yield self._frame(docs)
                docs = []
        if docs:
            yield self._frame(docs)

    @staticmethod
    def _frame(docs: List[Any]) -> Any:
        pd = needs.pandas()
        return pd.DataFrame.from_records(docs) if isinstance(docs[0], dict) else pd.DataFrame(docs)


class ParquetReader(Reader):
    """Parquet through pyarrow's ``ParquetFile.iter_batches``; the input must be a file (not stdin)."""

    def __init__(self, stream: IO[bytes], name: str, chunk_size: int):
        super().__init__(stream, name, chunk_size)
        if not self.size:
            raise BadInput(f"{name}: Parquet input must be a file (its index is at its end), not a pipe")
        pq = needs.pyarrow_parquet()
        import pyarrow

        try:
            self._file = pq.ParquetFile(stream)
        except pyarrow.ArrowException as exc:
            raise BadInput(f"{name}: not a Parquet file: {exc}") from None
        self._rows = self._file.metadata.num_rows
        self._done = 0

    def position(self) -> int:
        return self.size * self._done // self._rows if self._rows else 0

    def __iter__(self) -> Iterator[Any]:
        for batch in self._file.iter_batches(batch_size=self.chunk_size):
            self._done += batch.num_rows
            yield batch.to_pandas()
