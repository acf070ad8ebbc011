"""``SparkDeployer``: the ``spark`` deployment target."""
from __future__ import annotations

from typing import Any

from bentoml.deployer import Deployer, check_bundle


class SparkDeployer(Deployer):
    """Batch jobs on Spark.  What Spark runs is the bundle directory itself: ``build``
    checks it and returns its path, which :func:`bentoml_spark.run`, :func:`bentoml_spark.udf`
    and ``bentoml batch`` ship to the executors with ``SparkContext.addFile``.
    A batch job has no long-lived deployment, so there is no deploy/describe/delete."""

    name = "spark"

    def build(self, bundle_path: str, **options: Any) -> str:
        """The checked bundle directory (a BundleError naming it when it is not one)."""
        from bentoml_deployer_spark.shipping import resolve_bento

        path = resolve_bento(bundle_path)
        check_bundle(path)
        return path
