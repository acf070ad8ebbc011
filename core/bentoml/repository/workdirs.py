"""Working directories with a live owner: a save's ``tmp/save-*`` and a staging copy.

Each working directory holds an ``.owner`` file that the process using it keeps
locked (``flock``) until it is done.  The kernel drops the lock when the process
dies, however it dies, so the next save removes a killed save's leftovers at
once and never a live save's, whatever their age.  Directories without an owner
file (made by an older bentoml) are judged by age only.
"""
from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import shutil
import socket
import tempfile
import time
from typing import Iterator

OWNER_FILE = ".owner"
#: Directories without an owner file are removed once untouched this long.
UNOWNED_MAX_AGE = 3600.0


def _lock_owner_file(directory: str) -> int:
    # Locked under another name, then renamed: no one ever sees an unlocked .owner of a live owner.
    pending = os.path.join(directory, OWNER_FILE + ".new")
    fd = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, f"{socket.gethostname()}:{os.getpid()}\n".encode())  # for people looking
        os.rename(pending, os.path.join(directory, OWNER_FILE))
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def owned_workdir(parent: str, prefix: str) -> Iterator[str]:
    """A new directory ``parent/PREFIX*``, owned by this process for the block and removed after it."""
    os.makedirs(parent, exist_ok=True)
    path = tempfile.mkdtemp(prefix=prefix, dir=parent)
    try:
        fd = _lock_owner_file(path)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)  # only now: a cleaner must not take a half-removed directory for abandoned


def _owner_gone(directory: str) -> bool:
    try:
        fd = os.open(os.path.join(directory, OWNER_FILE), os.O_RDONLY)
    except FileNotFoundError:  # an older bentoml's, or one in its first microseconds
        try:
            return time.time() - os.stat(directory).st_mtime > UNOWNED_MAX_AGE
        except FileNotFoundError:
            return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # drops our lock again: the owner is gone, no one else takes it
    return True


def remove_abandoned(parent: str, pattern: str = "*") -> None:
    """Remove the working directories ``parent/PATTERN`` whose owner has gone."""
    for path in glob.glob(os.path.join(glob.escape(parent), pattern)):
        if os.path.isdir(path) and not os.path.islink(path) and _owner_gone(path):
            shutil.rmtree(path, ignore_errors=True)
