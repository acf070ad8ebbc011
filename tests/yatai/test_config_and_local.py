"""Where a client's bundles go: ``bentoml config`` and ``BENTOML__YATAI_SERVICE__URL`` choose the
server; unset, the local repository is used as before, and a server can serve an existing one."""
from __future__ import annotations

import json

import pytest

from .conftest import cli, save

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_home(tmp_path_factory, service_src):
    """A client home with one bundle saved locally (no server configured)."""
    home = tmp_path_factory.mktemp("local-home")
    save(service_src, home, None, version="local-1")
    return home


def _tags(out):
    return [line.split()[0] for line in out.stdout.splitlines()[1:] if line.strip()]


def test_the_config_file_points_at_the_server_and_unset_goes_back(yatai, local_home, service_src, tmp_path):
    assert _tags(cli(local_home, None, "list")) == ["TeamText:local-1"]
    cli(local_home, None, "config", "set", f"yatai_service.url={yatai.hostport}")
    assert f"url = {yatai.url}" in (local_home / "bentoml.cfg").read_text()
    save(service_src, local_home, None, version="via-config-1")  # no environment: the file says where
    listed = _tags(cli(local_home, None, "list", "--limit", "1000"))
    assert "TeamText:via-config-1" in listed and "TeamText:local-1" not in listed
    # the environment wins over the file, as in 0.x; empty means "not set"
    out = cli(local_home, "127.0.0.1:9", "list", ok=False)
    assert "cannot reach the YataiService at http://127.0.0.1:9" in out.stderr
    assert _tags(cli(local_home, None, "list", BENTOML__YATAI_SERVICE__URL="")) == ["TeamText:local-1"]
    cli(local_home, None, "config", "unset", "yatai_service.url")
    assert _tags(cli(local_home, None, "list")) == ["TeamText:local-1"]
    record = json.loads(cli(local_home, None, "get", "TeamText:local-1").stdout)
    assert record["uri"]["uri"] == str(local_home / "repository" / "TeamText" / "local-1")
    assert "localPath" not in record
    out = cli(local_home, None, "run", "TeamText:local-1", "predict", "--input", '"hello"')
    assert json.loads(out.stdout) == "greeting"


def test_a_server_over_an_existing_local_repository(start_yatai, local_home, tmp_path):
    """The spec's ``docker run -v ~/bentoml:/bentoml ... --db-url=sqlite:///bentoml/storage.db
    --repo-base-url=/bentoml/repository``: bundles saved locally are served as they are."""
    server = start_yatai(local_home, "--no-ui", "--db-url", f"sqlite:///{local_home}/storage.db",
                         "--repo-base-url", str(local_home / "repository"))
    reader = tmp_path / "reader"
    assert _tags(cli(reader, server.url, "list")) == ["TeamText:local-1"]
    out = cli(reader, server.url, "run", "TeamText:local-1", "predict", "--input", '"hello"')
    assert json.loads(out.stdout) == "greeting"
    assert server.stop() == 0
