"""Kubernetes object names: checked here, since schema validators do not check them.

The Deployment, its Service and its container share one name, so it must be
what the strictest of them takes: a Service's name is an RFC 1035 label
(lowercase letters, digits and ``-``, a letter first, at most 63 characters).
A Bento's name is a Python class name (``IrisClassifier``; the spec's example
writes ``iris_classifier``), which Kubernetes rejects: :func:`kubernetes_name`
makes ``iris-classifier`` of both.
"""
from __future__ import annotations

import re

from bentoml.exceptions import InvalidArgument

MAX_LENGTH = 63
#: RFC 1035 label: a Service's name (and so the Deployment's and the container's)
_RFC1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
#: RFC 1123 label: a namespace's name
_RFC1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# word boundaries inside CamelCase: irisClassifier, IrisClassifier, XGBModel
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def kubernetes_name(name: str) -> str:
    """A valid object name made from ``name``: ``IrisClassifier`` and ``iris_classifier``
    are ``iris-classifier``; ``XGBModel`` is ``xgb-model``."""
    words = re.sub(r"[^a-z0-9]+", "-", _CAMEL.sub("-", name).lower()).strip("-")
    if not words or not words[0].isalpha():
        words = f"bento-{words}".rstrip("-")
    return words[:MAX_LENGTH].rstrip("-")


def check_name(name: str, what: str = "--name") -> str:
    """``name`` when it is a valid Deployment/Service name; else InvalidArgument naming
    ``what`` and the name to use instead."""
    if len(name) <= MAX_LENGTH and _RFC1035_LABEL.match(name):
        return name
    raise InvalidArgument(
        f"{what} {name!r} is not a valid Kubernetes name (at most {MAX_LENGTH} lowercase letters, "
        f"digits and '-', starting with a letter); use {kubernetes_name(name)!r}")


def check_namespace(namespace: str) -> str:
    """``namespace`` when it is a valid namespace name (an RFC 1123 label), else InvalidArgument."""
    if len(namespace) <= MAX_LENGTH and _RFC1123_LABEL.match(namespace):
        return namespace
    raise InvalidArgument(
        f"--namespace {namespace!r} is not a valid Kubernetes namespace (at most {MAX_LENGTH} lowercase "
        f"letters, digits and '-', starting and ending with a letter or digit)")


def label_value(value: str) -> str:
    """``value`` made what a label's value may hold (at most 63 of ``[-A-Za-z0-9_.]``, starting
    and ending with a letter or digit); a Bento version always is one."""
    return re.sub(r"[^-A-Za-z0-9_.]", "-", value)[:MAX_LENGTH].strip("-_.")
