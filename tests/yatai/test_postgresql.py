"""The repository on a real PostgreSQL (the session's ``postgresql`` cluster, tests/conftest.py).

``LocalRepository`` keeps the repository contract with its rows there; a
YataiService started with ``--db-url postgresql://scott:tiger@...`` saves, lists
and gets for its clients without ever showing the password; local mode shares
one database through ``BENTOML_DB_URL``; processes saving at once into a fresh
database (its schema created by whichever comes first) lose nothing.
"""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import threading

import pytest

from bentoml.repository.local_repository import LocalRepository
from bentoml.repository.migrations import HEAD
from bentoml.testing import RepositoryContract

from .conftest import cli, client_env, save, save_command

pytestmark = pytest.mark.slow


class TestLocalRepositoryOnPostgreSQL(RepositoryContract):
    """Every promise of a repository, with the metadata rows in PostgreSQL (a database a test)."""

    @pytest.fixture(autouse=True)
    def _cluster(self, postgresql):
        self.cluster = postgresql

    def make_repository(self, tmp_path: pathlib.Path) -> LocalRepository:
        return LocalRepository(str(tmp_path / "home"), db_url=self.cluster.new_database("contract"))


@pytest.fixture(scope="module")
def pg_server(start_yatai, tmp_path_factory, postgresql):
    """A server whose metadata is in a fresh PostgreSQL database, named by a plain postgresql:// URL."""
    url = postgresql.new_database("server")
    server = start_yatai(tmp_path_factory.mktemp("pg-server-home"), "--no-ui", "--db-url", url)
    server.db_url = url
    return server


def test_the_server_on_postgresql_saves_lists_and_gets(pg_server, service_src, tmp_path):
    assert "* Repository: metadata postgresql://scott:***@127.0.0.1:" in pg_server.text
    assert "tiger" not in pg_server.text, "the password is never shown"
    writer, reader = tmp_path / "writer", tmp_path / "reader"
    save(service_src, writer, pg_server.url, version="1")
    # two clients saving at once: both land
    done = []
    threads = [threading.Thread(target=lambda v=v: done.append(save(service_src, writer, pg_server.url, version=v)))
               for v in ("2", "3")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(done) == 2
    listed = json.loads(cli(reader, pg_server.url, "list", "--output", "json").stdout)
    assert sorted(b["version"] for b in listed if b["name"] == "TeamText") == ["1", "2", "3"]
    got = json.loads(cli(reader, pg_server.url, "get", "TeamText:1").stdout)
    assert got["name"] == "TeamText" and got["version"] == "1"
    assert got["uri"]["type"] == "LOCAL"
    out = cli(reader, pg_server.url, "run", "TeamText:1", "predict", "--input", '"hello"')
    assert "greeting" in out.stdout
    # the rows are in PostgreSQL, at the newest schema revision
    import sqlalchemy as sa

    from bentoml.repository.metadata import engine_url

    engine = sa.create_engine(engine_url(pg_server.db_url))
    with engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version FROM bentoml_bundles WHERE status='ready' "
                                        "ORDER BY seq")).scalars().all()
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert sorted(versions) == ["1", "2", "3"] and versions[0] == "1" and revision == HEAD


def test_an_unreachable_database_is_said_in_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bentoml", "yatai-service-start", "--api-port", "0", "--no-ui",
         "--db-url", "postgresql://scott:tiger@127.0.0.1:1/bentomldb"],
        env=client_env(tmp_path / "server", None), capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, proc.stderr
    assert "cannot open the metadata database postgresql://scott:***@127.0.0.1:1/bentomldb" in errors[0]
    assert "tiger" not in proc.stderr and "Traceback" not in proc.stderr


def test_local_mode_shares_a_postgresql_database(postgresql, service_src, tmp_path):
    """Two homes, one BENTOML_DB_URL and one file store: what one saves the other lists and runs."""
    shared = {"BENTOML_DB_URL": postgresql.new_database("local").replace("postgresql://", "postgresql+psycopg://"),
              "BENTOML_REPOSITORY_URL": str(tmp_path / "files")}
    save(service_src, tmp_path / "alice", None, version="7", **shared)
    listed = json.loads(cli(tmp_path / "bob", None, "list", "--output", "json", **shared).stdout)
    assert [(b["name"], b["version"]) for b in listed] == [("TeamText", "7")]
    out = cli(tmp_path / "bob", None, "run", "TeamText:latest", "predict", "--input", '"hello"', **shared)
    assert "greeting" in out.stdout


def test_processes_saving_at_once_into_a_fresh_database_lose_nothing(postgresql, service_src, tmp_path):
    """Two processes open an empty database at the same moment (one creates the schema, the other
    waits on the advisory lock and finds it made) and save different versions, three each."""
    shared = {"BENTOML_DB_URL": postgresql.new_database("concurrent"),
              "BENTOML_REPOSITORY_URL": str(tmp_path / "files")}
    script = ("import sys; sys.path.insert(0, {src!r}); from team_text import TeamText\n"
              "svc = TeamText(); svc.pack('clf', {{'hello': 'greeting'}})\n"
              "for v in {versions!r}: svc.save(version=v)\n")
    procs = []
    for who, versions in (("a", ["a1", "a2", "a3"]), ("b", ["b1", "b2", "b3"])):
        command = save_command(service_src)[:2] + [script.format(src=str(service_src), versions=versions)]
        procs.append(subprocess.Popen(command, env=client_env(tmp_path / who, None, **shared),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    listed = json.loads(cli(tmp_path / "c", None, "list", "--output", "json", **shared).stdout)
    assert sorted(b["version"] for b in listed) == ["a1", "a2", "a3", "b1", "b2", "b3"]
    import sqlalchemy as sa

    from bentoml.repository.metadata import engine_url

    engine = sa.create_engine(engine_url(shared["BENTOML_DB_URL"]))
    with engine.connect() as conn:
        statuses = conn.execute(sa.text("SELECT DISTINCT status FROM bentoml_bundles")).scalars().all()
        revisions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    engine.dispose()
    assert statuses == ["ready"] and revisions == [HEAD]
