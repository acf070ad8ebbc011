"""One batch job: read chunks, run them, write the results, with a progress bar on a terminal."""
from __future__ import annotations

from bentoml.batch.readers import Reader
from bentoml.batch.runner import BatchRunner
from bentoml.batch.writers import Writer
from bentoml.progress import CopyProgress


def run_job(runner: BatchRunner, reader: Reader, writer: Writer) -> int:
    """Stream ``reader``'s rows through ``runner`` into ``writer``; the number of rows written.

    The output is committed only when every row succeeded; on any error it is
    aborted (see :mod:`bentoml.batch.writers`) and the error propagates.  The
    progress bar (bytes of input read, on stderr when it is a terminal, see
    :mod:`bentoml.progress`) needs an input of known size: none for stdin.
    """
    try:
        with CopyProgress(f"{runner.api.name} on {reader.name}", reader.size) as progress:
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
