"""Upload sessions: a bundle arrives file by file, is verified, and only then is registered.

A client opens a session for ``NAME:VERSION`` and gets its id; it sends each
file with its sha256, which the server checks as the bytes arrive (a file whose
bytes do not match is refused and dropped); the commit names every file and its
sum, and succeeds only when exactly those files arrived with those sums.  Until
then nothing is listed.  A session's files live in ``tmp/upload-*`` of the
server's home, a working directory the server process holds a lock on
(:mod:`bentoml.repository.workdirs`): when the server is killed the lock goes
with it and the next start removes them.  A session idle (no request) for
``timeout`` seconds expires and its files are removed; a retry opens a new one.

Where the storage can take a bundle file by file (S3: a
:class:`~bentoml.repository.streamed_add.StreamedAdd`), each file streams
straight to its final place as it arrives, checked on the way, and only
``bentoml.yml`` is also kept on disk; the commit then stores the manifest and
registers the bundle without copying it again.  An expired, aborted or
refused session's objects are deleted with it.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import threading
import time
from typing import TYPE_CHECKING, BinaryIO, Dict, List, Optional, Tuple

from bentoml.bundle.manifest import safe_relpath
from bentoml.exceptions import BadInput, BentoMLException, NotFound
from bentoml.repository.workdirs import owned_workdir
from bentoml.yatai.protocol import DEFAULT_UPLOAD_TIMEOUT

if TYPE_CHECKING:
    from bentoml.repository.streamed_add import StreamedAdd

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
#: Upload sessions open at once; one more is refused (503) rather than filling the disk.
MAX_OPEN_SESSIONS = 256


class TooManySessions(BentoMLException):
    """Every upload slot is taken; the client should try again later (HTTP 503)."""


def check_relpath(path: str) -> str:
    """``path`` from the network as a safe relative path inside a bundle (400 otherwise)."""
    try:
        return safe_relpath(path)
    except BentoMLException as exc:
        raise BadInput(str(exc)) from None


class UploadSession:
    """One bundle being uploaded: its files so far (relative path -> sha256, size)."""

    def __init__(self, session_id: str, name: str, version: str, directory: str,
                 holder: contextlib.ExitStack, streamed: Optional["StreamedAdd"] = None):
        self.id = session_id
        self.name = name
        self.version = version
        self.directory = directory
        self.bundle_dir = os.path.join(directory, "bundle")
        self.files: Dict[str, Tuple[str, int]] = {}
        self.modes: Dict[str, int] = {}  # of the files streamed into storage
        self.last_active = time.monotonic()
        self.busy = 0  # requests using it now: it never expires under them
        self.committing = False
        self._holder = holder  # the owned working directory, removed when closed
        #: where the files stream to, when the storage takes them file by file
        self.streamed = streamed

    @property
    def tag(self) -> str:
        """``NAME:VERSION`` being uploaded."""
        return f"{self.name}:{self.version}"

    def close(self) -> None:
        """Remove the session's files (its working directory, and what it streamed into
        storage unless that was committed)."""
        try:
            if self.streamed is not None:
                self.streamed.abort()
        finally:
            self._holder.close()


class SessionStore:
    """The open upload sessions of one server, under ``tmp_dir`` (see the module docstring)."""

    def __init__(self, tmp_dir: str, timeout: float = DEFAULT_UPLOAD_TIMEOUT,
                 max_sessions: int = MAX_OPEN_SESSIONS):
        self.tmp_dir = tmp_dir
        self.timeout = timeout
        self.max_sessions = max_sessions
        self._sessions: Dict[str, UploadSession] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sweeper: Optional[threading.Thread] = None

    def open(self, name: str, version: str, reserve=None) -> UploadSession:
        """A new session for ``name:version`` (validated by the caller); ``reserve()``, when
        given, returns the :class:`StreamedAdd` its files stream to, or None."""
        if len(self._sessions) >= self.max_sessions:
            raise TooManySessions(f"{len(self._sessions)} uploads are in progress, the most this server "
                                  f"takes at once; try again in a while")
        streamed = reserve() if reserve is not None else None
        holder = contextlib.ExitStack()
        try:
            directory = holder.enter_context(owned_workdir(self.tmp_dir, "upload-"))
            os.makedirs(os.path.join(directory, "bundle"))
            os.makedirs(os.path.join(directory, "incoming"))
        except BaseException:
            holder.close()
            if streamed is not None:
                streamed.abort()
            raise
        session = UploadSession(secrets.token_hex(16), name, version, directory, holder, streamed)
        with self._lock:
            self._sessions[session.id] = session
        logger.info("upload session %s opened for %s", session.id, session.tag)
        return session

    @contextlib.contextmanager
    def using(self, session_id: str):
        """The session ``session_id`` for one request; it does not expire meanwhile."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.committing:
                raise NotFound(f"no upload session {session_id!r} (it expired, was committed or the "
                               "server restarted); start the upload again")
            session.busy += 1
        try:
            yield session
        finally:
            with self._lock:
                session.busy -= 1
                session.last_active = time.monotonic()

    def receive(self, session: UploadSession, path: str, sha256: str, body: BinaryIO,
                length: Optional[int], executable: bool = False) -> Tuple[str, int]:
        """Store one file of ``session`` from ``body``, checking its bytes against ``sha256``
        (``executable``: with its execute bits, as a bundle's scripts need)."""
        rel = check_relpath(path)
        sha256 = (sha256 or "").strip().lower()
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise BadInput(f"{rel}: the X-Content-SHA256 header must be the file's sha256 in hex")
        if session.streamed is not None:
            return self._receive_streamed(session, rel, sha256, body, length, executable)
        incoming = os.path.join(session.directory, "incoming", secrets.token_hex(8))
        digest, size = hashlib.sha256(), 0
        try:
            with open(incoming, "xb") as out:
                while length is None or size < length:
                    chunk = body.read(_CHUNK if length is None else min(_CHUNK, length - size))
                    if not chunk:
                        break
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            if length is not None and size != length:
                raise BadInput(f"{rel}: the body ended after {size} of {length} bytes")
            if digest.hexdigest() != sha256:
                raise BadInput(f"{rel}: the bytes received do not match their sha256 {sha256}")
            target = os.path.join(session.bundle_dir, *rel.split("/"))
            try:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                if os.path.isdir(target):
                    raise IsADirectoryError(target)
                if executable:
                    os.chmod(incoming, 0o755)
                os.replace(incoming, target)  # a file sent again (a retried request) replaces itself
            except OSError:
                raise BadInput(f"{rel}: the path conflicts with another file of the upload") from None
        finally:
            if os.path.exists(incoming):
                os.unlink(incoming)
        session.files[rel] = (sha256, size)
        return sha256, size

    def _receive_streamed(self, session: UploadSession, rel: str, sha256: str, body: BinaryIO,
                          length: Optional[int], executable: bool) -> Tuple[str, int]:
        """:meth:`receive` into storage: the bytes go on as they are checked; an object whose
        bytes turn out wrong is removed.  ``bentoml.yml`` is kept on disk too, for the commit."""
        assert session.streamed is not None
        for other in session.files:  # storage keys cannot tell a file from a folder
            if other.startswith(rel + "/") or rel.startswith(other + "/"):
                raise BadInput(f"{rel}: the path conflicts with another file of the upload")
        session.files.pop(rel, None)  # a file sent again replaces itself
        keep = os.path.join(session.bundle_dir, rel) if rel == "bentoml.yml" else None
        reader = _CheckedReader(body, length, keep)
        writer = session.streamed.writer
        try:
            writer.write(rel, reader, 0o755 if executable else 0o644)
            if length is not None and reader.size != length:
                raise BadInput(f"{rel}: the body ended after {reader.size} of {length} bytes")
            if reader.digest.hexdigest() != sha256:
                raise BadInput(f"{rel}: the bytes received do not match their sha256 {sha256}")
        except BaseException:
            writer.remove(rel)
            if keep is not None and os.path.exists(keep):
                os.unlink(keep)
            raise
        finally:
            reader.close()
        session.files[rel] = (sha256, reader.size)
        session.modes[rel] = 0o755 if executable else 0o644
        return sha256, reader.size

    def take_for_commit(self, session_id: str, manifest: Dict[str, str]) -> UploadSession:
        """The session, checked against ``manifest`` (path -> sha256) and out of the store:
        the caller registers its bundle and then closes it."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.committing:
                raise NotFound(f"no upload session {session_id!r} (it expired, was committed or the "
                               "server restarted); start the upload again")
            if session.busy:
                raise BadInput(f"upload session {session_id} is still receiving a file")
            session.committing = True
        try:
            _check_manifest(session, manifest)
        except BaseException:
            with self._lock:
                session.committing = False
                session.last_active = time.monotonic()
            raise
        with self._lock:
            self._sessions.pop(session_id, None)
        return session

    def discard(self, session_id: str) -> bool:
        """Abort a session and remove its files; False when there is none."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or session.busy or session.committing:
                return False
            del self._sessions[session_id]
        session.close()
        return True

    def expire_idle(self) -> List[str]:
        """Remove the sessions idle for longer than ``timeout``; returns their ids."""
        now = time.monotonic()
        with self._lock:
            expired = [s for s in self._sessions.values()
                       if not s.busy and not s.committing and now - s.last_active > self.timeout]
            for session in expired:
                del self._sessions[session.id]
        for session in expired:
            session.close()
            logger.info("upload session %s for %s expired after %g s idle; its files are removed",
                        session.id, session.tag, self.timeout)
        return [s.id for s in expired]

    @property
    def open_sessions(self) -> int:
        """How many sessions are open now."""
        return len(self._sessions)

    def start_sweeper(self) -> None:
        """Expire idle sessions in the background, about every quarter of the timeout."""
        interval = max(0.05, min(30.0, self.timeout / 4))

        def sweep() -> None:
            while not self._stop.wait(interval):
                try:
                    self.expire_idle()
                except Exception:  # noqa: BLE001 - the sweeper must keep running
                    logger.exception("expiring upload sessions failed")

        self._sweeper = threading.Thread(target=sweep, name="yatai-upload-sweeper", daemon=True)
        self._sweeper.start()

    def close(self) -> None:
        """Stop the sweeper and remove every open session's files."""
        self._stop.set()
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()


