"""``StreamedAdd``: a bundle registered from files streamed straight into storage.

A team server on S3 would otherwise keep an upload on its own disk and copy it
to the bucket at the commit, which costs as much again as the upload.  With a
storage :class:`~bentoml.repository.storage.BundleWriter` it reserves
``NAME:VERSION`` (a pending row, as every save does), streams each file to its
final place as it arrives, and at the commit writes the storage's manifest and
marks the row ready.  An abort removes the objects and the row; a server
killed midway leaves a pending row whose process is gone, which the next start
removes with its objects (``LocalRepository.cleanup_interrupted``), so the
repository is never left with half an upload listed.
"""
from __future__ import annotations

import logging
import posixpath
from typing import TYPE_CHECKING, Iterable, List

from bentoml.exceptions import BentoMLException
from bentoml.repository.storage import BundleWriter, StoredFile

if TYPE_CHECKING:
    from bentoml.bundle.config import BundleConfig
    from bentoml.repository.metadata import MetadataStore

logger = logging.getLogger(__name__)


def parent_folders(paths: Iterable[str]) -> List[str]:
    """Every folder the posix ``paths`` sit in, parents first (``a/b/c`` -> ``a``, ``a/b``)."""
    folders = set()
    for path in paths:
        parent = posixpath.dirname(path)
        while parent:
            folders.add(parent)
            parent = posixpath.dirname(parent)
    return sorted(folders, key=lambda f: (f.count("/"), f))


class StreamedAdd:
    """``name:version`` reserved in ``metadata`` while ``writer`` stores its files."""

    def __init__(self, metadata: "MetadataStore", name: str, version: str, writer: BundleWriter):
        self.metadata = metadata
        self.name = name
        self.version = version
        self.writer = writer
        self.done = False

    def commit(self, config: "BundleConfig", files: List[StoredFile]) -> str:
        """Store the bundle of exactly ``files`` and register it; returns its URI.  On any
        failure what was written is removed and the reservation dropped."""
        try:
            uri = self.writer.finish(parent_folders(f.path for f in files), files)
            self.metadata.mark_ready(self.name, self.version, uri, config.to_dict())
        except BaseException:
            self.abort()
            raise
        self.done = True
        return uri

    def abort(self) -> None:
        """Remove the files written so far and the reservation (an upload aborted or expired)."""
        if self.done:
            return
        self.done = True
        try:
            self.writer.discard()
            self.metadata.delete(self.name, self.version)
        except BentoMLException as exc:  # the next start's cleanup_interrupted retries
            logger.warning("could not remove the unfinished upload of %s:%s: %s", self.name, self.version, exc)
