"""The bundle repository: the :class:`Repository` interface and the one this process uses.

``get_repository()`` returns the repository the configuration names: the
team's YataiService (:class:`bentoml.yatai.client.RemoteRepository`) when
``yatai_service.url`` is set, else :class:`LocalRepository` on
``$BENTOML_HOME`` (``~/bentoml``; metadata in ``storage.db``, files under
``repository/NAME/VERSION``; ``BENTOML_DB_URL`` and ``BENTOML_REPOSITORY_URL``
point elsewhere).  The heavy parts
(SQLAlchemy) load only when a repository is first used, so storage plugins
and ``bentoml --help`` stay cheap.
"""
from __future__ import annotations

import os
import threading
from typing import Optional

from bentoml.home import bentoml_home
from bentoml.repository.interface import Repository

__all__ = ["Repository", "bentoml_home", "get_repository", "reset_repository"]

_repository: Optional[Repository] = None
_repository_key: Optional[tuple] = None
_lock = threading.Lock()


def get_repository() -> Repository:
    """The repository configured for this process: a :class:`~bentoml.yatai.client.RemoteRepository`
    when ``yatai_service.url`` is set (``bentoml config``, ``BENTOML__YATAI_SERVICE__URL``),
    else the :class:`LocalRepository` of ``$BENTOML_HOME``; cached while the
    configuration stays the same."""
    from bentoml.configuration import config_value, yatai_service_url

    global _repository, _repository_key
    home = bentoml_home()
    url = yatai_service_url()
    key = (home, url, config_value("yatai_service.ca_bundle") if url else None,
           config_value("yatai_service.token") if url else None)
    with _lock:
        if _repository is None or _repository_key != key:
            _repository = _open(home, url, key[2], key[3])
            _repository_key = key
        return _repository


def _open(home: str, url: Optional[str], ca_bundle: Optional[str], token: Optional[str]) -> Repository:
    if url is None:
        from bentoml.repository.local_repository import LocalRepository

        return LocalRepository(home, os.environ.get("BENTOML_DB_URL"), os.environ.get("BENTOML_REPOSITORY_URL"))
    from bentoml.yatai.client import RemoteRepository

    return RemoteRepository(url, ca_bundle=ca_bundle, token=token)


def reset_repository() -> None:
    """Forget the cached repository and close its database connections.

    Tests change ``BENTOML_HOME``; a server calls it before forking workers, so
    no database connection is shared across processes.
    """
    global _repository, _repository_key
    with _lock:
        if _repository is not None:
            _repository.close()
        _repository = _repository_key = None