class _CheckedReader:
    """A request body read to at most ``length`` bytes, its sha256 and size counted on the
    way (and the bytes copied to the file ``keep``, when given)."""

    def __init__(self, body: BinaryIO, length: Optional[int], keep: Optional[str]):
        self._body = body
        self._left = length
        self.digest = hashlib.sha256()
        self.size = 0
        self._keep = open(keep, "wb") if keep else None

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = _CHUNK
        if self._left is not None:
            n = min(n, self._left)
        chunk = self._body.read(n) if n else b""
        self.digest.update(chunk)
        self.size += len(chunk)
        if self._left is not None:
            self._left -= len(chunk)
        if self._keep is not None:
            self._keep.write(chunk)
        return chunk

    def close(self) -> None:
        if self._keep is not None:
            self._keep.close()


def _check_manifest(session: UploadSession, manifest: Dict[str, str]) -> None:
    if not isinstance(manifest, dict) or not manifest:
        raise BadInput('the commit must carry "files": an object of path -> sha256')
    wanted = {}
    for path, sha256 in manifest.items():
        if not isinstance(sha256, str):
            raise BadInput(f"{path}: its sha256 must be a string")
        wanted[check_relpath(path)] = sha256.lower()
    missing = sorted(set(wanted) - set(session.files))
    if missing:
        raise BadInput(f"cannot commit {session.tag}: {len(missing)} file(s) never arrived, e.g. {missing[0]}")
    extra = sorted(set(session.files) - set(wanted))
    if extra:
        raise BadInput(f"cannot commit {session.tag}: {extra[0]} arrived but is not in the manifest")
    for rel, sha256 in wanted.items():
        if session.files[rel][0] != sha256:
            raise BadInput(f"cannot commit {session.tag}: {rel} arrived with sha256 "
                           f"{session.files[rel][0]}, the manifest says {sha256}")
