"""Loading a bundle never writes into it: no ``__pycache__`` of its modules, even where
Python writes bytecode (tox sets ``PYTHONDONTWRITEBYTECODE`` to empty, CI and users do not
set it).  A changed bundle breaks the checksums a team server's clients verify and Spark's
check that a file ``SparkContext.addFile`` shipped did not change."""
from __future__ import annotations

import os
import subprocess
import sys

from bentoml.testing.services import PLAIN_SERVICES, service_module


def _tree(root: str) -> set:
    return {os.path.relpath(os.path.join(d, f), root) for d, dirs, files in os.walk(root) for f in files + dirs}


def test_loading_a_bundle_writes_no_bytecode_into_it(tmp_path):
    with service_module(PLAIN_SERVICES, "read_only_service", tmp_path / "src") as module:
        bundle = module.ContractAlpha().save_to_dir(str(tmp_path / "bundle"), version="1")
    before = _tree(bundle)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", "import sys, bentoml; svc = bentoml.load(sys.argv[1]); "
                           "print(type(svc).__name__)", bundle], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ContractAlpha"
    assert _tree(bundle) == before, sorted(_tree(bundle) - before)
