"""The image of a bundle, built and run with real podman: it answers, as a non-root user, with
server options passed through, workers sized from the CPU quota, and stops on SIGTERM."""
from __future__ import annotations

import json
import os
import re
import time
import urllib.request

from bentoml_deployer_docker.testing import RUN_OPTIONS, podman, running


def _post(url: str, body) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert reply.status == 200
        return json.loads(reply.read())


def _workers(logs: str) -> int:
    found = re.search(r"Serving DockerEcho:1\.0_Test on http://\S+ \((\d+) workers?", logs)
    assert found, logs
    return int(found.group(1))


def test_the_image_answers_as_an_unprivileged_user(echo_image, next_port):
    with running(echo_image, port=next_port()) as container:
        container.wait_ready()
        reply = _post(container.url("/echo"), {"x": [1, 2]})
        assert reply["echo"] == {"x": [1, 2]}
        assert reply["uid"] != 0
        # the image's HEALTHCHECK (kept by --format docker) passes on the running server
        assert podman("healthcheck", "run", container.id, check=False).returncode == 0, container.logs()


def test_workers_follow_the_cpu_quota_and_options_go_to_the_server(echo_image, next_port):
    host_cpus = len(os.sched_getaffinity(0))
    # the cgroup quota, not the host's cores: --cpus 1 is one worker, --cpus 1.5 two (rounded up)
    for cpus, expected in (("1", 1), ("1.5", min(2, host_cpus))):
        with running(echo_image, port=next_port(), options=["--cpus", cpus]) as container:
            container.wait_ready()
            assert _workers(container.logs()) == expected, (cpus, container.logs())
    # `podman run IMAGE --workers 2`: arguments starting with '-' are the server's
    with running(echo_image, "--workers", "2", port=next_port(), options=["--cpus", "1"]) as container:
        container.wait_ready()
        assert _workers(container.logs()) == 2


def test_sigterm_stops_it_within_the_drain(echo_image, next_port):
    with running(echo_image, "--drain-grace", "1", port=next_port()) as container:
        container.wait_ready()
        started = time.monotonic()
        podman("kill", "--signal", "TERM", container.id)
        exit_code = podman("wait", container.id, timeout=30).stdout.strip()
        took = time.monotonic() - started
        assert exit_code == "0", container.logs()
        assert took < 1 + 5, took  # the grace, then the drain of no requests


def test_the_image_carries_labels_healthcheck_and_a_user(echo_image):
    inspected = json.loads(podman("image", "inspect", echo_image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == "bentoml"
    labels = config["Labels"]
    assert labels["org.opencontainers.image.title"] == "DockerEcho"
    assert labels["org.opencontainers.image.version"] == "1.0_Test"
    assert labels["ai.bentoml.bento.name"] == "DockerEcho"
    assert labels["ai.bentoml.bento.version"] == "1.0_Test"
    assert re.match(r"\d{4}-\d\d-\d\dT", labels["org.opencontainers.image.created"])
    healthcheck = inspected.get("Healthcheck") or config.get("Healthcheck")  # podman: top level
    assert healthcheck and "/livez" in " ".join(healthcheck["Test"]), inspected


def test_everything_installed_is_the_version_the_bundle_pinned(echo_image, echo_bundle):
    pins = dict(line.split("==") for line in (echo_bundle / "constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    frozen = podman("run", "--rm", *RUN_OPTIONS, "--entrypoint", "pip", echo_image, "list", "--format", "json",
                    "--path", "/usr/local/lib/python3.11/dist-packages").stdout
    installed = {item["name"].lower().replace("_", "-"): item["version"] for item in json.loads(frozen)}
    assert installed, frozen
    assert {"flask", "waitress", "bentoml", "bentoml-adapter-json"} <= set(installed)
    unpinned = {name: version for name, version in installed.items() if pins.get(name) != version}
    assert not unpinned, (unpinned, pins)
