"""BentoML kernel: package trained models as versioned, reproducible prediction services.

Public API only; integrations come from plugins (see :mod:`bentoml.hookspecs`).
"""
__version__ = "2.0.0.dev0"

from bentoml.service import BentoService, api, artifacts, env  # noqa: E402
from bentoml.bundle.load import load, load_from_dir  # noqa: E402

__all__ = ["BentoService", "api", "artifacts", "env", "load", "load_from_dir", "__version__"]
