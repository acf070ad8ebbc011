#!/usr/bin/env bash
# Set up and run the whole test suite: tox (with tox-uv) from tox.ini.
# Usage: bash scripts/test.sh [tox env list, default: every environment]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .tox-runner/bin/tox ]; then
    "$PYTHON" -m venv .tox-runner
    .tox-runner/bin/python -m pip install --quiet --disable-pip-version-check "tox>=4.20" "tox-uv>=1.11"
fi
export UV_COMPILE_BYTECODE=1
exec .tox-runner/bin/tox run -e "${1:-ALL}"
