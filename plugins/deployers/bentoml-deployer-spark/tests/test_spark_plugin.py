"""The plugin against the kernel's contracts: entry point, registry, cheap import, the spark target."""
import pathlib

from bentoml.testing import CommandsContract, DeployerContract

from bentoml_deployer_spark import SparkDeployer


class TestSparkDeployer(DeployerContract):
    deployer_class = SparkDeployer
    target = "spark"
    distribution = "bentoml-deployer-spark"
    framework_module = "pyspark"

    def check_build(self, reference, bundle, tmp_path):
        # what Spark ships to its executors is the bundle directory itself
        assert pathlib.Path(reference) == bundle.resolve()
        assert (pathlib.Path(reference) / "bentoml.yml").is_file()


class TestBatchCommand(CommandsContract):
    distribution = "bentoml-deployer-spark"
    commands = ["batch"]


def test_the_short_name_is_the_same_functions():
    import bentoml_deployer_spark
    import bentoml_spark

    assert bentoml_spark.run is bentoml_deployer_spark.run
    assert bentoml_spark.udf is bentoml_deployer_spark.udf
