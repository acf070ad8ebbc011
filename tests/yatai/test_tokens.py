"""Bearer tokens on a real YataiService (``--token-file``): 401 without one, 403 for a read
token that saves or deletes, one-line messages on the real CLI, tokens never in the log, and
the start-up checks (a bad line, a world-readable file, a non-loopback --host without tokens)."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from bentoml.yatai.service import is_loopback, plain_http_warning
from bentoml.yatai.tokens import Tokens

from .conftest import READ_TOKEN, WRITE_TOKEN, clean_env, cli, save, write_token_file

pytestmark = pytest.mark.slow

def http(url, method="GET", token=None, body=None):
    """(status, headers, JSON or text) of one request."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


def test_no_token_is_401_with_a_one_line_error(secured):
    status, headers, body = http(secured.url + "/api/v1/bundles")
    assert status == 401
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert "yatai_service.token" in json.loads(body)["error"]
    status, _, body = http(secured.url + "/api/v1/bundles", token="not-a-known-token")
    assert status == 401 and "does not know this token" in json.loads(body)["error"]
    status, _, _ = http(secured.url + "/docs.json")
    assert status == 401


def test_probes_need_no_token(secured):
    for path in ("/healthz", "/livez", "/readyz"):
        assert http(secured.url + path)[0] == 200, path


def test_a_read_token_reads_but_may_not_save_or_delete(secured):
    status, _, body = http(secured.url + "/api/v1/bundles", token=READ_TOKEN)
    assert status == 200 and isinstance(json.loads(body)["bundles"], list)
    status, _, body = http(secured.url + "/api/v1/uploads", "POST", READ_TOKEN, {"name": "X", "version": "1"})
    assert status == 403 and "write token" in json.loads(body)["error"]
    status, _, _ = http(secured.url + "/api/v1/bundles/X/1", "DELETE", READ_TOKEN)
    assert status == 403


def test_a_write_token_opens_an_upload(secured):
    status, _, body = http(secured.url + "/api/v1/uploads", "POST", WRITE_TOKEN, {"name": "X", "version": "1"})
    assert status == 201
    session = json.loads(body)["session"]
    assert http(secured.url + f"/api/v1/uploads/{session}", "DELETE", WRITE_TOKEN)[0] == 200


def test_the_cli_says_why_in_one_line(secured, tmp_path, service_src):
    out = cli(tmp_path / "nobody", secured.url, "list", ok=False)
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "refused the request" in out.stderr and "yatai_service.token" in out.stderr
    read = {"BENTOML__YATAI_SERVICE__TOKEN": READ_TOKEN}
    write = {"BENTOML__YATAI_SERVICE__TOKEN": WRITE_TOKEN}
    refused = save(service_src, tmp_path / "reader", secured.url, version="ro-1", ok=False, **read)
    assert "this token may only read" in refused.stderr
    save(service_src, tmp_path / "writer", secured.url, version="tok-1", **write)
    out = cli(tmp_path / "reader", secured.url, "list", **read)
    assert "TeamText:tok-1" in out.stdout
    out = cli(tmp_path / "reader", secured.url, "run", "TeamText:tok-1", "predict", "--input", '"hello"', **read)
    assert out.stdout.strip() == '"greeting"'
    out = cli(tmp_path / "reader", secured.url, "delete", "TeamText:tok-1", "-y", ok=False, **read)
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "write token" in out.stderr
    # `bentoml config set` is what a member runs once
    cli(tmp_path / "configured", None, "config", "set", f"yatai_service.token={READ_TOKEN}")
    assert "TeamText:tok-1" in cli(tmp_path / "configured", secured.url, "list").stdout


def test_tokens_never_reach_the_log(secured, tmp_path):
    http(secured.url + "/api/v1/bundles", token=READ_TOKEN)
    http(secured.url + "/api/v1/uploads", "POST", READ_TOKEN, {"name": "X", "version": "2"})
    http(secured.url + "/api/v1/bundles", token="a-wrong-t0ken-guess")
    assert "GET /api/v1/bundles" in secured.text or "/api/v1/bundles" in secured.text
    for token in (READ_TOKEN, WRITE_TOKEN, "a-wrong-t0ken-guess"):
        assert token not in secured.text


def start_fails(home, *args):
    """``yatai-service-start ARGS`` that is expected to exit at once: (returncode, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "bentoml", "yatai-service-start", "--api-port", "0",
                           "--ui-port", "0", *args], env=clean_env(BENTOML_HOME=str(home)),
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stderr.strip()


def test_a_bad_token_file_line_is_named_at_start_up(tmp_path):
    bad = write_token_file(tmp_path / "tokens", f"read {READ_TOKEN}\n# ok\nadmin s3cr3t-value\n")
    code, err = start_fails(tmp_path / "home", "--token-file", str(bad))
    assert code == 1 and len(err.splitlines()) == 1, err
    assert "line 3" in err and "ROLE TOKEN" in err and "s3cr3t-value" not in err
    empty = write_token_file(tmp_path / "empty", "# nothing\n")
    code, err = start_fails(tmp_path / "home", "--token-file", str(empty))
    assert code == 1 and "holds no" in err


def test_a_world_readable_token_file_is_refused(tmp_path):
    open_file = write_token_file(tmp_path / "tokens", f"write {WRITE_TOKEN}\n", mode=0o644)
    code, err = start_fails(tmp_path / "home", "--token-file", str(open_file))
    assert code == 1 and len(err.splitlines()) == 1, err
    assert "chmod" in err and WRITE_TOKEN not in err


def test_a_network_host_without_tokens_is_a_usage_error(tmp_path):
    code, err = start_fails(tmp_path / "home", "--host", "0.0.0.0")
    assert code == 2 and "--token-file" in err and "--insecure-no-auth" in err, err


def test_loopback_and_the_plain_http_warning():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("yatai.example")
    assert plain_http_warning("0.0.0.0", True) and "TLS" in plain_http_warning("0.0.0.0", True)
    assert plain_http_warning("127.0.0.1", True) is None
    assert plain_http_warning("0.0.0.0", False) is None


def test_tokens_compare_whole_values():
    tokens = Tokens([("read", "abc"), ("write", "xyz")])
    assert tokens.role_of("abc") == "read" and tokens.role_of("xyz") == "write"
    assert tokens.role_of("ab") is None and tokens.role_of("abcd") is None and tokens.role_of("") is None
    assert tokens.role_of("é") is None
