"""One batch job: read chunks, run them, write the results, with a progress bar on a terminal."""
from __future__ import annotations

import contextlib
import warnings
from typing import Iterator

from bentoml.batch.readers import Reader
from bentoml.batch.runner import BatchRunner
from bentoml.batch.writers import Writer
from bentoml.progress import CopyProgress


@contextlib.contextmanager
def each_warning_once() -> Iterator[None]:
    """Show each distinct warning once for the whole job.  Python's own "once per place"
    does not hold across chunks: libraries that use ``warnings.catch_warnings`` (scikit-learn
    does, on every ``predict``) reset its registry, so a model's warning (``X has feature
    names, but SVC was fitted without feature names``) came once per chunk, 200 times."""
    seen = set()
    with warnings.catch_warnings():
        show = warnings.showwarning

        def show_once(message, category, filename, lineno, file=None, line=None):
            key = (str(message), category, filename, lineno)
            if key not in seen:
                seen.add(key)
                show(message, category, filename, lineno, file, line)

        warnings.showwarning = show_once
        yield


def run_job(runner: BatchRunner, reader: Reader, writer: Writer) -> int:
    """Stream ``reader``'s rows through ``runner`` into ``writer``; the number of rows written.

    The output is committed only when every row succeeded; on any error it is
    aborted (see :mod:`bentoml.batch.writers`) and the error propagates.  The
    progress bar (bytes of input read, on stderr when it is a terminal, see
    :mod:`bentoml.progress`) needs an input of known size: none for stdin.
    """
    try:
        with each_warning_once(), CopyProgress(f"{runner.api.name} on {reader.name}", reader.size) as progress:
            for result in runner.run_chunks(reader):
                writer.write(result)
                if reader.size:
                    progress.update(reader.position() - progress.done)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        reader.close()
    return writer.rows
