"""Turn a failed Spark job back into the one-line message its Python worker raised."""
from __future__ import annotations

import re
from typing import Optional

from bentoml_deployer_spark.on_executor import ERROR_PREFIX

_MESSAGE = re.compile(re.escape(ERROR_PREFIX) + r"(.*)")


def user_message(exc: BaseException) -> Optional[str]:
    """The message a worker raised for the user (see ``on_executor``) inside Spark's
    ``PythonException``/Py4J error text, or None when the job failed otherwise."""
    found = _MESSAGE.search(str(exc))
    return found.group(1).strip() if found else None
