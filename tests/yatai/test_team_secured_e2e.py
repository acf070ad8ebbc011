"""The team setup of the README, all real parts at once: a YataiService with its metadata in
PostgreSQL, its files in S3 (moto) and a token file; a writer and a reader, each with a
`$BENTOML_HOME` of its own and its own token.

The writer saves; the reader lists, runs, serves and retrieves; the reader's save and a
client without a token are refused in one line; the web UI shows the bundle after login.
"""
from __future__ import annotations

import json
import os

import pytest

from .conftest import READ_TOKEN, WRITE_TOKEN, cli, save

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def team_server(postgresql, moto_s3, start_yatai, token_file, tmp_path_factory):
    moto_s3.create_bucket("team-e2e")
    return start_yatai(tmp_path_factory.mktemp("team-e2e-server"), "--db-url", postgresql.new_database("team"),
                       "--repo-base-url", "s3://team-e2e/bentos", "--token-file", str(token_file))


def test_a_secured_team_on_postgresql_and_s3(team_server, moto_s3, service_src, tmp_path, start_server):
    writer, reader, stranger = tmp_path / "writer", tmp_path / "reader", tmp_path / "stranger"
    url = team_server.url

    saved = save(service_src, writer, url, version="e2e-1", BENTOML__YATAI_SERVICE__TOKEN=WRITE_TOKEN)
    assert os.path.isdir(saved.saved)  # svc.save() still returns a local directory

    listed = cli(reader, url, "list", "-o", "json", BENTOML__YATAI_SERVICE__TOKEN=READ_TOKEN)
    assert [b["version"] for b in json.loads(listed.stdout)] == ["e2e-1"]
    got = json.loads(cli(reader, url, "get", "TeamText:e2e-1", BENTOML__YATAI_SERVICE__TOKEN=READ_TOKEN).stdout)
    assert got["uri"]["type"] == "S3" and got["uri"]["uri"].startswith("s3://team-e2e/bentos/")

    run = cli(reader, url, "run", "TeamText:latest", "predict", "--input", '"hello"',
              BENTOML__YATAI_SERVICE__TOKEN=READ_TOKEN)
    assert json.loads(run.stdout) == "greeting"

    cli(reader, url, "retrieve", "TeamText:e2e-1", f"--target_dir={tmp_path / 'copy'}",
        BENTOML__YATAI_SERVICE__TOKEN=READ_TOKEN)
    assert (tmp_path / "copy" / "bentoml.yml").is_file()

    served = start_server("serve", "TeamText:latest", "--port", "0",
                          env={"BENTOML_HOME": str(reader), "BENTOML__YATAI_SERVICE__URL": url,
                               "BENTOML__YATAI_SERVICE__TOKEN": READ_TOKEN})
    try:
        reply = served.post("/predict", '"hello"')
        assert (reply.status, reply.json()) == (200, "greeting")
    finally:
        served.stop()

    # svc.save() in the reader's script raises, the exception saying why in one line
    refused = save(service_src, reader, url, version="e2e-2", ok=False, BENTOML__YATAI_SERVICE__TOKEN=READ_TOKEN)
    assert "saving and deleting need a write token" in refused.stderr.strip().splitlines()[-1]
    assert "e2e-2" not in cli(reader, url, "list", BENTOML__YATAI_SERVICE__TOKEN=READ_TOKEN).stdout
    anonymous = cli(stranger, url, "list", ok=False)
    assert "401" in anonymous.stderr or "token" in anonymous.stderr.lower()
    assert "Traceback" not in anonymous.stderr

    ui_page = _ui_after_login(team_server.ui_url, READ_TOKEN)
    assert "TeamText" in ui_page and "e2e-1" in ui_page


def _ui_after_login(ui: str, token: str) -> str:
    """The repository page, as a browser gets it after logging in with ``token`` (plain HTTP;
    the browser itself is driven in test_ui.py)."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(ui + "/login", data=urllib.parse.urlencode({"token": token}).encode(), timeout=30).read()
    return opener.open(ui + "/", timeout=30).read().decode()
