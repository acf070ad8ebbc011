"""Each distinct warning shown once over many calls of a model, not once per call."""
from __future__ import annotations

import contextlib
import warnings
from typing import Iterator, Optional, Set


@contextlib.contextmanager
def each_warning_once(seen: Optional[Set[tuple]] = None) -> Iterator[None]:
    """Show each distinct warning once while this is entered, and across every entry given the same ``seen``.

    Python's own "once per place" does not hold across chunks of a batch job:
    libraries that use ``warnings.catch_warnings`` (scikit-learn does, on every
    ``predict``) reset its registry, so a model's warning (``X has feature
    names, but SVC was fitted without feature names``) came once per chunk,
    200 times for a million rows.
    """
    seen = set() if seen is None else seen
    with warnings.catch_warnings():
        show = warnings.showwarning

        def show_once(message, category, filename, lineno, file=None, line=None):
            key = (str(message), category, filename, lineno)
            if key not in seen:
                seen.add(key)
                show(message, category, filename, lineno, file, line)

        warnings.showwarning = show_once
        yield
