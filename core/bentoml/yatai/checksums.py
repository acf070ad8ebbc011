"""Bundle checksums the server answers with, so that a client's cache can verify a download.

A bundle's checksum is :func:`~bentoml.bundle.manifest.manifest_checksum` of its
:func:`~bentoml.bundle.manifest.file_manifest`.  An upload's is known when it is
committed (every file's sha256 was checked as it arrived); a bundle saved into
the served repository by other means (a local ``svc.save()`` into the same
``$BENTOML_HOME``) has its files hashed on the first request for it.  Either way
it is kept per bundle row (``seq``: a deleted and re-saved version is another
row), for at most ``max_entries`` bundles.
"""
from __future__ import annotations

import collections
import threading
from typing import Dict, Optional, Tuple

from bentoml.bundle.manifest import file_manifest, manifest_checksum
from bentoml.repository.record import BundleRecord

_Key = Tuple[str, str, int]


class ChecksumCache:
    """``manifest_checksum`` per stored bundle, computed at most once while remembered."""

    def __init__(self, max_entries: int = 4096):
        self.max_entries = max_entries
        self._entries: "collections.OrderedDict[_Key, str]" = collections.OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(record: BundleRecord) -> _Key:
        return record.name, record.version, record.seq

    def remember(self, record: BundleRecord, manifest: Dict[str, str]) -> str:
        """Keep the checksum of ``manifest``, the verified files of ``record``; returns it."""
        checksum = manifest_checksum(manifest)
        with self._lock:
            self._entries[self._key(record)] = checksum
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return checksum

    def known(self, record: BundleRecord) -> Optional[str]:
        """The checksum of ``record`` if it is remembered, else None."""
        key = self._key(record)
        with self._lock:
            known = self._entries.get(key)
            if known is not None:
                self._entries.move_to_end(key)
            return known

    def checksum(self, record: BundleRecord, bundle_dir: str) -> str:
        """The checksum of ``record``, whose files are in ``bundle_dir`` (hashed when not known)."""
        known = self.known(record)
        return known if known is not None else self.remember(record, file_manifest(bundle_dir))
