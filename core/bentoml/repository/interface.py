"""The ``Repository`` interface: the one way the CLI, ``bentoml.load``,
``BentoService.save`` and the API server reach saved bundles.

:class:`~bentoml.repository.local_repository.LocalRepository` keeps bundles on
this machine (SQLite metadata and files under ``$BENTOML_HOME`` by default);
the team server's client implements the same interface, and
:func:`bentoml.repository.get_repository` picks one by configuration, so
nothing above this interface changes with where bundles live.  An
implementation is tested by subclassing
:class:`bentoml.testing.RepositoryContract`.

Bundles are named by tags: ``NAME:VERSION``, ``NAME:latest`` or ``NAME``
(the latest version; see :mod:`bentoml.repository.tags`).  Every method
raises :class:`~bentoml.exceptions.NotFound` for a tag that names nothing
and :class:`~bentoml.exceptions.RepositoryError` when the repository cannot
be used as it is.
"""
from __future__ import annotations

import abc
from typing import TYPE_CHECKING, List, Optional

from bentoml.bundle.naming import validate_name
from bentoml.exceptions import InvalidArgument
from bentoml.repository.record import BundleRecord
from bentoml.repository.tags import bundle_dir_named

if TYPE_CHECKING:
    from bentoml.service import BentoService

#: What ``list(order_by=...)`` accepts: creation (save) order, or by name.
ORDER_BY = ("created_at", "name")


def check_list_arguments(name: Optional[str], limit: Optional[int], offset: int, order_by: str) -> None:
    """InvalidArgument naming what is wrong with the arguments of :meth:`Repository.list`."""
    if name is not None:
        validate_name(name)
    if order_by not in ORDER_BY:
        raise InvalidArgument(f"cannot order bundles by {order_by!r}; use one of {', '.join(ORDER_BY)}")
    if offset < 0 or (limit is not None and limit < 0):
        raise InvalidArgument(f"limit and offset cannot be negative (got {limit}, {offset})")


class Repository(abc.ABC):
    """Saves, finds, lists, copies and deletes bundles, by tag."""

    #: How many records ``bentoml list`` shows when no ``--limit`` is given (None: all).
    default_list_limit: Optional[int] = None

    @abc.abstractmethod
    def save(self, service: "BentoService", version: Optional[str] = None) -> str:
        """Save ``service`` as a new version of the bundle named after it.

        The new version is listed only once it is complete: a save that fails
        or is killed leaves nothing registered.

        :param service: a service with every artifact packed, whose class is
            defined in an importable module (not ``__main__``).
        :param version: the version to save as; None makes a new
            ``YYYYMMDDHHMMSS_XXXXXX``. A version that exists already is a
            :class:`~bentoml.exceptions.RepositoryError`.
        :returns: a local directory holding the saved bundle (the spec's
            ``saved_path = svc.save()``; ``pip install $saved_path`` works).
        """

    @abc.abstractmethod
    def get(self, tag: str) -> BundleRecord:
        """The bundle ``tag`` names (``NAME`` and ``NAME:latest``: its latest version)."""

    @abc.abstractmethod
    def list(self, name: Optional[str] = None, limit: Optional[int] = None, offset: int = 0,
             order_by: str = "created_at", ascending: bool = False) -> List[BundleRecord]:
        """Saved bundles, newest first by default; one page of them with ``limit`` and ``offset``.

        :param name: only the versions of this bundle.
        :param limit: at most this many records (None: all).
        :param offset: skip this many records of the ordered list first.
        :param order_by: one of :data:`ORDER_BY`; ties are broken newest first.
        :param ascending: oldest (or A to Z) first.
        """

    @abc.abstractmethod
    def delete(self, tag: str) -> BundleRecord:
        """Remove one version (``NAME:VERSION`` or ``NAME:latest``); returns what was removed.

        It is unlisted before its files go, so a failure midway never leaves a
        listed bundle without files."""

    @abc.abstractmethod
    def retrieve(self, tag: str, target_dir: str) -> str:
        """Copy the bundle into ``target_dir`` (missing or empty, never overwritten); returns its path."""

    @abc.abstractmethod
    def local_path(self, tag: str) -> str:
        """A local directory holding the bundle ``tag`` names (a cached copy when stored remotely)."""

    def cached_path(self, tag: str) -> Optional[str]:
        """The local copy of a remotely stored bundle this client holds, if any (None here:
        a local repository's bundles are its files, not copies)."""
        return None

    def resolve(self, tag_or_path: str) -> str:
        """The local bundle directory for a path or a tag: an existing directory is
        used as it is, a path that is not one is a :class:`~bentoml.exceptions.BundleError`,
        anything else is a tag (:meth:`local_path`)."""
        path = bundle_dir_named(tag_or_path)
        return path if path is not None else self.local_path(tag_or_path)

    def close(self) -> None:
        """Release connections (before a server forks, or when the configuration changes)."""
