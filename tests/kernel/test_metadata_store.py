"""The metadata store's SQLite modes and schema: half-made schemas, foreign databases,
read-only opening (``mode=ro`` and ``immutable=1``) without a read-only mount.

Mounted read-only file systems and full disks are in ``tests/robustness/test_repository_faults.py``.
"""
import os
import sqlite3
import time

import pytest
import sqlalchemy as sa

from bentoml.exceptions import RepositoryError
from bentoml.repository.metadata import APPLICATION, MetadataStore, bundles_table, meta_table, sqlite_access


def _url(path):
    return f"sqlite:///{path}"


def _one_bundle(path):
    store = MetadataStore(_url(path))
    assert store.access == "rw"
    assert store.insert_pending("Svc", "1", "/nowhere/Svc/1", "LOCAL")
    store.mark_ready("Svc", "1", "/nowhere/Svc/1", {"name": "Svc", "version": "1"})
    store.engine.dispose()  # the last connection: SQLite removes -wal and -shm
    assert sorted(os.listdir(os.path.dirname(path))) == [os.path.basename(path)]


@pytest.mark.parametrize("tables", [[meta_table], [bundles_table], [meta_table, bundles_table]],
                         ids=["meta-table-only", "bundles-table-only", "tables-without-meta-rows"])
def test_a_half_made_schema_of_ours_is_completed_at_once(tmp_path, tables):
    # what a first save killed mid-schema left before the schema was made in one transaction:
    # each CREATE TABLE on its own
    db = tmp_path / "storage.db"
    engine = sa.create_engine(_url(db))
    with engine.begin() as conn:
        for table in tables:
            table.create(conn)
        # the bentoml that could leave this made no index of its own (revision 0002 adds one)
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_bentoml_bundles_name_seq")
    engine.dispose()
    started = time.monotonic()
    store = MetadataStore(_url(db))
    assert time.monotonic() - started < 2
    assert store.list() == []
    assert store.insert_pending("Svc", "1", "/nowhere/Svc/1", "LOCAL")
    with sqlite3.connect(db) as conn:
        assert dict(conn.execute("SELECT key, value FROM bentoml_meta"))["application"] == APPLICATION


@pytest.mark.parametrize("statements", [
    ["CREATE TABLE bentos (id INTEGER PRIMARY KEY)"],
    ["CREATE TABLE bentoml_meta (key VARCHAR(64) PRIMARY KEY, value VARCHAR(256) NOT NULL)",
     "INSERT INTO bentoml_meta VALUES ('application', 'someone-else')"],
], ids=["foreign-table", "foreign-application"])
def test_a_foreign_database_is_refused_at_once_and_left_alone(tmp_path, statements):
    db = tmp_path / "storage.db"
    conn = sqlite3.connect(db)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    before = db.read_bytes()
    started = time.monotonic()
    with pytest.raises(RepositoryError, match="another program"):
        MetadataStore(_url(db))
    assert time.monotonic() - started < 2
    assert db.read_bytes() == before
    assert os.listdir(tmp_path) == ["storage.db"]


@pytest.mark.parametrize("access", ["immutable", "ro"])
def test_read_only_modes_read_and_never_write(tmp_path, access):
    db = tmp_path / "storage.db"
    _one_bundle(db)
    before = db.read_bytes()
    store = MetadataStore(_url(db), access=access)
    assert not store.writable
    assert [r.tag for r in store.list()] == ["Svc:1"]
    assert store.get("Svc", None).version == "1"
    assert store.stale_pending() == []
    for write in (lambda: store.insert_pending("Svc", "2", "/nowhere/Svc/2", "LOCAL"),
                  lambda: store.mark_ready("Svc", "1", "/nowhere/Svc/1", {}),
                  lambda: store.delete("Svc", "1")):
        with pytest.raises(RepositoryError, match="read-only"):
            write()
    store.engine.dispose()
    assert db.read_bytes() == before
    if access == "immutable":  # no locking, so not even a -shm file
        assert os.listdir(tmp_path) == ["storage.db"]


def test_immutable_refuses_a_write_ahead_log_it_would_ignore(tmp_path):
    db = tmp_path / "storage.db"
    _one_bundle(db)
    (tmp_path / "storage.db-wal").write_bytes(b"\0" * 32)
    with pytest.raises(RepositoryError, match="-wal"):
        MetadataStore(_url(db), access="immutable")


def test_a_missing_database_opened_read_only_is_an_empty_repository(tmp_path):
    store = MetadataStore(_url(tmp_path / "storage.db"), access="immutable")
    assert store.list() == [] and store.get("Svc", None) is None
    assert os.listdir(tmp_path) == []


def test_an_incomplete_schema_opened_read_only_says_so(tmp_path):
    db = tmp_path / "storage.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE bentoml_meta (key VARCHAR(64) PRIMARY KEY, value VARCHAR(256) NOT NULL)")
    with pytest.raises(RepositoryError, match="incomplete"):
        MetadataStore(_url(db), access="immutable")


def test_sqlite_access_of_a_writable_directory(tmp_path):
    assert sqlite_access(str(tmp_path / "storage.db")) == "rw"
