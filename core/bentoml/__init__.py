"""BentoML kernel: package trained models as versioned, reproducible prediction services.

Public API only; integrations come from plugins (see :mod:`bentoml.hookspecs`).
"""
from bentoml import legacy_modules as _legacy_modules
from bentoml import log_defaults as _log_defaults
from bentoml._version import __version__
from bentoml.service import BentoService, api, artifacts, env
from bentoml.service import ver  # BentoML 0.8's semantic versions
from bentoml.service.decorators import web_static_content

_log_defaults.install()
_legacy_modules.install()  # BentoML 0.x module paths: bentoml.frameworks.sklearn, bentoml.handlers, ...


def configure_logging(logging_level: "int | str | None" = None) -> None:
    """BentoML 0.x's ``bentoml.configure_logging``: the ``bentoml`` loggers write to stderr
    from ``logging_level`` (a ``logging`` level or its name, such as ``"DEBUG"``; INFO when
    not given), as the CLI's do, whatever logging the application set up."""
    from bentoml.cli.common import configure_logging as _configure

    _configure(_log_defaults.level_number(logging_level))


def load(bento: str) -> "BentoService":
    """Load a saved bundle by path, ``NAME:VERSION``, ``NAME:latest`` or ``NAME``."""
    from bentoml.bundle.load import load_from_dir as _load_from_dir
    from bentoml.repository import get_repository

    return _load_from_dir(get_repository().resolve(bento))


def load_from_dir(path: str) -> "BentoService":
    """Load the bundle directory (or installed bundle package) at ``path``."""
    from bentoml.bundle.load import load_from_dir as _load_from_dir

    return _load_from_dir(path)


__all__ = ["BentoService", "api", "artifacts", "configure_logging", "env", "load", "load_from_dir", "ver",
           "web_static_content", "__version__"]
