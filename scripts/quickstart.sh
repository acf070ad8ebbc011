#!/usr/bin/env bash
# The main job on the embedded default (SQLite + local files under $BENTOML_HOME):
# create .venv with the kernel and plugins (editable), train the spec's iris SVC,
# save it as a Bento, list it, and predict through the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/uv ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
fi
echo "==> installing the kernel and plugins into .venv" >&2
# One resolver call for the kernel and every plugin: nothing comes from the
# index under our names.
.venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python \
    -e . \
    -e plugins/artifacts/bentoml-sklearn -e plugins/artifacts/bentoml-pickle \
    -e plugins/adapters/bentoml-adapter-dataframe -e plugins/adapters/bentoml-adapter-json \
    -e plugins/storage/bentoml-storage-local
export PATH="$PWD/.venv/bin:$PATH"
echo "==> training the iris SVC and saving IrisClassifier (BENTOML_HOME=${BENTOML_HOME:-~/bentoml})" >&2
(cd examples/quickstart && python train_and_save.py)
echo "==> bentoml list" >&2
bentoml list
echo "==> bentoml run IrisClassifier:latest predict --input='[[5.1, 3.5, 1.4, 0.2]]'" >&2
bentoml run IrisClassifier:latest predict --input='[[5.1, 3.5, 1.4, 0.2]]'
