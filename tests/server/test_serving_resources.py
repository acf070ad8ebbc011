"""Server-wide resources: ``BentoServiceArtifact.prepare_serving`` runs once per artifact
class in the serving parent, before any artifact loads and before the fork; what it
publishes in ``os.environ`` reaches every worker; its release runs exactly once, in the
parent, when the server stops or fails to start, and never because a worker died.

The artifacts below write what happens (and in which process) to a log file named by
``RESOURCE_TEST_LOG``, which the tests read back.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from bentoml.testing.server import save_service_source

MODULE = "serving_resources_service"

SERVICE_SOURCE = textwrap.dedent('''\
    """Artifacts with a server-wide resource that record their life cycle."""
    import os

    import bentoml
    from bentoml.adapters import JsonInput
    from bentoml.artifact import BentoServiceArtifact
    from bentoml.exceptions import BentoMLException

    TOKEN = "RESOURCE_TEST_TOKEN"


    def record(*words):
        with open(os.environ["RESOURCE_TEST_LOG"], "a") as f:
            f.write(" ".join(str(w) for w in words) + "\\n")


    class SharedResourceArtifact(BentoServiceArtifact):
        """Text whose loading needs the resource; loaded after the fork, in each worker."""

        fork_safe = False

        @classmethod
        def prepare_serving(cls):
            record("prepare", cls.__name__, os.getpid())
            os.environ[TOKEN] = f"token-{os.getpid()}"

            def release():
                record("release", cls.__name__, os.getpid())

            return release

        def _save(self, obj, path):
            with open(os.path.join(path, "text.txt"), "w") as f:
                f.write(obj)

        def _load(self, path):
            record("load", self.name, os.getpid(), os.environ.get(TOKEN))
            with open(os.path.join(path, "text.txt")) as f:
                return f.read()


    class ForkSafeResourceArtifact(SharedResourceArtifact):
        """The same, loaded before the fork (in the master); its start can be made to fail."""

        fork_safe = True

        @classmethod
        def prepare_serving(cls):
            if os.environ.get("RESOURCE_TEST_FAIL"):
                raise BentoMLException("the test resource refused to start")
            return super().prepare_serving()


    @bentoml.artifacts([SharedResourceArtifact("shared"), SharedResourceArtifact("again"),
                        ForkSafeResourceArtifact("early")])
    class ResourceService(bentoml.BentoService):

        @bentoml.api(input=JsonInput())
        def whoami(self, docs):
            """The worker's pid and the token it sees."""
            return [{"pid": os.getpid(), "token": os.environ.get(TOKEN),
                     "shared": self.artifacts.shared} for _ in docs]
    ''')


@pytest.fixture(scope="module")
def resource_bundle(tmp_path_factory):
    target = tmp_path_factory.mktemp("resource_bundles") / "ResourceService"
    os.environ["RESOURCE_TEST_LOG"] = os.devnull  # importing the module for the save records nothing
    try:
        return save_service_source(SERVICE_SOURCE, MODULE, "ResourceService", target,
                                   {"shared": "S", "again": "A", "early": "E"})
    finally:
        del os.environ["RESOURCE_TEST_LOG"]


def events(log) -> list:
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


def pids_answering(server, want: int, exclude=(), timeout: float = 30) -> dict:
    """pid -> reply of ``want`` distinct workers (not in ``exclude``), asking until they all answered."""
    seen = {}
    deadline = time.monotonic() + timeout
    while len(seen) < want and time.monotonic() < deadline:
        reply = server.post("/whoami", {})
        assert reply.status == 200, reply
        if reply.json()["pid"] not in exclude:
            seen[reply.json()["pid"]] = reply.json()
    assert len(seen) == want, f"only {sorted(seen)} answered\n{server.log}"
    return seen


def test_prepared_once_in_the_master_shared_by_workers_released_once(start_server, resource_bundle,
                                                                     tmp_path):
    log = tmp_path / "events.log"
    server = start_server("serve-gunicorn", str(resource_bundle), "--port", "0", "--workers", "2",
                          "--enable-microbatch", env={"RESOURCE_TEST_LOG": str(log)})
    master = server.proc.pid
    token = f"token-{master}"
    workers = pids_answering(server, 2)
    assert master not in workers
    assert all(reply["token"] == token and reply["shared"] == "S" for reply in workers.values())

    happened = events(log)
    prepares = [e for e in happened if e[0] == "prepare"]
    # Once per class (two SharedResourceArtifacts, one ForkSafeResourceArtifact), in the master.
    assert prepares == [["prepare", "SharedResourceArtifact", str(master)],
                        ["prepare", "ForkSafeResourceArtifact", str(master)]]
    loads = [e for e in happened if e[0] == "load"]
    assert happened.index(prepares[-1]) < happened.index(loads[0]), happened  # before any load
    # The fork-safe artifact loads in the master (before the fork), the others in each worker;
    # every load sees the published token.
    assert ["load", "early", str(master), token] in loads
    for pid in workers:
        assert ["load", "shared", str(pid), token] in loads and ["load", "again", str(pid), token] in loads

    # A worker killed outright is replaced; nothing is released, nothing prepared again.
    victim = next(iter(workers))
    os.kill(victim, signal.SIGKILL)
    survivor = (set(workers) - {victim}).pop()
    replacement = pids_answering(server, 2, exclude={victim}, timeout=30)
    assert survivor in replacement and len(replacement) == 2
    newcomer = (set(replacement) - {survivor}).pop()
    assert replacement[newcomer]["token"] == token
    assert ["load", "shared", str(newcomer), token] in events(log)
    assert not [e for e in events(log) if e[0] == "release"]
    assert len([e for e in events(log) if e[0] == "prepare"]) == 2

    # SIGTERM: graceful exit 0; each release exactly once, in the master (reverse order).
    assert server.terminate() == 0, server.log
    assert "Traceback" not in server.log, server.log
    releases = [e for e in events(log) if e[0] == "release"]
    assert releases == [["release", "ForkSafeResourceArtifact", str(master)],
                        ["release", "SharedResourceArtifact", str(master)]]
    assert events(log)[-2:] == releases


def test_development_server_prepares_and_releases_in_its_one_process(start_server, resource_bundle,
                                                                     tmp_path):
    log = tmp_path / "events.log"
    server = start_server("serve", str(resource_bundle), "--port", "0", env={"RESOURCE_TEST_LOG": str(log)})
    pid = server.proc.pid
    assert server.post("/whoami", {}).json() == {"pid": pid, "token": f"token-{pid}", "shared": "S"}
    assert server.terminate() == 0, server.log
    happened = events(log)
    assert [e[0] for e in happened] == ["prepare", "prepare", "load", "load", "load", "release", "release"]
    assert {e[2] for e in happened if e[0] != "load"} == {str(pid)}


@pytest.mark.parametrize("command", ["serve", "serve-gunicorn"])
def test_failed_start_releases_what_was_prepared(resource_bundle, tmp_path, command):
    """The second class's prepare_serving fails: the first's resource is released, the
    server exits non-zero with the message, no traceback."""
    log = tmp_path / "events.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENTOML_") or k == "BENTOML_HOME"}
    env.update(RESOURCE_TEST_LOG=str(log), RESOURCE_TEST_FAIL="1")
    out = subprocess.run([sys.executable, "-m", "bentoml", command, str(resource_bundle),
                          "--port", "0", "--workers", "2"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode != 0
    assert "the test resource refused to start" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert [e[:2] for e in events(log)] == [["prepare", "SharedResourceArtifact"],
                                            ["release", "SharedResourceArtifact"]]


def test_failed_bind_releases_what_was_prepared(resource_bundle, tmp_path):
    """A start that fails after prepare_serving (the port is taken) still releases."""
    import socket

    log = tmp_path / "events.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENTOML_") or k == "BENTOML_HOME"}
    env["RESOURCE_TEST_LOG"] = str(log)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "bentoml", "serve-gunicorn", str(resource_bundle),
                              "--port", str(port), "--workers", "2"],
                             capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode != 0 and f"cannot listen on 127.0.0.1:{port}" in out.stderr, out.stderr
    assert [e[0] for e in events(log)].count("release") == 2
