"""XGBoost models as BentoML artifacts, saved in XGBoost's own model format.

``from bentoml.artifact import XgboostModelArtifact`` resolves to
:class:`~bentoml_xgboost.artifact.XgboostModelArtifact` once this distribution
is installed.  XGBoost is imported only when a model is packed, saved or loaded.

Installing: ``pip install 'bentoml-xgboost[cpu]'`` (the ``xgboost-cpu``
distribution) or ``pip install 'bentoml-xgboost[gpu]'`` (``xgboost``, with CUDA
support and its NVIDIA wheels).  XGBoost is deliberately not a plain
dependency: both distributions provide the same ``import xgboost`` and must
never be installed side by side, and depending on ``xgboost`` would drag a
~350 MB CUDA wheel next to an existing ``xgboost-cpu``.  So the user chooses
one with an extra (or installs either themselves).  When neither is installed
the kernel skips this plugin, and ``from bentoml.artifact import
XgboostModelArtifact`` raises an ImportError naming both extras.  A bundle pins
whichever of the two the saving machine had.
"""
from __future__ import annotations

from bentoml.hookspecs import hookimpl

from bentoml_xgboost.artifact import XgboostModelArtifact

__all__ = ["XgboostModelArtifact"]


@hookimpl
def register_artifacts(register):
    """Register :class:`XgboostModelArtifact` with the kernel."""
    register(XgboostModelArtifact, legacy_paths=("bentoml.frameworks.xgboost",))  # where BentoML 0.9-0.13 kept it
