"""Saved bundles to deploy, the offline schema check, a fake kubectl, and the ``bentoml`` CLI in a
subprocess (fixtures: the tests run with ``--import-mode=importlib``, so they import nothing from here)."""
from __future__ import annotations

import json
import os
import pathlib
import stat
import subprocess
import sys
import uuid
from typing import Dict, List, Optional

import kubernetes_validate
import pytest
import yaml

from bentoml.testing.services import PLAIN_SERVICES, service_module

#: The Kubernetes version whose OpenAPI schemas (shipped by kubernetes-validate) every manifest must pass.
KUBERNETES_VERSION = "1.37"
#: The spec's "Core Concepts" example, verbatim: its names have '_', which Kubernetes rejects.
SPEC_SERVICE = '''\
import bentoml


class iris_classifier(bentoml.BentoService):
    """The spec's Kubernetes example names its Deployment iris_classifier."""
'''


def validate(objects: List[dict]) -> None:
    """Each object passes the strict schema of its kind (unknown fields are errors too)."""
    assert objects
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def save(tmp_path: pathlib.Path, source: str, cls: str) -> pathlib.Path:
    module = f"k8s_{uuid.uuid4().hex[:8]}"
    with service_module(source, module, tmp_path / "services") as loaded:
        return pathlib.Path(getattr(loaded, cls)().save_to_dir(str(tmp_path / "bundle" / cls), version="1"))


def bentoml(*args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
    """``bentoml ARGS`` in a fresh interpreter (the installed CLI, plugins from entry points)."""
    return subprocess.run([sys.executable, "-m", "bentoml", *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def documents(text: str) -> List[dict]:
    """The objects of YAML documents or a JSON List."""
    if text.lstrip().startswith("{"):
        listed = json.loads(text)
        assert listed["kind"] == "List"
        return listed["items"]
    return [doc for doc in yaml.safe_load_all(text) if doc]


@pytest.fixture
def bundle(tmp_path: pathlib.Path) -> pathlib.Path:
    """A saved bundle of ``ContractAlpha`` (version ``1``)."""
    return save(tmp_path, PLAIN_SERVICES, "ContractAlpha")


@pytest.fixture
def spec_bundle(tmp_path: pathlib.Path) -> pathlib.Path:
    """A saved bundle named as the spec's example, ``iris_classifier``."""
    return save(tmp_path, SPEC_SERVICE, "iris_classifier")


@pytest.fixture
def fake_kubectl(tmp_path: pathlib.Path):
    """A ``kubectl`` (first on PATH) that records its argv and stdin; no cluster is reachable
    here. ``make(exit_code=0, says=...)`` returns (PATH, argv file, stdin file)."""

    def make(exit_code: int = 0, says: str = "deployment.apps/contract-alpha created") -> tuple:
        bin_dir = tmp_path / "fake-bin"
        bin_dir.mkdir(exist_ok=True)
        argv, stdin = tmp_path / "kubectl-argv.json", tmp_path / "kubectl-stdin.yaml"
        script = bin_dir / "kubectl"
        stream = "sys.stdout" if exit_code == 0 else "sys.stderr"
        script.write_text(f"#!{sys.executable}\n"
                          "import json, sys\n"
                          f"open({str(argv)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
                          f"open({str(stdin)!r}, 'w').write(sys.stdin.read())\n"
                          f"print({says!r}, file={stream})\n"
                          f"sys.exit({exit_code})\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", argv, stdin

    return make


@pytest.fixture
def validate_objects():
    """:func:`validate`: each object passes the strict schema of its kind."""
    return validate


@pytest.fixture
def run_bentoml():
    """:func:`bentoml`: ``bentoml ARGS`` in a fresh interpreter."""
    return bentoml


@pytest.fixture
def parse_documents():
    """:func:`documents`: the objects of YAML documents or a JSON List."""
    return documents
