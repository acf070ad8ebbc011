"""The YataiService HTTP/JSON protocol: paths, headers, limits and the JSON of a record.

Every path is under :data:`API_PREFIX`; errors are ``{"error": "one line"}`` with
400 (bad request), 404 (no such bundle or session), 409 (``NAME:VERSION``
exists) or 500.  An upload is a session: ``POST uploads`` (name, version) ->
``PUT uploads/ID/files/PATH`` for each file with its sha256 in
:data:`SHA256_HEADER` -> ``POST uploads/ID/commit`` with the manifest.  A
download reads ``bundles/NAME/VERSION/manifest`` (files, sha256 sums and the
bundle checksum) and then ``bundles/NAME/VERSION/files/PATH``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Dict

from bentoml.bundle.naming import validate_name, validate_version
from bentoml.exceptions import InvalidArgument, RepositoryError
from bentoml.repository.record import BundleRecord

API_PREFIX = "/api/v1"
#: What the server names itself in its ``Server`` header (a client tells another program's
#: 404 from "no such bundle" by it).
SERVER_NAME = "bentoml YataiService"
#: The sha256 (hex) of a file's bytes, sent with each uploaded and downloaded file.
SHA256_HEADER = "X-Content-SHA256"
#: The bundle checksum (``manifest_checksum`` of its files) on a manifest answer.
CHECKSUM_HEADER = "X-Bundle-Checksum"
#: Records per page when a list request names no limit, and the most one page holds.
DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 1000
#: Default port of the API (the spec's gRPC port) and of the web UI.
DEFAULT_API_PORT = 50051
DEFAULT_UI_PORT = 3000
#: Seconds an upload session may stay idle before it expires (``--upload-timeout``).
DEFAULT_UPLOAD_TIMEOUT = 3600.0


def record_to_json(record: BundleRecord) -> Dict[str, Any]:
    """The JSON of one bundle record as the server sends it."""
    return {"seq": record.seq, "name": record.name, "version": record.version,
            "uri": {"type": record.uri_type, "uri": record.uri},
            "created_at": record.created_at.isoformat(), "config": record.config}


def record_from_json(data: Any) -> BundleRecord:
    """A :class:`BundleRecord` from the server's JSON; anything malformed is a RepositoryError."""
    try:
        return BundleRecord(seq=int(data["seq"]), name=validate_name(str(data["name"])),
                            version=validate_version(str(data["version"])),
                            uri=str(data["uri"]["uri"]), uri_type=str(data["uri"]["type"]),
                            created_at=datetime.fromisoformat(data["created_at"]), config=dict(data["config"]))
    except (KeyError, TypeError, ValueError, InvalidArgument) as exc:
        raise RepositoryError(f"the YataiService sent a malformed bundle record ({type(exc).__name__}: {exc})") from None
