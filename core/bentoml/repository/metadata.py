"""The metadata store: one row per bundle, in SQLite by default or any SQLAlchemy URL.

A bundle row is inserted as ``pending`` before its files are stored and turns
``ready`` in the commit that makes it visible; only ready rows are ever listed.
Pending rows left by a killed save name their owner (host and pid), so a later
save can remove them and their files.  ``seq`` (autoincrement) orders bundles:
``NAME:latest`` is the ready row with the highest ``seq``, never a timestamp
that can tie.

The schema is marked with ``application = bentoml-kernel`` in its own table; a
database written by another program is refused, not migrated.
"""
from __future__ import annotations

import json
import os
import socket
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

from bentoml.bundle.naming import validate_name, validate_version
from bentoml.exceptions import InvalidArgument, RepositoryError
from bentoml.repository.record import BundleRecord

APPLICATION = "bentoml-kernel"
SCHEMA_VERSION = "1"
PENDING, READY = "pending", "ready"

_md = sa.MetaData()
meta_table = sa.Table(
    "bentoml_meta", _md,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)
bundles_table = sa.Table(
    "bentoml_bundles", _md,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("version", sa.String(128), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("uri", sa.Text, nullable=False),
    sa.Column("uri_type", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("owner", sa.String(256), nullable=False),
    sa.Column("bundle_config", sa.Text, nullable=False, default="{}"),
    sa.UniqueConstraint("name", "version", name="uq_bundle_name_version"),
)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # journal_mode=WAL is set once, in _init_schema, only after the database proved to be
    # ours: switching it rewrites the file header of a database written by another program.
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class MetadataStore:
    """Bundle rows in a SQL database (SQLAlchemy Core)."""

    def __init__(self, url: str):
        self.url = url
        try:
            self.engine = sa.create_engine(url, future=True)
        except Exception as exc:
            raise RepositoryError(f"cannot use the metadata database {url}: {exc}") from None
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._init_schema()

    def _init_schema(self) -> None:
        deadline = time.monotonic() + 10.0
        try:
            while True:
                tables = set(sa.inspect(self.engine).get_table_names())
                if tables - set(_md.tables):
                    raise RepositoryError(
                        f"the metadata database {self.url} was written by another program "
                        f"(tables: {', '.join(sorted(tables))}); bentoml will not migrate or change it. "
                        "Move it away or set BENTOML_HOME to another directory.")
                if not tables:
                    try:
                        _md.create_all(self.engine)
                        with self.engine.begin() as conn:
                            conn.execute(meta_table.insert(), [
                                {"key": "application", "value": APPLICATION},
                                {"key": "schema_version", "value": SCHEMA_VERSION}])
                    except (OperationalError, IntegrityError):
                        pass  # another process created it at the same moment; checked below
                try:
                    with self.engine.connect() as conn:
                        meta = dict(conn.execute(sa.select(meta_table.c.key, meta_table.c.value)).all())
                except OperationalError:  # no such table (yet)
                    meta = {}
                # Another process may be creating the schema right now (its tables exist
                # before its meta rows): wait for it rather than calling it foreign.
                if meta.get("application") or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        except DatabaseError as exc:
            raise RepositoryError(
                f"cannot open the metadata database {self.url}: {exc.orig}. If it was written by "
                "another program, move it away or set BENTOML_HOME to another directory.") from None
        if meta.get("application") != APPLICATION:
            raise RepositoryError(f"the metadata database {self.url} was written by another "
                                  f"program ({meta.get('application')!r}); refusing to use it")
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise RepositoryError(f"the metadata database {self.url} has schema "
                                  f"{meta.get('schema_version')}; this bentoml reads {SCHEMA_VERSION}")
        if self.engine.dialect.name == "sqlite":  # concurrent readers and one writer
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            except OperationalError:  # busy: a later process switches it; busy_timeout copes meanwhile
                pass

    # -- writes ---------------------------------------------------------------
    def insert_pending(self, name: str, version: str, uri: str, uri_type: str) -> bool:
        """Reserve ``name:version``; False when it is taken."""
        try:
            with self.engine.begin() as conn:
                conn.execute(bundles_table.insert().values(
                    name=name, version=version, status=PENDING, uri=uri, uri_type=uri_type,
                    created_at=datetime.now(timezone.utc), owner=_owner(), bundle_config="{}"))
            return True
        except IntegrityError:
            return False

    def mark_ready(self, name: str, version: str, uri: str, config: Dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(bundles_table.update()
                         .where(bundles_table.c.name == name, bundles_table.c.version == version)
                         .values(status=READY, uri=uri, created_at=datetime.now(timezone.utc),
                                 bundle_config=json.dumps(config)))

    def delete(self, name: str, version: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(bundles_table.delete().where(
                bundles_table.c.name == name, bundles_table.c.version == version))

    def stale_pending(self, max_age: timedelta = timedelta(hours=6)) -> List[Dict[str, Any]]:
        """Pending rows whose saving process is gone (same host, dead pid) or that are too old."""
        host = socket.gethostname()
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(bundles_table).where(bundles_table.c.status == PENDING)).mappings().all()
        stale = []
        for row in rows:
            owner_host, _, pid = row["owner"].rpartition(":")
            too_old = datetime.now(timezone.utc) - _utc(row["created_at"]) > max_age
            if too_old or (owner_host == host and pid.isdigit() and not _alive(int(pid))):
                stale.append(dict(row))
        return stale

    # -- reads ------------------------------------------------------------------
    def _record(self, row: Any) -> BundleRecord:
        # Names and versions become paths: one edited in the database is refused like user input.
        try:
            validate_name(row["name"])
            validate_version(row["version"])
        except InvalidArgument as exc:
            raise RepositoryError(f"the metadata database {self.url} has a corrupt row (seq {row['seq']}): {exc}") from None
        return BundleRecord(row["seq"], row["name"], row["version"], row["uri"], row["uri_type"],
                            _utc(row["created_at"]), json.loads(row["bundle_config"]))

    def get(self, name: str, version: Optional[str]) -> Optional[BundleRecord]:
        """The ready row for ``name:version``, or the latest of ``name`` when version is None."""
        query = sa.select(bundles_table).where(bundles_table.c.name == name,
                                               bundles_table.c.status == READY)
        if version is not None:
            query = query.where(bundles_table.c.version == version)
        query = query.order_by(bundles_table.c.seq.desc()).limit(1)
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return self._record(row) if row else None

    def list(self, name: Optional[str] = None, limit: Optional[int] = None, offset: int = 0,
             order_by: str = "created_at", ascending: bool = False) -> List[BundleRecord]:
        column = {"created_at": bundles_table.c.seq, "name": bundles_table.c.name,
                  "version": bundles_table.c.version}[order_by]
        query = sa.select(bundles_table).where(bundles_table.c.status == READY)
        if name is not None:
            query = query.where(bundles_table.c.name == name)
        query = query.order_by(column.asc() if ascending else column.desc(), bundles_table.c.seq.desc())
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        with self.engine.connect() as conn:
            return [self._record(r) for r in conn.execute(query).mappings().all()]


def _utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; every row is written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
