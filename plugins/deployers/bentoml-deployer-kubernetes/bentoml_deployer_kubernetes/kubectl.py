"""``kubectl apply``: the one thing run against a cluster, with kubectl's own configuration."""
from __future__ import annotations

import shutil
import subprocess
from typing import List, Optional, Sequence

from bentoml.exceptions import BentoMLException


class KubectlError(BentoMLException):
    """kubectl is missing or failed; the message says which, with kubectl's own words."""


def find_kubectl(kubectl: Optional[str] = None) -> str:
    """The kubectl to run: ``kubectl`` when given, else the one on PATH."""
    found = shutil.which(kubectl or "kubectl")
    if found is None:
        raise KubectlError(f"{kubectl or 'kubectl'} was not found on PATH: install kubectl (configured for "
                           "the cluster) to apply, or write the manifests and apply them elsewhere")
    return found


def apply(manifest_text: str, kubectl: Optional[str] = None, extra_args: Sequence[str] = ()) -> str:
    """Run ``kubectl apply -f -`` on ``manifest_text``; its output (``deployment.apps/x created``)."""
    command: List[str] = [find_kubectl(kubectl), "apply", "-f", "-", *extra_args]
    done = subprocess.run(command, input=manifest_text, capture_output=True, text=True)
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise KubectlError(f"kubectl apply failed (exit {done.returncode})"
                           + (f": {' '.join(line.strip() for line in said)}" if said else ""))
    return done.stdout
