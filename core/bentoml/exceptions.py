"""Typed errors: each carries a message a user can act on.

The CLI prints ``str(error)`` to stderr and exits non-zero; the API server
maps :class:`BadInput` to HTTP 400 (or the status it carries).
"""
from __future__ import annotations


class BentoMLException(Exception):
    """Base class of every error the kernel raises on purpose."""


class InvalidArgument(BentoMLException, ValueError):
    """A caller passed a value the kernel cannot use (wrong name, type or option)."""


class BadInput(InvalidArgument):
    """Request or CLI input that an adapter cannot parse; answered with HTTP 400."""

    status = 400

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class UnsafePath(BadInput):
    """A path from the network or an archive (an upload's file name, a tar member) that could
    leave its target folder; answered with HTTP 400."""


class NotFound(BentoMLException, LookupError):
    """A named bundle, version or API does not exist."""


class ArtifactNotPacked(BentoMLException):
    """An artifact was used or saved before ``pack`` gave it a model."""


class BundleError(BentoMLException):
    """A directory is not a bundle, or its ``bentoml.yml`` is corrupt or incompatible."""


class DependencyConflict(BentoMLException):
    """Two sources of requirements ask for the same distribution differently."""


class RepositoryError(BentoMLException):
    """The repository (``$BENTOML_HOME``) cannot be used as it is."""


class BundleExists(RepositoryError):
    """A ``NAME:VERSION`` that is saved already (a team server answers it with HTTP 409)."""


class ConfigurationError(BentoMLException):
    """``bentoml.cfg`` cannot be read or written, or a configured value (file or environment)
    is invalid; the message names the file and line, or the key and where it was set."""


class PluginConflict(BentoMLException):
    """Two plugin distributions registered the same name for the same hook."""


class InvalidPlugin(BentoMLException):
    """A plugin's hook implementations do not match the hook specs (a misspelled hook name)."""


class NotSupported(BentoMLException):
    """A deployment target cannot do what was asked (``describe`` on a target that only builds)."""


class MissingPlugin(BentoMLException, ImportError):
    """A name is provided by a plugin distribution that is not installed."""

    def __init__(self, message: str, distribution: str | None = None):
        super().__init__(message)
        self.distribution = distribution
