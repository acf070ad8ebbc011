"""What the file system under the repository allows: writing at all, and room to write.

A read-only ``$BENTOML_HOME`` (a container image, a read-only volume) is read,
never written; a full disk is named as such, since SQLite reports it as a
"disk I/O error" when it cannot even map its shared-memory file.
"""
from __future__ import annotations

import errno
import os
from typing import Optional

#: Less free space than this, together with an I/O error, means the disk is full.
_NEARLY_FULL_BYTES = 1 << 20


def _existing(path: str) -> str:
    """``path`` or its nearest existing parent directory."""
    path = os.path.abspath(path)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def unwritable_reason(directory: str) -> Optional[str]:
    """Why nothing can be created in ``directory``: ``"read-only"`` (a read-only file
    system), ``"not writable by this user"``, or None when it can."""
    try:
        read_only = bool(os.statvfs(directory).f_flag & os.ST_RDONLY)
    except OSError:  # missing or not a directory: the write itself reports that
        return None
    if read_only:
        return "read-only"
    if not os.access(directory, os.W_OK | os.X_OK):
        return "not writable by this user"
    return None


def is_disk_full(path: str) -> bool:
    """Whether the file system holding ``path`` has (next to) no room left."""
    try:
        st = os.statvfs(_existing(path))
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < _NEARLY_FULL_BYTES


def is_no_space(exc: BaseException) -> bool:
    """An ``OSError`` saying the disk is full (ENOSPC, or EDQUOT: a full quota)."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def disk_full_message(path: str) -> str:
    """The one-line description of a full disk under ``path``."""
    return f"the disk holding {path} is full (No space left on device); free some space and try again"
