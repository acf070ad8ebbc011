"""How big a bundle's image is, and how long from ``podman run`` to the first answered request.

Builds the image of a small JSON service with ``bentoml containerize --wheelhouse``
on the stand-in base image of the plugin's tests (made once, then cached), then
alternates, ``--rounds`` times: ``podman run -p`` of the image until ``POST
/echo`` answers, and the baseline, the same bundle served on this machine with
``bentoml serve-gunicorn`` until it answers.  Prints the image's size and the
base image's, each start time, the medians and their ratio.

    .tox/all/bin/python bench/container_start.py --rounds 5
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from bentoml.testing.services import service_module
from bentoml_deployer_docker.testing import BASE_IMAGE, ensure_base_image, podman, running

SERVICE = f'''\
import bentoml
from bentoml_adapter_json import JsonInput


@bentoml.env(docker_base_image={BASE_IMAGE!r})
class StartBench(bentoml.BentoService):
    @bentoml.api(input=JsonInput(), batch=False)
    def echo(self, body):
        return body
'''
IMAGE = "localhost/bentoml-bench/startbench:1"


def _answered(url: str, deadline: float) -> bool:
    request = urllib.request.Request(url, data=b'{"a": 1}', method="POST", headers={"Content-Type": "application/json"})
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=2) as reply:
                if reply.status == 200:
                    return True
        except OSError:
            time.sleep(0.02)
    return False


def container_start(port: int, workers: str) -> float:
    with running(IMAGE, "--workers", workers, port=port) as container:
        if not _answered(container.url("/echo"), time.monotonic() + 120):
            raise RuntimeError(container.logs())
        return time.monotonic() - container.started


def host_start(bundle: str, port: int, workers: str) -> float:
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "bentoml", "serve-gunicorn", bundle, "--port", str(port),
                               "--workers", workers], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not _answered(f"http://127.0.0.1:{port}/echo", time.monotonic() + 120):
            raise RuntimeError("the host server did not answer")
        return time.monotonic() - started
    finally:
        server.terminate()
        server.wait(30)


def _size(image: str) -> int:
    return json.loads(podman("image", "inspect", image).stdout)[0]["Size"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=18140)
    parser.add_argument("--workers", default="1")
    args = parser.parse_args()
    ensure_base_image()
    with tempfile.TemporaryDirectory(prefix="container-start-") as tmp:
        with service_module(SERVICE, "start_bench_service", os.path.join(tmp, "src")) as module:
            bundle = module.StartBench().save_to_dir(os.path.join(tmp, "bundle"), version="1")
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "bentoml", "containerize", bundle, "-t", IMAGE, "--backend", "podman",
                        "--wheelhouse", "-q"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        build = time.monotonic() - started
        sizes = _size(IMAGE), _size(BASE_IMAGE)
        containers, hosts = [], []
        try:
            for _ in range(args.rounds):
                containers.append(container_start(args.port, args.workers))
                hosts.append(host_start(bundle, args.port + 1, args.workers))
        finally:
            podman("rmi", "-f", IMAGE, check=False)
    print(f"image {IMAGE}: {sizes[0] / 1e6:.0f} MB (base image {BASE_IMAGE}: {sizes[1] / 1e6:.0f} MB), "
          f"built in {build:.1f}s with --wheelhouse")
    print(f"podman run to first answer (--workers {args.workers}): "
          + ", ".join(f"{t:.2f}" for t in containers) + f" s; median {statistics.median(containers):.2f} s")
    print("baseline, serve-gunicorn on the host: "
          + ", ".join(f"{t:.2f}" for t in hosts) + f" s; median {statistics.median(hosts):.2f} s")
    print(f"ratio container / host: {statistics.median(containers) / statistics.median(hosts):.2f}")


if __name__ == "__main__":
    main()
