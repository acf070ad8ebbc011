"""bentoml_spark.run and .udf on the shared local[2] session, against `bentoml run` on the same rows."""
import collections
import json
import os
import subprocess
import sys

import pytest
from pyspark.sql.functions import struct

import bentoml_spark
from bentoml.exceptions import InvalidArgument, NotFound
from bentoml_deployer_spark.errors import user_message


def _bentoml_run(bundle, api, csv_path):
    """What `bentoml run BUNDLE API --input=FILE.csv` prints, parsed."""
    out = subprocess.run([sys.executable, "-m", "bentoml", "run", str(bundle), api, f"--input={csv_path}"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def iris_csv(iris, tmp_path_factory):
    path = tmp_path_factory.mktemp("csv") / "iris.csv"
    iris[0].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def expected(iris_bundle, iris_csv):
    """`bentoml run`'s answers for every iris row, for both APIs."""
    return {api: _bentoml_run(iris_bundle, api, iris_csv) for api in ("predict", "proba")}


@pytest.fixture(scope="module")
def iris_df(spark, iris):
    frame = spark.createDataFrame(iris[0])
    assert frame.rdd.getNumPartitions() >= 2  # several partitions, hence several Python workers
    return frame


def test_run_equals_bentoml_run_on_the_same_rows(iris_bundle, iris_df, expected):
    out = bentoml_spark.run(str(iris_bundle), iris_df, api_name="predict")
    assert out.columns == ["result"]
    assert out.schema["result"].dataType.typeName() == "long"  # inferred from the first rows' results
    assert [r.result for r in out.collect()] == expected["predict"]  # a narrow job keeps row order


def test_the_only_api_needs_no_name_and_two_need_one(iris_bundle, iris_df):
    with pytest.raises(InvalidArgument, match=r"2 APIs \(predict, proba\).*api_name="):
        bentoml_spark.run(str(iris_bundle), iris_df)
    with pytest.raises(NotFound, match="no API named 'nope'; APIs: predict, proba"):
        bentoml_spark.run(str(iris_bundle), iris_df, api_name="nope")


def test_a_bento_with_two_apis_runs_the_named_one(iris_bundle, iris_df, expected):
    out = bentoml_spark.run(str(iris_bundle), iris_df, api_name="proba")
    assert out.columns == ["0", "1", "2"]  # a list result becomes columns 0..n-1
    got = [[r["0"], r["1"], r["2"]] for r in out.collect()]
    assert got == expected["proba"]
    assert got != [[float(x == e) for x in range(3)] for e in expected["predict"]]


def test_udf_keeps_the_other_columns_by_name_or_position(spark, iris_bundle, iris, expected):
    features = list(iris[0].columns)
    frame = iris[0].assign(id=range(len(iris[0])))
    df = spark.createDataFrame(frame).repartition(3)  # shuffled: rows are matched by id
    predict = bentoml_spark.udf(str(iris_bundle), "predict", output_schema="long")
    by_name = df.withColumn("label", predict(struct(*features)))
    by_position = df.withColumn("label", predict(*features))
    want = dict(enumerate(expected["predict"]))
    assert {r.id: r.label for r in by_name.collect()} == want
    assert {r.id: r.label for r in by_position.collect()} == want


def test_udf_with_a_struct_schema_returns_a_struct(spark, iris_bundle, iris_df, expected):
    features = iris_df.columns
    proba = bentoml_spark.udf(str(iris_bundle), "proba", output_schema="p0 double, p1 double, p2 double",
                              spark=spark)
    rows = iris_df.select(proba(struct(*features)).alias("p")).select("p.*").collect()
    assert [[r.p0, r.p1, r.p2] for r in rows] == expected["proba"]


def test_udf_without_an_example_asks_for_the_schema(spark, iris_bundle):
    with pytest.raises(InvalidArgument, match="records no input example; pass output_schema="):
        bentoml_spark.udf(str(iris_bundle), "predict", spark=spark)


def test_a_bad_schema_is_named(iris_bundle, iris_df):
    with pytest.raises(InvalidArgument, match="output_schema 'result lng' is not a Spark type"):
        bentoml_spark.run(str(iris_bundle), iris_df, "predict", output_schema="result lng")


def test_a_bad_row_fails_naming_its_partition_and_row(spark, iris_bundle, iris):
    frame = iris[0].astype(str)
    frame.loc[7, "petal_width"] = "abc"
    df = spark.createDataFrame(frame).coalesce(1)  # one partition: row 8 of it is row 8 of the input
    out = bentoml_spark.run(str(iris_bundle), df, "predict", output_schema="result long", chunk_size=4)
    with pytest.raises(Exception) as failed:
        out.collect()
    message = user_message(failed.value)
    assert message is not None, str(failed.value)[-2000:]
    assert message.startswith("partition 0, row 8: IrisClassifier predict: ")
    assert "'abc'" in message


def test_each_python_worker_loads_the_bento_once(spark, iris_bundle, iris, load_log):
    before = load_log.read_text().split()
    df = spark.createDataFrame(iris[0]).repartition(8)
    out = bentoml_spark.run(str(iris_bundle), df, "predict", output_schema="result long", chunk_size=10)
    assert out.count() == len(iris[0]) and out.rdd.getNumPartitions() == 8
    loads = load_log.read_text().split()
    assert loads, "the test Bento never logged a load"
    assert max(collections.Counter(loads).values()) == 1, loads  # never twice in one process
    assert len(loads) - len(before) <= 2  # 8 tasks, 2 cores: at most one load per new worker
    assert os.getpid() not in map(int, loads[len(before):])  # the driver loaded it before, if at all


def test_udf_infers_its_type_from_the_recorded_input_example(spark, iris_bundle_with_example, iris_df,
                                                              expected):
    predict = bentoml_spark.udf(str(iris_bundle_with_example), "predict", spark=spark)
    proba = bentoml_spark.udf(str(iris_bundle_with_example), "proba", spark=spark)
    assert predict.returnType.typeName() == "long"
    assert [f.name for f in proba.returnType.fields] == ["0", "1", "2"]  # several columns: a struct
    rows = iris_df.select(predict(struct(*iris_df.columns)).alias("label")).collect()
    assert [r.label for r in rows] == expected["predict"]
