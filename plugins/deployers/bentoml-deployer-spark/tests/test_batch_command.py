"""`bentoml batch` on real files: as a user runs it (a CLI subprocess starting its own local Spark),
and, to spare a JVM start per case, in this process on the shared session (click's runner)."""
import glob
import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from bentoml.testing.venvs import uv_command

# The commands' Spark drivers take ports in this range (the shared test session has 18250-18269).
_PORTS = {"spark.driver.port": "18270", "spark.blockManager.port": "18280"}


def _batch(*args, env=None, timeout=300):
    conf = [a for k, v in _PORTS.items() for a in ("--conf", f"{k}={v}")]
    return subprocess.run([sys.executable, "-m", "bentoml", "batch", *map(str, args), *conf], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def _batch_here(*args):
    """`bentoml batch ARGS` in this process: the command takes the active (shared) session."""
    from click.testing import CliRunner

    from bentoml.cli import cli

    return CliRunner().invoke(cli, ["batch", *map(str, args)], catch_exceptions=False)


def _bentoml_run(bundle, api, path):
    out = subprocess.run([sys.executable, "-m", "bentoml", "run", str(bundle), api, f"--input={path}"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _one_error_line(proc):
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("Error: "), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return lines[-1]


@pytest.fixture(scope="module")
def iris_files(iris, tmp_path_factory):
    """The iris rows with an id column as CSV, and as Parquet."""
    base = tmp_path_factory.mktemp("batch-input")
    frame = iris[0].assign(id=range(len(iris[0])))
    frame.to_csv(base / "iris.csv", index=False)
    frame.to_parquet(base / "iris.parquet", index=False)
    iris[0].to_csv(base / "features.csv", index=False)
    return base


def test_csv_to_json_lines_keeps_an_id_and_equals_bentoml_run(iris_bundle, iris_files, tmp_path):
    out = tmp_path / "labels.jsonl"
    proc = _batch(iris_bundle, "predict", "--input", iris_files / "iris.csv", "--output", out,
                  "--keep-columns", "id", "--master", "local[2]", "--chunk-size", "16")
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for part in sorted(glob.glob(str(out / "part-*.json")))
            for line in open(part)]
    expected = _bentoml_run(iris_bundle, "predict", iris_files / "features.csv")
    assert {r["id"]: r["result"] for r in rows} == dict(enumerate(expected))


def test_parquet_to_csv_with_the_named_api(spark, iris_bundle, iris_files, tmp_path):
    out = tmp_path / "scores.csv"
    result = _batch_here(iris_bundle, "proba", "--input", iris_files / "iris.parquet", "--output", out,
                         "--keep-columns", "id")
    assert result.exit_code == 0, result.output
    got = pd.concat(pd.read_csv(p) for p in sorted(glob.glob(str(out / "part-*.csv")))).set_index("id")
    assert list(got.columns) == ["0", "1", "2"]
    expected = _bentoml_run(iris_bundle, "proba", iris_files / "features.csv")
    assert got.sort_index().values.tolist() == expected


def test_a_bad_row_is_one_line_naming_it(spark, iris_bundle, iris, tmp_path):
    rows = iris[0].head(30).to_dict("records")
    rows[25]["sepal_width"] = "wide"
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = _batch_here(iris_bundle, "predict", "--input", path, "--output", tmp_path / "out.csv",
                         "--output-schema", "result long")
    assert result.exit_code == 1
    # one file, one partition: row 26 of it is row 26 of the file
    assert result.stderr.strip().splitlines() == [
        "Error: partition 0, row 26: IrisClassifier predict: could not convert string to float: 'wide'"]
    assert not (tmp_path / "out.csv" / "_SUCCESS").exists()


@pytest.fixture(scope="module")
def bare_worker_python(tmp_path_factory):
    """A Python with what pyspark's workers need (pandas, pyarrow) and none of the Bento's plugins."""
    uv = uv_command()
    if uv is None:
        pytest.skip("uv is needed to make the workers' venv quickly")
    venv = tmp_path_factory.mktemp("bare-workers") / "venv"
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
                    f"pandas=={pd.__version__}", "pyarrow", "numpy"], check=True, timeout=300)
    return venv / "bin" / "python"


def test_workers_without_the_plugins_name_them_and_the_wheels(iris_bundle, iris_files, tmp_path,
                                                              bare_worker_python):
    proc = _batch(iris_bundle, "predict", "--input", iris_files / "features.csv", "--output",
                  tmp_path / "out.parquet", "--master", "local[1]", "--output-schema", "result long",
                  env={"PYSPARK_PYTHON": str(bare_worker_python)})
    assert proc.returncode == 1
    line = _one_error_line(proc)
    assert f"({bare_worker_python})" in line
    for dist in ("bentoml", "bentoml-sklearn", "bentoml-adapter-dataframe"):
        assert dist in line
    assert f"pip install {iris_bundle}/wheels/*.whl" in line
    assert not (tmp_path / "out.parquet" / "_SUCCESS").exists()


@pytest.mark.parametrize("args, message", [
    (["--input", "rows.txt", "--output", "out.csv"], "cannot tell the format of 'rows.txt'"),
    (["--input", "missing.csv", "--output", "out.csv"], "no such file or folder 'missing.csv'"),
    (["--input", "in.csv", "--output", "out.csv", "--chunk-size", "0"], "--chunk-size"),
])
def test_usage_errors_exit_2_before_spark_starts(iris_bundle, tmp_path, args, message):
    (tmp_path / "in.csv").write_text("a\n1\n")
    (tmp_path / "rows.txt").write_text("")
    proc = subprocess.run([sys.executable, "-m", "bentoml", "batch", str(iris_bundle), "predict", *args],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_an_unknown_bento_is_one_line(tmp_path):
    proc = _batch("NoSuchService:latest", "predict", "--input", __file__,
                  "--input-format", "csv", "--output", tmp_path / "o.csv")
    assert proc.returncode == 1
    assert "NoSuchService" in _one_error_line(proc)
