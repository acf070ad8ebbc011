"""Resource quantities (``500m``, ``1.5``, ``256Mi``, ``1e3``), checked as Kubernetes parses them.

The OpenAPI schema types a quantity as any string, so a validator accepts
``256MB`` or ``half``; the API server would refuse them at ``kubectl apply``.
"""
from __future__ import annotations

import re

from bentoml.exceptions import InvalidArgument

# resource.Quantity's grammar: a decimal number, then a binary-SI, decimal-SI or exponent suffix
_QUANTITY = re.compile(r"^(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)"
                       r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$")


def check_quantity(value: str, what: str) -> str:
    """``value`` when it is a positive Kubernetes quantity; else InvalidArgument naming ``what``."""
    found = _QUANTITY.match(value.strip())
    if found is None:
        raise InvalidArgument(f"{what} {value!r} is not a Kubernetes quantity "
                              f"(e.g. 500m or 2 for CPUs, 512Mi or 2Gi for memory)")
    if float(found.group("number")) == 0:
        raise InvalidArgument(f"{what} {value!r} must be more than 0")
    return value.strip()
