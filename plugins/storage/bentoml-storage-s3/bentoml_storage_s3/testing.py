"""A real moto S3 server on loopback for tests and benchmarks (``pip install 'moto[server]'``).

moto's in-process ``mock_aws`` does not reach s3fs's async client, so tests talk
to ``moto_server`` over HTTP like any S3 endpoint.  :meth:`MotoServer.env` is
all a client needs: the standard AWS variables, nothing passed in code.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Dict, Optional

def aws_env(endpoint: Optional[str], key: str = "testing", secret: str = "testing") -> Dict[str, str]:
    """The standard AWS variables for ``endpoint`` (None: no endpoint set) and a key pair.

    The config and credentials files and the instance metadata service are switched
    off, so that a developer's ``~/.aws`` never leaks into a test."""
    env = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
           "AWS_EC2_METADATA_DISABLED": "true"}
    if endpoint is not None:
        env["AWS_ENDPOINT_URL_S3"] = endpoint
    return env


#: Every variable :func:`aws_env` may set, and the others botocore reads that would change it.
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
                 "AWS_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
                 "AWS_EC2_METADATA_DISABLED", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_RETRY_MODE",
                 "AWS_MAX_ATTEMPTS")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1 (port from ``BENTOML_TEST_MOTO_PORT`` or a free one)."""

    def __init__(self, port: Optional[int] = None, log_path: Optional[str] = None,
                 env: Optional[Dict[str, str]] = None):
        """Start it and wait until it answers; ``env``: more variables for the server
        (``INITIAL_NO_AUTH_ACTION_COUNT=N`` checks credentials after N requests)."""
        port = port or int(os.environ.get("BENTOML_TEST_MOTO_PORT") or 0) or _free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         env={**os.environ, **(env or {})})
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(self.endpoint + "/moto-api/data.json", timeout=1).close()
                return
            except (urllib.error.URLError, OSError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not start on {self.endpoint} "
                                       f"(exit code {self.proc.returncode})")
                time.sleep(0.05)

    def env(self, **extra: str) -> Dict[str, str]:
        """The AWS variables a client of this server needs (see :func:`aws_env`)."""
        return {**aws_env(self.endpoint), **extra}

    def create_bucket(self, bucket: str) -> None:
        """Create ``bucket`` (a PUT on its path, as every S3 client does)."""
        request = urllib.request.Request(f"{self.endpoint}/{bucket}", method="PUT", data=b"")
        urllib.request.urlopen(request, timeout=10).close()

    def keys(self, bucket: str) -> list:
        """Every object key in ``bucket`` (ListObjectsV2 over HTTP, up to 1000)."""
        import xml.etree.ElementTree as ET

        with urllib.request.urlopen(f"{self.endpoint}/{bucket}?list-type=2", timeout=10) as answer:
            tree = ET.fromstring(answer.read())
        return sorted(el.text for el in tree.iter() if el.tag.endswith("}Key") or el.tag == "Key")

    def stop(self) -> None:
        """Stop the server (its objects go with it: moto keeps them in memory)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
