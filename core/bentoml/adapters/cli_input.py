"""The request an adapter parses for the CLI's ``--input`` and ``--input-file``."""
from __future__ import annotations

import json
import mimetypes
import os
import re
from typing import Optional, Sequence, Tuple

from bentoml.exceptions import InvalidArgument
from bentoml.inference import HTTPRequest


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise InvalidArgument(f"cannot read input file {path!r}: {exc.strerror or exc}") from None


def _file_request(path: str) -> HTTPRequest:
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return HTTPRequest(_read_file(path), {"Content-Type": content_type}, source="cli", filename=path)


_PATH_PREFIXES = ("/", "./", "../", "~", ".\\", "..\\")
_FILE_NAME = re.compile(r"^[^\s\[\]{}\"',]+\.[A-Za-z0-9]{1,8}$")


def looks_like_path(value: str) -> bool:
    """Whether ``--input`` text that is no existing file was meant as one.

    Valid JSON is literal input; otherwise text starting like a path
    (``./``, ``../``, ``/``, ``~``) or a single word ending in an extension a
    MIME type is known for (``iris.csv``, ``cat.png``) is taken as a path.
    """
    try:
        json.loads(value)
        return False
    except ValueError:
        pass
    if value.startswith(_PATH_PREFIXES) and "\n" not in value:
        return True
    return bool(_FILE_NAME.match(value)) and mimetypes.guess_type(value)[0] is not None


def check_input_text(value: str) -> None:
    """Refuse ``--input`` text that names a missing file (before any bundle is loaded)."""
    path = os.path.expanduser(value)
    if not os.path.isfile(path) and looks_like_path(value):
        what = "is a directory, not a file" if os.path.isdir(path) else "file not found"
        raise InvalidArgument(f"{what}: {value}")


def cli_request(value: str) -> HTTPRequest:
    """Build the request for a CLI ``--input``: an existing file path wins over literal text.

    The content type follows the file's extension (``.csv`` -> ``text/csv``);
    literal text is taken as JSON.  Text that looks like a path but names no
    file is an error (``file not found: PATH``), not a JSON parse error.
    """
    path = os.path.expanduser(value)
    if os.path.isfile(path):
        return _file_request(path)
    check_input_text(value)
    return HTTPRequest(value.encode("utf-8"), {"Content-Type": "application/json"}, source="cli")


def cli_files_request(files: Sequence[Tuple[Optional[str], str]]) -> HTTPRequest:
    """Build the request for CLI ``--input-file`` values, given as ``(field name or None, path)``.

    One unnamed file is sent as its raw bytes, typed by its extension, the way
    ``curl -H 'Content-Type: image/png' --data-binary @cat.png`` would.  Several
    files, or named ones, become one ``multipart/form-data`` body like
    ``curl -F imageX=@x.png -F imageY=@y.png``; unnamed files among them are
    the fields ``file``, ``file2``, ``file3``...
    """
    from bentoml.multipart import encode_multipart, file_part  # only here: `bentoml --help` stays light

    if not files:
        raise InvalidArgument("no input file given")
    if len(files) == 1 and files[0][0] is None:
        return _file_request(os.path.expanduser(files[0][1]))
    parts, unnamed = [], 0
    for name, path in files:
        if name is None:
            unnamed += 1
            name = "file" if unnamed == 1 else f"file{unnamed}"
        path = os.path.expanduser(path)
        parts.append(file_part(name, path, _read_file(path)))
    content_type, body = encode_multipart(parts)
    return HTTPRequest(body, {"Content-Type": content_type}, source="cli")
