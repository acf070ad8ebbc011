"""Writers: result chunks (DataFrames) appended to a CSV, JSON lines or Parquet output.

A file output is written to a temporary file beside it and renamed over the
target only when the job is done (:meth:`Writer.commit`), so a failed job
never leaves a half-written file that looks complete: :meth:`Writer.abort`
deletes the rows written so far, and a file that was there before is left as
it was.  Standard output (``-``) is written as the job goes: rows written
before a failure stay written, and the non-zero exit tells the job failed.
"""
from __future__ import annotations

import json
import os
import tempfile
from typing import IO, Any, Optional

from bentoml.batch import needs
from bentoml.exceptions import BentoMLException


class WriteFailed(BentoMLException):
    """The output could not be written (a full disk, a closed pipe, results that do not fit the file)."""


def _jsonable_cells(frame: Any) -> Any:
    """Nested cells (dicts, lists) as JSON text, so that CSV holds them in one field."""
    nested = [c for c in frame.columns if frame[c].dtype == object
              and frame[c].map(lambda v: isinstance(v, (dict, list))).any()]
    if not nested:
        return frame
    frame = frame.copy()
    for c in nested:
        frame[c] = frame[c].map(lambda v: json.dumps(v) if isinstance(v, (dict, list)) else v)
    return frame


class Writer:
    """Base of the writers: ``write(chunk)`` each result chunk in order, then ``commit()`` (or ``abort()``)."""

    def __init__(self, path: str):
        self.path = path
        self._tmp: Optional[str] = None
        if path == "-":
            import sys

            self.stream: IO[bytes] = sys.stdout.buffer
        else:
            folder = os.path.dirname(os.path.abspath(path))
            try:
                fd, self._tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".partial",
                                                 dir=folder)
            except OSError as exc:
                raise WriteFailed(f"cannot write {path}: {exc.strerror or exc}") from None
            self.stream = os.fdopen(fd, "wb")
        self.rows = 0

    def write(self, chunk: Any) -> None:
        """Append ``chunk``'s rows."""
        try:
            self._write(chunk)
            if self._tmp is None:  # a pipe reader sees each chunk as it is done
                self.stream.flush()
        except OSError as exc:
            raise WriteFailed(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self.rows += len(chunk)

    def _write(self, chunk: Any) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Finish the format (a Parquet footer)."""

    def commit(self) -> None:
        """Finish the output: a file is renamed into place."""
        try:
            self._close()
            if self._tmp is None:
                self.stream.flush()
                return
            self.stream.close()
            os.replace(self._tmp, self.path)
            self._tmp = None
        except OSError as exc:
            self.abort()
            raise WriteFailed(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def abort(self) -> None:
        """Give up: a temporary file and its rows are deleted; stdout keeps what it got."""
        if self._tmp is None:
            return
        try:
            self.stream.close()
        except Exception:  # the file goes anyway
            pass
        try:
            os.unlink(self._tmp)
        except OSError:
            pass
        self._tmp = None


class CsvWriter(Writer):
    """CSV with a header row (from the first chunk's columns)."""

    def _write(self, chunk: Any) -> None:
        chunk = _jsonable_cells(chunk)
        text = chunk.to_csv(index=False, header=self.rows == 0, lineterminator="\n")
        self.stream.write(text.encode("utf-8"))


class JsonLinesWriter(Writer):
    """JSON lines: one object of column -> value per row."""

    def _write(self, chunk: Any) -> None:
        text = chunk.to_json(orient="records", lines=True)
        if text and not text.endswith("\n"):
            text += "\n"
        self.stream.write(text.encode("utf-8"))


class ParquetWriter(Writer):
    """Parquet through ``pyarrow.parquet.ParquetWriter``: one row group per chunk, the first chunk's schema."""

    def __init__(self, path: str):
        self._pq = needs.pyarrow_parquet()
        super().__init__(path)
        self._writer: Any = None

    def _write(self, chunk: Any) -> None:
        import pyarrow

        try:
            table = pyarrow.Table.from_pandas(chunk, preserve_index=False)
            if self._writer is None:
                self._writer = self._pq.ParquetWriter(self.stream, table.schema)
            elif table.schema != self._writer.schema:
                table = table.cast(self._writer.schema)
            self._writer.write_table(table)
        except (pyarrow.ArrowException, ValueError) as exc:
            raise WriteFailed(f"cannot write rows {self.rows + 1}-{self.rows + len(chunk)} to {self.path} as "
                              f"Parquet: {exc}") from None

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
