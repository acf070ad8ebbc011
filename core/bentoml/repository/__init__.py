"""The bundle repository: the :class:`Repository` interface and the one this process uses.

``get_repository()`` returns the repository the configuration names: today
always :class:`LocalRepository` on ``$BENTOML_HOME`` (``~/bentoml``; metadata
in ``storage.db``, files under ``repository/NAME/VERSION``; ``BENTOML_DB_URL``
and ``BENTOML_REPOSITORY_URL`` point elsewhere).  The heavy parts
(SQLAlchemy) load only when a repository is first used, so storage plugins
and ``bentoml --help`` stay cheap.
"""
from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Optional

from bentoml.home import bentoml_home
from bentoml.repository.interface import Repository

if TYPE_CHECKING:
    from bentoml.repository.local_repository import LocalRepository

__all__ = ["Repository", "bentoml_home", "get_repository", "reset_repository"]

_repository: Optional["LocalRepository"] = None
_lock = threading.Lock()


def get_repository() -> Repository:
    """The repository configured by the environment (cached per ``BENTOML_HOME``)."""
    from bentoml.repository.local_repository import LocalRepository

    global _repository
    home = bentoml_home()
    with _lock:
        if _repository is None or _repository.home != home:
            _repository = LocalRepository(home, os.environ.get("BENTOML_DB_URL"),
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
            _repository.close()
        _repository = None
