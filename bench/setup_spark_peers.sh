#!/usr/bin/env bash
# The environment of bench/spark_bench.py: our kernel and Spark plugin next to MLflow, so
# that one run (one Spark session, the same rows) times both.  MLflow lives only here,
# never in the tests' environments.
#
#   bench/setup_spark_peers.sh          # create it if missing (or if its spec changed)
#   FORCE=1 bench/setup_spark_peers.sh  # recreate it
#
# Creates bench/.venvs/spark-mlflow (git-ignored) with Python 3.11: bentoml (editable),
# bentoml-sklearn, bentoml-adapter-dataframe, bentoml-deployer-spark, mlflow-skinny 3.17
# (MLflow's pyfunc and sklearn flavours without its tracking server) and scikit-learn.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
DIR="$HERE/.venvs/spark-mlflow"
PY311="${PY311:-$(command -v python3.11)}"
UV="${UV:-$(command -v uv || true)}"
for candidate in "$ROOT/.tox-runner/bin/uv" "$ROOT/.venv/bin/uv"; do [ -n "$UV" ] || { [ -x "$candidate" ] && UV="$candidate"; }; done
[ -n "$UV" ] || { echo "uv is needed (pip install uv)" >&2; exit 1; }

SPEC=("mlflow-skinny==3.17.*" "scikit-learn>=1.4"
      -e "$ROOT" -e "$ROOT/plugins/artifacts/bentoml-sklearn"
      -e "$ROOT/plugins/adapters/bentoml-adapter-dataframe" -e "$ROOT/plugins/deployers/bentoml-deployer-spark")
want="$("$PY311" --version 2>&1) ${SPEC[*]}"
if [ -z "${FORCE:-}" ] && [ -f "$DIR/.bench-spec" ] && [ "$(cat "$DIR/.bench-spec")" = "$want" ]; then
  echo "== spark-mlflow: up to date"
  exit 0
fi
echo "== spark-mlflow: creating with $PY311"
rm -rf "$DIR"
"$UV" venv -q -p "$PY311" "$DIR"
VIRTUAL_ENV="$DIR" "$UV" pip install -q "${SPEC[@]}"
VIRTUAL_ENV="$DIR" "$UV" pip freeze > "$DIR/freeze.txt"
echo "$want" > "$DIR/.bench-spec"
echo "== spark-mlflow: ready ($(grep -iE '^(mlflow-skinny|pyspark|pandas|scikit-learn)==' "$DIR/freeze.txt" | tr '\n' ' '))"
