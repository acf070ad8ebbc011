"""A real YataiService on loopback and clients in their own ``$BENTOML_HOME``s.

``yatai`` is one server for the session (``--api-port 0 --ui-port 0``, its own
home); tests that kill or restart a server start their own with
``start_yatai``.  A client is a ``$BENTOML_HOME`` plus
``BENTOML__YATAI_SERVICE__URL``: ``cli(home, url, *args)`` runs ``python -m
bentoml`` there, ``save_script(home, url, ...)`` runs a user's script that
saves a service (a separate process, so it can be killed).
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from typing import Dict, Iterator, List, Optional

import pytest

_RUNNING = re.compile(r"^\* Running on (\S+) \(Press CTRL\+C to quit\)$", re.M)
_UI = re.compile(r"^\* Web UI: running on (http://\S+)$", re.M)

#: A service a writer saves: a pickled dict (as large as a test needs) and a JSON API.
TEXT_SERVICE = textwrap.dedent('''\
    import bentoml
    from bentoml.adapters import JsonInput
    from bentoml.artifact import PickleArtifact


    @bentoml.artifacts([PickleArtifact('clf')])
    class TeamText(bentoml.BentoService):

        @bentoml.api(input=JsonInput())
        def predict(self, docs):
            return [self.artifacts.clf.get(doc, "?") for doc in docs]
    ''')


def clean_env(**extra: str) -> Dict[str, str]:
    """This process's environment without any BENTOML_ setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENTOML")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class YataiServer:
    """A ``bentoml yatai-service-start`` subprocess; ``log`` collects its output."""

    def __init__(self, home: pathlib.Path, *args: str, port: int = 0):
        self.home = home
        self.args = args
        self.log: List[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bentoml", "yatai-service-start", "--api-port", str(port), "--ui-port", "0",
             *args], env=clean_env(BENTOML_HOME=str(home)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = self.text
            if _RUNNING.search(text):
                break
            if self.proc.poll() is not None:
                time.sleep(0.2)
                raise RuntimeError(f"yatai-service-start exited {self.proc.returncode}:\n{self.text}")
            time.sleep(0.05)
        else:
            self.kill()
            raise RuntimeError(f"yatai-service-start did not start:\n{self.text}")
        self.hostport = _RUNNING.search(self.text).group(1)
        self.url = f"http://{self.hostport}"
        ui = _UI.search(self.text)
        self.ui_url = ui.group(1) if ui else None

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.log.append(line)

    @property
    def text(self) -> str:
        return "".join(self.log)

    def get_json(self, path: str, token: Optional[str] = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with urllib.request.urlopen(urllib.request.Request(self.url + path, headers=headers), timeout=30) as answer:
            return json.loads(answer.read())

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)


@pytest.fixture(scope="session")
def start_yatai() -> Iterator:
    """Start a server (``start_yatai(home, *args)``); all are stopped at the end."""
    started: List[YataiServer] = []

    def start(home: pathlib.Path, *args: str, port: int = 0) -> YataiServer:
        server = YataiServer(home, *args, port=port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def yatai(start_yatai, tmp_path_factory) -> YataiServer:
    """The session's server, on its own home."""
    return start_yatai(tmp_path_factory.mktemp("yatai-server-home"))


#: The tokens of ``secured``'s token file.
READ_TOKEN = "r3ad-t0ken-a8f0e6c2"
WRITE_TOKEN = "wr1te-t0ken-77b4d1e9"


def write_token_file(path: pathlib.Path, text: str, mode: int = 0o600) -> pathlib.Path:
    """A token file holding ``text``, with ``mode``."""
    path.write_text(text)
    os.chmod(path, mode)
    return path


@pytest.fixture(scope="session")
def token_file(tmp_path_factory) -> pathlib.Path:
    d = tmp_path_factory.mktemp("tokens")
    return write_token_file(d / "tokens", f"# the team's tokens\n\nread {READ_TOKEN}\nwrite  {WRITE_TOKEN}\n")


@pytest.fixture(scope="session")
def secured(start_yatai, tmp_path_factory, token_file) -> YataiServer:
    """A server that needs tokens (``--token-file``), on its own home."""
    return start_yatai(tmp_path_factory.mktemp("secured-home"), "--token-file", str(token_file))


def client_env(home: pathlib.Path, url: Optional[str], **extra: str) -> Dict[str, str]:
    env = clean_env(BENTOML_HOME=str(home), **extra)
    if url is not None:
        env["BENTOML__YATAI_SERVICE__URL"] = url
    return env


def cli(home: pathlib.Path, url: Optional[str], *args: str, ok: Optional[bool] = True, timeout: float = 120,
        **extra: str) -> subprocess.CompletedProcess:
    """``python -m bentoml ARGS`` as the client of ``home`` talking to ``url`` (None: local)."""
    proc = subprocess.run([sys.executable, "-m", "bentoml", *args], env=client_env(home, url, **extra),
                          capture_output=True, text=True, timeout=timeout)
    if ok is not None:
        assert (proc.returncode == 0) == ok, f"bentoml {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


SAVE_SCRIPT = textwrap.dedent('''\
    import sys
    sys.path.insert(0, {src!r})
    from team_text import TeamText
    svc = TeamText()
    svc.pack("clf", {{"hello": "greeting", "padding": "x" * {padding}}})
    print("SAVED", svc.save({version}), flush=True)
    ''')


@pytest.fixture(scope="session")
def service_src(tmp_path_factory) -> pathlib.Path:
    src = tmp_path_factory.mktemp("team-text-src")
    (src / "team_text.py").write_text(TEXT_SERVICE)
    return src


def save_command(service_src: pathlib.Path, version: Optional[str] = None, padding: int = 0) -> List[str]:
    """The command line of a user's script saving ``TeamText`` (with ``padding`` bytes of model)."""
    return [sys.executable, "-c", SAVE_SCRIPT.format(src=str(service_src), padding=padding,
                                                     version="" if version is None else f"version={version!r}")]


def save(service_src: pathlib.Path, home: pathlib.Path, url: Optional[str], version: Optional[str] = None,
         ok: bool = True, padding: int = 0, **extra: str) -> subprocess.CompletedProcess:
    """Run the save script as the client of ``home``; on success ``.saved`` is the path it printed."""
    proc = subprocess.run(save_command(service_src, version, padding), env=client_env(home, url, **extra),
                          capture_output=True, text=True, timeout=180)
    assert (proc.returncode == 0) == ok, f"save -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    proc.saved = proc.stdout.split("SAVED ", 1)[1].strip() if ok else None  # type: ignore[attr-defined]
    return proc


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory) -> Iterator:
    """A real moto S3 server (``bentoml_storage_s3.testing.MotoServer``) with its standard AWS
    variables in this process's environment, so servers and clients started from here reach
    it as a user's would; skipped where bentoml-storage-s3 or moto is not installed."""
    pytest.importorskip("moto", reason="moto[server] is not installed")
    testing = pytest.importorskip("bentoml_storage_s3.testing", reason="bentoml-storage-s3 is not installed")
    server = testing.MotoServer(log_path=str(tmp_path_factory.mktemp("moto") / "moto.log"))
    with pytest.MonkeyPatch.context() as patch:
        for var in testing.AWS_VARIABLES:
            patch.delenv(var, raising=False)
        for var, value in server.env().items():
            patch.setenv(var, value)
        yield server
    server.stop()
