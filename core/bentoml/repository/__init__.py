"""The bundle repository: metadata rows plus bundle files on a storage backend.

Default location ``$BENTOML_HOME`` (``~/bentoml``): metadata in
``storage.db`` (SQLite), files under ``repository/NAME/VERSION``.
``BENTOML_DB_URL`` and ``BENTOML_REPOSITORY_URL`` point elsewhere (any
SQLAlchemy URL; any storage backend's URL).  The heavy parts (SQLAlchemy) load
only when a repository is first used, so storage plugins stay cheap to import.
"""
from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from bentoml.repository.bundle_repository import Repository

_repository: Optional["Repository"] = None
_lock = threading.Lock()


def bentoml_home() -> str:
    return os.path.abspath(os.path.expanduser(os.environ.get("BENTOML_HOME", "~/bentoml")))


def get_repository() -> "Repository":
    """The repository configured by the environment (cached per ``BENTOML_HOME``)."""
    from bentoml.repository.bundle_repository import Repository

    global _repository
    home = bentoml_home()
    with _lock:
        if _repository is None or _repository.home != home:
            _repository = Repository(home, os.environ.get("BENTOML_DB_URL"),
                                     os.environ.get("BENTOML_REPOSITORY_URL"))
        return _repository


def reset_repository() -> None:
    """Forget the cached repository and close its database connections.

    Tests change ``BENTOML_HOME``; a server calls it before forking workers, so
    no database connection is shared across processes.
    """
    global _repository
    with _lock:
        if _repository is not None:
            _repository.metadata.engine.dispose()
        _repository = None
