"""H2O-3 models as BentoML artifacts, with one local H2O (Java) per API server.

``from bentoml.artifact import H2oModelArtifact`` resolves to the class below
once this distribution is installed.  h2o (which imports requests, and starts
Java when used) is imported only when a model is packed, saved, loaded or served.
"""
from __future__ import annotations

from bentoml.hookspecs import hookimpl

from bentoml_h2o.artifact import H2oModelArtifact
from bentoml_h2o.frames import predict_dataframe

__all__ = ["H2oModelArtifact", "predict_dataframe"]


@hookimpl
def register_artifacts(register):
    register(H2oModelArtifact, legacy_paths=("bentoml.frameworks.h2o",))  # where BentoML 0.9-0.13 kept it
