"""The service model: :class:`BentoService` and the decorators that declare one.

``bento_service`` holds the class, ``decorators`` ``@env``, ``@artifacts`` and
``@api``, ``inference_api`` what an API is and how it answers one batch.
"""
from bentoml.service.bento_service import BentoService
from bentoml.service.decorators import ServiceEnv, api, artifacts, env
from bentoml.service.decorators import ver

__all__ = ["BentoService", "ServiceEnv", "api", "artifacts", "env", "ver"]
