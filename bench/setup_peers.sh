#!/usr/bin/env bash
# Idempotently create the peer environments the server benchmark compares against,
# installed from the package index, and train/save each peer's models in its own env.
#
#   bench/setup_peers.sh            # create what is missing (or whose spec changed)
#   FORCE=1 bench/setup_peers.sh    # recreate everything
#   UV_NO_CACHE=1 bench/setup_peers.sh   # measure a cold install (uv honours it)
#
# Creates:
#   bench/.venvs/mlserver     Python 3.11: MLServer 1.7 + mlserver-sklearn (uvloop<0.22)
#   bench/.venvs/bentoml086   Python 3.8:  BentoML 0.8.6, the spec's own system
#   bench/.bundles/mlserver/iris-{rf,svc}     MLServer model repository (adaptive batching 64 / 5 ms)
#   bench/.bundles/bentoml086/{rf,svc}        BentoML 0.8.6 saved bundles (spec's IrisClassifier)
# and installs Debian's wrk (the load generator) if it is missing.
# Each env records its install time in .install-seconds and its `pip freeze` in freeze.txt.
# Our own server and the Flask baselines run from the repo's .venv; server_bench.py
# saves our bundles itself on every run (so they always match the current kernel).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
VENVS="$HERE/.venvs"
BUNDLES="$HERE/.bundles"
mkdir -p "$VENVS" "$BUNDLES"

PY311="${PY311:-$(pyenv prefix 3.11 2>/dev/null || true)/bin/python3.11}"
[ -x "$PY311" ] || PY311="$(command -v python3.11)"
PY38="${PY38:-$(pyenv prefix 3.8 2>/dev/null || true)/bin/python3.8}"
[ -x "$PY38" ] || PY38="$(command -v python3.8 || ls -d "$HOME"/.pyenv/versions/3.8*/bin/python3.8 2>/dev/null | tail -1)"

UV="$(command -v uv || true)"
[ -n "$UV" ] || { [ -x "$HERE/../.venv/bin/uv" ] && UV="$HERE/../.venv/bin/uv"; } || true

MLSERVER_SPEC=("mlserver==1.7.*" "mlserver-sklearn==1.7.*" "uvloop<0.22")
# BentoML 0.8.6 on 3.8: scikit-learn<1.4, protobuf==3.20.3 and pandas<2 are the pins the
# benchmark issue gives; setuptools<70 is needed because 0.8.6 imports pkg_resources when
# saving a bundle and a uv venv ships no setuptools.
BENTOML086_SPEC=("bentoml==0.8.6" "scikit-learn<1.4" "protobuf==3.20.3" "pandas<2" "setuptools<70")

make_env() {  # name python spec...
  local name="$1" py="$2"; shift 2
  local dir="$VENVS/$name" want
  want="$("$py" --version 2>&1) $*"
  CREATED=""
  if [ -z "${FORCE:-}" ] && [ -f "$dir/.bench-spec" ] && [ "$(cat "$dir/.bench-spec")" = "$want" ]; then
    echo "== $name: up to date ($(cat "$dir/.install-seconds" 2>/dev/null || echo '?') s to install)"
    return
  fi
  CREATED=1
  echo "== $name: creating with $py: $*"
  rm -rf "$dir"
  local t0 t1
  t0=$(date +%s.%N)
  if [ -n "$UV" ]; then
    "$UV" venv -q -p "$py" "$dir"
    VIRTUAL_ENV="$dir" "$UV" pip install -q "$@"
    VIRTUAL_ENV="$dir" "$UV" pip freeze > "$dir/freeze.txt"
  else
    "$py" -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check "$@"
    "$dir/bin/pip" freeze > "$dir/freeze.txt"
  fi
  t1=$(date +%s.%N)
  python3 -c "print(round($t1 - $t0, 1))" > "$dir/.install-seconds"
  echo "$want" > "$dir/.bench-spec"
  echo "== $name: installed in $(cat "$dir/.install-seconds") s"
}

if ! command -v wrk >/dev/null; then
  echo "== installing wrk (Debian)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

# Models: trained in each peer's own environment, same estimators and data (peers/models.py).
make_env mlserver "$PY311" "${MLSERVER_SPEC[@]}"
if [ -n "$CREATED" ] || [ ! -f "$BUNDLES/mlserver/iris-svc/model-settings.json" ]; then
  echo "== saving MLServer model repository"
  rm -rf "$BUNDLES/mlserver"
  "$VENVS/mlserver/bin/python" "$HERE/peers/save_mlserver_models.py" "$BUNDLES/mlserver"
fi

make_env bentoml086 "$PY38" "${BENTOML086_SPEC[@]}"
if [ -n "$CREATED" ] || [ ! -f "$BUNDLES/bentoml086/svc/bentoml.yml" ]; then
  echo "== saving BentoML 0.8.6 bundles"
  rm -rf "$BUNDLES/bentoml086" "$BUNDLES/bentoml086-home"
  BENTOML_HOME="$BUNDLES/bentoml086-home" "$VENVS/bentoml086/bin/python" \
    "$HERE/peers/save_bento_bundles.py" "$BUNDLES/bentoml086" 2>&1 | grep -v "INFO - BentoService bundle" || true
  [ -f "$BUNDLES/bentoml086/svc/bentoml.yml" ] || { echo "saving 0.8.6 bundles failed" >&2; exit 1; }
fi

echo "== done"
