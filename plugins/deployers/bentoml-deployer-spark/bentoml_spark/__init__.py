"""The short public name of ``bentoml-deployer-spark``: ``bentoml_spark.udf`` and ``bentoml_spark.run``.

The distribution's import package is ``bentoml_deployer_spark`` (every plugin's
is its distribution name with ``_``); this one re-exports what users call::

    import bentoml_spark
    out = bentoml_spark.run("IrisClassifier:latest", df, api_name="predict")
"""
from bentoml_deployer_spark import run, udf

__all__ = ["run", "udf"]
