"""The metadata schema's Alembic migrations, on SQLite and on a real PostgreSQL.

A database made before Alembic (the DDL below is what the release before it
created, copied from its SQLAlchemy metadata) is stamped and upgraded in place
with its rows; a fresh one ends where the newest metadata says; a foreign one or
one of a newer bentoml is refused and left alone; a failing migration changes
nothing.  The PostgreSQL cases need the ``postgresql`` fixture (tests/conftest.py)
and skip, saying why, where it cannot start.
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from bentoml.exceptions import RepositoryError
from bentoml.repository.metadata import MetadataStore, engine_url, schema_metadata
from bentoml.repository.migrations import BASELINE, HEAD, REVISIONS, SCRIPT_LOCATION, alembic_config

#: What bentoml created before Alembic (its ``_md.create_all``), per dialect.
PRE_ALEMBIC_DDL = {
    "sqlite": [
        """CREATE TABLE bentoml_bundles (seq INTEGER NOT NULL, name VARCHAR(128) NOT NULL,
        version VARCHAR(128) NOT NULL, status VARCHAR(16) NOT NULL, uri TEXT NOT NULL,
        uri_type VARCHAR(16) NOT NULL, created_at DATETIME NOT NULL, owner VARCHAR(256) NOT NULL,
        bundle_config TEXT NOT NULL, PRIMARY KEY (seq),
        CONSTRAINT uq_bundle_name_version UNIQUE (name, version))""",
        """CREATE TABLE bentoml_meta ("key" VARCHAR(64) NOT NULL, value VARCHAR(256) NOT NULL,
        PRIMARY KEY ("key"))""",
    ],
    "postgresql": [
        """CREATE TABLE bentoml_bundles (seq SERIAL NOT NULL, name VARCHAR(128) NOT NULL,
        version VARCHAR(128) NOT NULL, status VARCHAR(16) NOT NULL, uri TEXT NOT NULL,
        uri_type VARCHAR(16) NOT NULL, created_at TIMESTAMP WITH TIME ZONE NOT NULL,
        owner VARCHAR(256) NOT NULL, bundle_config TEXT NOT NULL, PRIMARY KEY (seq),
        CONSTRAINT uq_bundle_name_version UNIQUE (name, version))""",
        """CREATE TABLE bentoml_meta (key VARCHAR(64) NOT NULL, value VARCHAR(256) NOT NULL,
        PRIMARY KEY (key))""",
    ],
}

_bundles = sa.table("bentoml_bundles", sa.column("name"), sa.column("version"), sa.column("status"),
                    sa.column("uri"), sa.column("uri_type"), sa.column("created_at", sa.DateTime(timezone=True)),
                    sa.column("owner"), sa.column("bundle_config"))
_meta = sa.table("bentoml_meta", sa.column("key"), sa.column("value"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """An empty database: a SQLite file, or a database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'storage.db'}"
    return request.getfixturevalue("postgresql").new_database("migrations")


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(engine_url(url), poolclass=sa.pool.NullPool)


def _config(version: str) -> dict:
    return {"schema_version": 1, "kind": "BentoService", "name": "Old", "version": version,
            "apis": [{"name": "predict", "input_type": "JsonInput"}],
            "artifacts": [{"name": "clf", "artifact_type": "PickleArtifact"}]}


def _pre_alembic(url: str, bundles: int = 3) -> None:
    """A database as the release before Alembic left it: its schema, its meta rows, ready rows
    and one pending row (a save in progress)."""
    engine = _engine(url)
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        for statement in PRE_ALEMBIC_DDL[engine.dialect.name]:
            conn.exec_driver_sql(statement)
        conn.execute(_meta.insert(), [{"key": "application", "value": "bentoml-kernel"},
                                      {"key": "schema_version", "value": "1"}])
        conn.execute(_bundles.insert(), [
            {"name": "Old", "version": f"v{i}", "status": "pending" if i == bundles else "ready",
             "uri": f"/old/Old/v{i}", "uri_type": "LOCAL", "created_at": start + timedelta(minutes=i),
             "owner": "elsewhere:1", "bundle_config": json.dumps(_config(f"v{i}"))}
            for i in range(bundles + 1)])
    engine.dispose()


def _state(url: str):
    """(tables, Alembic revisions, index names of bentoml_bundles) as the database holds them."""
    engine = _engine(url)
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        tables = set(inspector.get_table_names())
        revisions = (conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
                     if "alembic_version" in tables else None)
        indexes = ({i["name"] for i in inspector.get_indexes("bentoml_bundles")}
                   if "bentoml_bundles" in tables else set())
    engine.dispose()
    return tables, revisions, indexes


def _schema_diff(url: str) -> list:
    """What Alembic's autogenerate finds between the database and the newest metadata."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = _engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema_metadata())
    engine.dispose()
    return diff


def test_the_revision_list_is_the_scripts_in_order():
    """``REVISIONS`` (read without importing Alembic) is the scripts' chain, baseline first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.dir == SCRIPT_LOCATION
    chain = [s.revision for s in reversed(list(scripts.walk_revisions()))]
    assert tuple(chain) == REVISIONS and scripts.get_current_head() == HEAD and chain[0] == BASELINE


