"""Telling a model's refusal of its input (HTTP 400) from a bug (HTTP 500).

An API function may preprocess its input, so the kernel cannot know what a
model accepts; each artifact plugin knows its framework's input checks.  When
an API function raises, :class:`~bentoml.service.inference_api.InferenceAPI`
asks each artifact class of the service (:meth:`BentoServiceArtifact.
bad_input_message`) whether the exception is its framework refusing the input;
the first message makes the answer a 400 naming the API, and any other
exception stays a 500.

A plugin recognizes its framework's errors by type *and* by where they were
raised, with :func:`raised_in`: scikit-learn's ``ValueError`` from
``sklearn.utils.validation.check_array`` is bad input; a ``ValueError`` that
the user's own code raises, or that the framework raises for another reason,
is not.  :func:`one_line` turns a framework's message into one line for the
client (no tracebacks, no C++ stack traces).
"""
from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Iterable, Iterator, Optional, Tuple

if TYPE_CHECKING:
    from bentoml.artifact import BentoServiceArtifact

logger = logging.getLogger(__name__)

__all__ = ["frames", "model_input_error", "one_line", "raised_in"]


def frames(exc: BaseException) -> Iterator[Tuple[str, str]]:
    """``(module, function)`` of each frame ``exc`` passed through, outermost first."""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        yield frame.f_globals.get("__name__", ""), frame.f_code.co_name
        tb = tb.tb_next


def _matches(module: str, function: str, place: str) -> bool:
    where, _, name = place.partition(":")
    if name and name != function:
        return False
    return module == where or module.startswith(where + ".")


def raised_in(exc: BaseException, *places: str) -> bool:
    """Whether ``exc`` was raised in, or passed through, one of ``places``.

    A place is a module (``"xgboost.data"``, which includes its submodules) or
    a function in a module (``"sklearn.utils.validation:check_array"``, by the
    function's own name: a method is named without its class).  Only frames
    between where the exception was caught and where it was raised count, so
    an exception the user's code raises after calling ``check_array`` is not
    "raised in" it.

    Example::

        raised_in(exc, "sklearn.utils.validation:check_array", "sklearn.base:_check_n_features")
    """
    return any(_matches(module, function, place) for module, function in frames(exc) for place in places)


_WHITESPACE = re.compile(r"\s+")


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, whitespace collapsed, cut to ``limit`` characters (``...`` marks a cut)."""
    text = _WHITESPACE.sub(" ", str(text)).strip()
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def model_input_error(artifact_classes: Iterable[type], exc: BaseException) -> Optional[str]:
    """The first message that one of ``artifact_classes`` gives for ``exc``, or None.

    A class whose hook raises is skipped (and logged): a broken plugin must not
    turn a user's 500 into a different 500, or hide the original error.
    """
    for cls in artifact_classes:
        try:
            message = cls.bad_input_message(exc)
        except Exception:  # a plugin's bug; the original error is what matters
            logger.warning("%s.bad_input_message raised; ignoring it", cls.__qualname__, exc_info=True)
            continue
        if message:
            return str(message)
    return None


def artifact_classes(artifacts: Iterable["BentoServiceArtifact"]) -> Tuple[type, ...]:
    """The distinct classes of ``artifacts``, in declaration order."""
    seen = []
    for artifact in artifacts:
        if type(artifact) not in seen:
            seen.append(type(artifact))
    return tuple(seen)
