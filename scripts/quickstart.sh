#!/usr/bin/env bash
# The main job on the embedded default (SQLite + local files under $BENTOML_HOME):
# create .venv with the kernel and plugins (editable), train the spec's iris SVC,
# save it as a Bento, list it, predict through the CLI, then serve it and answer
# a request with curl. The server stays up until Ctrl+C (QUICKSTART_NO_WAIT=1
# stops it after the curl instead).
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
PORT=${PORT:-5000}
if ! command -v curl >/dev/null; then  # a machine with only Python: a stand-in for curl
    curl() { python - "$@" <<'PY'
import sys, urllib.request
args, data, url = sys.argv[1:], None, None
headers = {}
i = 0
while i < len(args):
    a = args[i]
    if a == "-d": data = args[i + 1].encode(); i += 1
    elif a == "-H": k, _, v = args[i + 1].partition(":"); headers[k] = v.strip(); i += 1
    elif a == "-X": i += 1
    elif not a.startswith("-"): url = a
    i += 1
try:
    sys.stdout.write(urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=5).read().decode())
except Exception:
    sys.exit(22)
PY
    }
fi
echo "==> bentoml serve-gunicorn IrisClassifier:latest --enable-microbatch --workers=2 --port=$PORT" >&2
bentoml serve-gunicorn IrisClassifier:latest --enable-microbatch --workers=2 --port="$PORT" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    kill -0 $server 2>/dev/null || { echo "the server did not start" >&2; exit 1; }
    sleep 0.5
done
echo "==> curl -X POST http://127.0.0.1:$PORT/predict -H 'Content-Type: application/json' -d '[[5.1, 3.5, 1.4, 0.2]]'" >&2
curl -sf -X POST "http://127.0.0.1:$PORT/predict" -H 'Content-Type: application/json' -d '[[5.1, 3.5, 1.4, 0.2]]'
echo
if [ -z "${QUICKSTART_NO_WAIT:-}" ]; then
    echo "==> serving on http://127.0.0.1:$PORT (docs at /, Ctrl+C to stop)" >&2
    wait $server
fi
