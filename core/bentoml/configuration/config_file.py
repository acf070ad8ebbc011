"""``$BENTOML_HOME/bentoml.cfg``: read it (tolerating 0.x's other sections), write it safely.

Writers take an exclusive ``flock`` on ``bentoml.cfg.lock``, read the current
file, change it and replace it in one step (a temporary sibling, ``fsync``,
``os.replace``), so two concurrent ``bentoml config set`` never lose each
other's keys and a reader never sees half a file.  Readers take no lock.  The
file is written owner-only (``0600``): it may hold a token.  Comments in the
file are not kept by a write (configparser drops them, as BentoML 0.x did).
"""
from __future__ import annotations

import ast
import configparser
import contextlib
import fcntl
import os
import tempfile
import threading
from typing import Callable, Dict, Iterator, Optional, Tuple

from bentoml.exceptions import ConfigurationError
from bentoml.home import bentoml_home

CONFIG_FILE_NAME = "bentoml.cfg"

_cache_lock = threading.Lock()
#: path -> (the file's stat, parsed): a command reads the file once, not per key
_parsed_cache: Dict[str, Tuple[Tuple[int, ...], configparser.ConfigParser]] = {}


def config_file_path() -> str:
    """``$BENTOML_HOME/bentoml.cfg``."""
    return os.path.join(bentoml_home(), CONFIG_FILE_NAME)


def _new_parser() -> configparser.ConfigParser:
    # No interpolation: a '%' in a token is a '%'.
    return configparser.ConfigParser(interpolation=None, default_section="__no_defaults__")


def _parse_error(path: str, exc: configparser.Error) -> ConfigurationError:
    lineno = getattr(exc, "lineno", None)
    if isinstance(exc, configparser.MissingSectionHeaderError):
        what = f"{exc.line.strip()!r} comes before any [section] header"
    elif isinstance(exc, configparser.ParsingError) and exc.errors:
        lineno, line = exc.errors[0]
        try:  # configparser keeps the repr of the line
            line = ast.literal_eval(line)
        except (ValueError, SyntaxError):
            pass
        what = f"cannot parse {str(line).strip()!r}"
    elif isinstance(exc, (configparser.DuplicateOptionError, configparser.DuplicateSectionError)):
        what = str(exc).splitlines()[0].split(": ", 1)[-1]
    else:
        what = str(exc).splitlines()[0]
    where = f"{path}, line {lineno}" if lineno else path
    return ConfigurationError(f"{where}: {what}; fix the file, or remove it with `bentoml config reset`")


def _stat_key(path: str) -> Optional[Tuple[int, ...]]:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):  # no file there (a home beneath a file: the
        return None                                   # repository names that problem, not this)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def read_config_file(path: Optional[str] = None, fresh: bool = False) -> configparser.ConfigParser:
    """The parsed file (empty when it does not exist); ConfigurationError names a bad line.

    The parse is reused while the file's stat is unchanged, unless ``fresh`` (a writer
    holding the lock must see the last write even within one clock tick).
    """
    path = path or config_file_path()
    key = _stat_key(path)
    if key is None:
        return _new_parser()
    with _cache_lock:
        cached = _parsed_cache.get(path)
        if cached is not None and cached[0] == key and not fresh:
            return cached[1]
    parser = _new_parser()
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f, source=path)
    except configparser.Error as exc:
        raise _parse_error(path, exc) from None
    except UnicodeDecodeError as exc:
        raise ConfigurationError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                 "fix the file, or remove it with `bentoml config reset`") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read {path}: {exc.strerror}") from None
    with _cache_lock:
        _parsed_cache[path] = (key, parser)
    return parser


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {path}: {exc.strerror}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # drops the lock


def update_config_file(change: Callable[[configparser.ConfigParser], None], path: Optional[str] = None) -> None:
    """Apply ``change`` to the file's current content and write it back atomically (see the
    module docstring); a file left with no keys is removed."""
    path = path or config_file_path()
    with _locked(path):
        current = read_config_file(path, fresh=True)
        parser = _new_parser()
        parser.read_dict(current)  # a copy: the cached parse stays what the file holds
        change(parser)
        for section in [s for s in parser.sections() if not parser.options(s)]:
            parser.remove_section(section)
        if not parser.sections():
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
            return
        _write_atomically(path, parser)


def remove_config_file(path: Optional[str] = None) -> bool:
    """Remove the file (under the writers' lock); whether there was one."""
    path = path or config_file_path()
    if not os.path.exists(path):
        return False
    with _locked(path):
        try:
            os.remove(path)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise ConfigurationError(f"cannot remove {path}: {exc.strerror}") from None
    return True


def _write_atomically(path: str, parser: configparser.ConfigParser) -> None:
    directory = os.path.dirname(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{CONFIG_FILE_NAME}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            parser.write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)  # mkstemp makes it 0600 already; say so for whoever reads this
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        if isinstance(exc, OSError):
            raise ConfigurationError(f"cannot write {path}: {exc.strerror}") from None
        raise