def test_a_fresh_database_is_created_at_the_newest_revision(db_url):
    store = MetadataStore(db_url)
    assert store.insert_pending("Svc", "1", "/nowhere/Svc/1", "LOCAL")
    store.engine.dispose()
    tables, revisions, indexes = _state(db_url)
    assert tables == {"alembic_version", "bentoml_meta", "bentoml_bundles"}
    assert revisions == [HEAD] and "ix_bentoml_bundles_name_seq" in indexes
    assert _schema_diff(db_url) == [], "the revisions build what metadata.py declares"


def test_a_database_made_before_alembic_is_upgraded_in_place_with_its_rows(db_url):
    _pre_alembic(db_url)
    assert _state(db_url)[1] is None
    store = MetadataStore(db_url)
    tables, revisions, indexes = _state(db_url)
    assert revisions == [HEAD] and "ix_bentoml_bundles_name_seq" in indexes
    assert _schema_diff(db_url) == []
    listed = store.list(ascending=True)
    assert [r.tag for r in listed] == ["Old:v0", "Old:v1", "Old:v2"], "ready rows kept, in their order"
    assert listed[0].created_at == datetime(2026, 11, 1, tzinfo=timezone.utc)
    assert listed[2].config == _config("v2")
    assert store.get("Old", None).version == "v2"
    assert [row["version"] for row in store.stale_pending()] == ["v3"], "the pending row is still pending"
    # the sequence goes on after the old rows: the newest save is still NAME:latest
    assert store.insert_pending("Old", "v9", "/old/Old/v9", "LOCAL")
    store.mark_ready("Old", "v9", "/old/Old/v9", {"name": "Old", "version": "v9"})
    assert store.get("Old", None).version == "v9" and store.list()[0].seq > listed[-1].seq
    store.engine.dispose()
    again = MetadataStore(db_url)  # at the newest revision: nothing to do
    assert len(again.list()) == 4
    again.engine.dispose()


def test_opening_a_current_database_does_not_load_alembic(tmp_path):
    """The CLI opens the repository on every command: the migration machinery stays unloaded."""
    url = f"sqlite:///{tmp_path / 'storage.db'}"
    MetadataStore(url).engine.dispose()
    code = ("import sys; from bentoml.repository.metadata import MetadataStore; "
            f"MetadataStore({url!r}).list(); print(sorted(m for m in sys.modules if m.startswith('alembic')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_a_failing_migration_leaves_the_database_as_it_was(db_url):
    """Stamp and upgrade are one transaction: when a revision fails (here 0002's index exists
    under its name already), the baseline's stamp is rolled back too, and it is said in one line."""
    _pre_alembic(db_url)
    engine = _engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE INDEX ix_bentoml_bundles_name_seq ON bentoml_bundles (version)")
    engine.dispose()
    before = _state(db_url)
    with pytest.raises(RepositoryError) as refused:
        MetadataStore(db_url)
    assert "\n" not in str(refused.value) and "ix_bentoml_bundles_name_seq" in str(refused.value)
    assert _state(db_url) == before and before[1] is None


@pytest.mark.parametrize("statements", [
    ["CREATE TABLE bentos (id INTEGER PRIMARY KEY)"],
    ["CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
     "INSERT INTO alembic_version VALUES ('ae1027a6acf')"],
    ["CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)",
     "INSERT INTO alembic_version VALUES ('ae1027a6acf')", "CREATE TABLE users (id INTEGER PRIMARY KEY)"],
], ids=["foreign-table", "foreign-alembic-only", "foreign-alembic-app"])
def test_a_foreign_database_is_refused_in_one_line_and_left_alone(db_url, statements):
    engine = _engine(db_url)
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    engine.dispose()
    before = _state(db_url)
    with pytest.raises(RepositoryError, match="written by another program") as refused:
        MetadataStore(db_url)
    assert "\n" not in str(refused.value)
    assert _state(db_url) == before


def test_a_database_of_a_newer_bentoml_is_refused(db_url):
    MetadataStore(db_url).engine.dispose()
    engine = _engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(RepositoryError, match="revision 9999, which this bentoml does not know.*newer bentoml"):
        MetadataStore(db_url)


def test_a_read_only_database_made_before_alembic_is_read_as_it_is(tmp_path):
    url = f"sqlite:///{tmp_path / 'storage.db'}"
    _pre_alembic(url)
    before = (tmp_path / "storage.db").read_bytes()
    store = MetadataStore(url, access="immutable")
    assert [r.tag for r in store.list()] == ["Old:v2", "Old:v1", "Old:v0"]
    store.engine.dispose()
    assert (tmp_path / "storage.db").read_bytes() == before


def test_a_storage_db_of_the_release_before_is_stamped_by_bentoml_list(tmp_path):
    """Today's ``$BENTOML_HOME/storage.db``, through the CLI: listed, and upgraded on the way."""
    home = tmp_path / "home"
    home.mkdir()
    _pre_alembic(f"sqlite:///{home / 'storage.db'}")
    env = {"BENTOML_HOME": str(home), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "bentoml", "list"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert [line.split()[0] for line in out.stdout.splitlines()[1:]] == ["Old:v2", "Old:v1", "Old:v0"]
    assert "made before migrations, to revision" in out.stderr, "the upgrade is said, once"
    with sqlite3.connect(home / "storage.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
