"""The metadata store: one row per bundle, in SQLite by default, PostgreSQL for a team, or any SQLAlchemy URL.

A bundle row is inserted as ``pending`` before its files are stored and turns
``ready`` in the commit that makes it visible; only ready rows are ever listed.
Pending rows left by a killed save name their owner (host and pid), so a later
save can remove them and their files.  ``seq`` (autoincrement) orders bundles:
``NAME:latest`` is the ready row with the highest ``seq``, never a timestamp
that can tie.

The schema is marked with ``application = bentoml-kernel`` in its own table; a
database written by another program is refused, not migrated.  Its revision is
Alembic's (:mod:`bentoml.repository.migrations`): a database of an older bentoml
is upgraded in place when it is opened, in one transaction with the check that
it is ours (so a process killed midway leaves it as it was, and concurrent
openers take turns); one of a newer bentoml is refused.  ``postgresql://`` URLs
use psycopg 3; passwords in URLs are never shown (:func:`shown_url`).
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import socket
import sqlite3
import urllib.parse
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List, Optional

import sqlalchemy as sa
from sqlalchemy.exc import DatabaseError, IntegrityError

from bentoml.bundle.naming import validate_name, validate_version
from bentoml.exceptions import InvalidArgument, RepositoryError
from bentoml.repository.fs_state import disk_full_message, is_disk_full, is_no_space, unwritable_reason
from bentoml.repository.migrations import BASELINE_TABLES, HEAD, REVISIONS, VERSION_TABLE
from bentoml.repository.record import BundleRecord, ServiceSummary

APPLICATION = "bentoml-kernel"
SCHEMA_VERSION = "1"
PENDING, READY = "pending", "ready"
#: pg_advisory_xact_lock key: servers opening one PostgreSQL database at once migrate it in turn
_PG_SCHEMA_LOCK = 0x62656E746F6D6C  # "bentoml"

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
    sa.Index("ix_bentoml_bundles_name_seq", "name", "seq"),  # revision 0002
)


def schema_metadata() -> sa.MetaData:
    """The tables as the newest revision (:data:`~bentoml.repository.migrations.HEAD`) leaves them."""
    return _md


def engine_url(url: str) -> str:
    """``url`` as SQLAlchemy opens it: ``postgresql://`` (and ``postgres://``) name psycopg 3,
    not SQLAlchemy's default psycopg2 driver."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return url
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


def shown_url(url: str) -> str:
    """``url`` with its password masked, for messages and logs."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def _one_line(error: BaseException) -> str:
    # psycopg's connection errors span lines (a hint on the second)
    return " ".join(str(error).split())


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _sqlite_connect(dbapi_conn, _record) -> None:
    # pysqlite opens transactions only before INSERT/UPDATE/DELETE, so CREATE TABLE ran
    # outside any and a kill could leave half a schema.  SQLAlchemy's documented recipe:
    # the driver stays in autocommit and _sqlite_begin emits every BEGIN itself.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # journal_mode=WAL is set once, in _init_schema, only after the database proved to be
    # ours: switching it rewrites the file header of a database written by another program.
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    immediate = conn.get_execution_options().get("sqlite_begin_immediate")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def sqlite_file(url: str) -> Optional[str]:
    """The file a plain ``sqlite:///PATH`` URL names (None for other databases,
    in-memory ones and URLs with driver options)."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.query or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return os.path.abspath(parsed.database)


def sqlite_access(path: str) -> str:
    """How to open the SQLite database ``path``: ``rw``; ``ro`` where it cannot be
    written; ``immutable`` on a read-only file system, where SQLite cannot create the
    ``-shm`` file that reading a WAL database read-only needs (and where no one can
    change the file, so turning off locking is safe)."""
    directory = os.path.dirname(path)
    reason = unwritable_reason(directory)
    if reason is None and (not os.path.exists(path) or os.access(path, os.W_OK)):
        return "rw"
    if reason == "read-only" and not os.path.exists(path + "-shm"):
        return "immutable"
    return "ro"


def _migrate(conn: sa.Connection, revision: Optional[str], pre_alembic: bool, shown: str) -> None:
    """Bring the database to the newest revision in the caller's transaction (Alembic loads
    only here: a database at :data:`~bentoml.repository.migrations.HEAD` never needs it)."""
    from bentoml.repository.migrations import upgrade

    upgrade(conn, revision, pre_alembic, shown)


class MetadataStore:
    """Bundle rows in a SQL database (SQLAlchemy Core).

    A SQLite file that cannot be written (a read-only ``$BENTOML_HOME``) is opened
    read-only: rows are read, and every write raises
    :class:`~bentoml.exceptions.RepositoryError`.  ``access`` forces the mode
    :func:`sqlite_access` would pick.
    """

    def __init__(self, url: str, access: Optional[str] = None):
        self._url = engine_url(url)
        self.url = shown_url(url)  # what messages say: never a password
        self.path = sqlite_file(url)
        self.access = access or (sqlite_access(self.path) if self.path else "rw")
        self.writable = self.access == "rw"
        try:
            self.engine = self._engine()
        except RepositoryError:
            raise
        except ImportError as exc:
            hint = (" (pip install 'bentoml[postgresql]')" if self._url.startswith("postgresql+psycopg")
                    else "")
            raise RepositoryError(f"cannot use the metadata database {self.url}: its driver is not "
                                  f"installed: {exc}{hint}") from None
        except Exception as exc:
            raise RepositoryError(f"cannot use the metadata database {self.url}: {_one_line(exc)}") from None
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_connect)
            sa.event.listen(self.engine, "begin", _sqlite_begin)
        if self.path is not None and not self.writable and not os.path.exists(self.path):
            with self.engine.begin() as conn:  # a read-only home with no database: no bundles
                _migrate(conn, None, False, self.url)
        try:
            self._init_schema()
        except BaseException:
            self.engine.dispose()  # no connection left open on a database this store refused
            raise

    def _engine(self) -> sa.Engine:
        if self.writable:
            if sa.engine.make_url(self._url).get_backend_name() == "postgresql":
                # a server outlives database restarts (pre_ping), and an unreachable host is
                # said within seconds, not after TCP's minutes
                query = sa.engine.make_url(self._url).query
                connect_args = {} if "connect_timeout" in query else {"connect_timeout": 10}
                return sa.create_engine(self._url, pool_pre_ping=True, connect_args=connect_args)
            return sa.create_engine(self._url)
        if self.path is None:
            raise RepositoryError(f"cannot open {self.url} {self.access}: only SQLite files can be")
        if not os.path.exists(self.path):
            return sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool,
                                    connect_args={"check_same_thread": False})
        wal = self.path + "-wal"
        if self.access == "immutable" and os.path.exists(wal) and os.path.getsize(wal):
            raise RepositoryError(
                f"{self.path}-wal holds changes that SQLite cannot read on a read-only file system "
                "without its -shm file; open the repository once where it is writable")
        uri = f"file:{urllib.parse.quote(self.path)}?{'immutable=1' if self.access == 'immutable' else 'mode=ro'}"
        return sa.create_engine("sqlite://", poolclass=sa.pool.NullPool, creator=functools.partial(
            sqlite3.connect, uri, uri=True, check_same_thread=False))

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Database errors as one-line RepositoryErrors; a full disk said as such."""
        try:
            yield
        except RepositoryError:
            raise
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            orig = exc.orig if isinstance(exc, DatabaseError) else exc
            code = getattr(orig, "sqlite_errorcode", None)
            # SQLite says "disk I/O error" when it cannot grow its -shm file on a full disk
            full = code == sqlite3.SQLITE_FULL or (
                self.path is not None and isinstance(orig, sqlite3.OperationalError) and is_disk_full(self.path))
            if full:
                raise RepositoryError(disk_full_message(self.path or self.url)) from None
            if self.access == "ro" and code == sqlite3.SQLITE_CANTOPEN:
                directory = os.path.dirname(self.path or "")
                raise RepositoryError(
                    f"cannot read {self.path} read-only: SQLite needs to create {self.path}-shm, and "
                    f"{directory} is {unwritable_reason(directory) or 'not writable'}; make it writable, "
                    "or mount it read-only") from None
            if doing == "open" and self.engine.dialect.name == "sqlite":
                raise RepositoryError(
                    f"cannot open the metadata database {self.url}: {_one_line(orig)}. If it was written by "
                    "another program, move it away or set BENTOML_HOME to another directory.") from None
            if doing == "open":
                raise RepositoryError(f"cannot open the metadata database {self.url}: {_one_line(orig)}") from None
            raise RepositoryError(f"cannot {doing} in the metadata database {self.url}: {_one_line(orig)}") from None
        except OSError as exc:
            if is_no_space(exc):
                raise RepositoryError(disk_full_message(self.path or self.url)) from None
            raise RepositoryError(f"cannot {doing} in the metadata database {self.url}: {exc}") from None

    def _require_writable(self, doing: str) -> None:
        if not self.writable:
            where = os.path.dirname(self.path) if self.path else self.url
            raise RepositoryError(f"cannot {doing}: the metadata database {self.path or self.url} is opened "
                                  f"read-only ({where} is {unwritable_reason(where) or 'not writable'})")

    def _foreign(self, what: str) -> RepositoryError:
        return RepositoryError(
            f"the metadata database {self.url} was written by another program ({what}); bentoml will "
            "not migrate or change it. Move it away or set BENTOML_HOME (or --db-url) to another database.")

    def _schema(self, conn: sa.Connection) -> "tuple[Optional[str], bool]":
        """``(revision, pre_alembic)``: the Alembic revision recorded (None: none), and whether
        the database holds the complete schema of a bentoml before Alembic; raises for a
        database that is not ours, or one a newer bentoml upgraded.

        Tables of ours without the meta rows are a schema an older bentoml was
        killed while creating (it did not create it in one transaction): not foreign."""
        tables = set(sa.inspect(conn).get_table_names())
        if tables - set(_md.tables) - {VERSION_TABLE}:
            raise self._foreign(f"tables: {', '.join(sorted(tables))}")
        meta = {}
        if meta_table.name in tables:
            meta = dict(conn.execute(sa.select(meta_table.c.key, meta_table.c.value)).all())
        if meta.get("application", APPLICATION) != APPLICATION:
            raise self._foreign(repr(meta.get("application")))
        if "application" in meta and meta.get("schema_version") != SCHEMA_VERSION:
            raise RepositoryError(f"the metadata database {self.url} has schema "
                                  f"{meta.get('schema_version')}; this bentoml reads {SCHEMA_VERSION}")
        if VERSION_TABLE not in tables:
            return None, "application" in meta and tables == set(BASELINE_TABLES)
        revisions = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        if "application" not in meta:  # we write both in one transaction: someone else's Alembic
            raise self._foreign(f"tables: {', '.join(sorted(tables))}, Alembic revision {', '.join(revisions)}")
        if len(revisions) != 1 or revisions[0] not in REVISIONS:
            raise RepositoryError(
                f"the metadata database {self.url} has schema revision {', '.join(revisions) or '(none)'}, "
                f"which this bentoml does not know (it knows {', '.join(REVISIONS)}): a newer bentoml "
                "upgraded it. Upgrade bentoml to use it.")
        return revisions[0], False

    def _init_schema(self) -> None:
        with self._errors("open"):
            with self.engine.connect() as conn:  # a look first: a foreign database is never locked
                revision, pre_alembic = self._schema(conn)
            if not self.writable:
                # Read as it is: every known revision holds the columns this bentoml reads
                # (a revision that changes them must make read-only opening refuse older ones).
                if revision is None and not pre_alembic:
                    raise RepositoryError(
                        f"the metadata database {self.url} is incomplete and opened read-only "
                        f"({os.path.dirname(self.path or '') or self.url} cannot be written); "
                        "open the repository once where it is writable")
                return  # no schema to create, no journal mode to switch
            if revision != HEAD:
                # Create, stamp or upgrade in one transaction; concurrent openers take turns
                # (IMMEDIATE on SQLite, an advisory lock on PostgreSQL) and look again.
                with self.engine.connect().execution_options(sqlite_begin_immediate=True) as conn:
                    with conn.begin():
                        if self.engine.dialect.name == "postgresql":
                            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SCHEMA_LOCK})
                        revision, pre_alembic = self._schema(conn)
                        if revision != HEAD:
                            _migrate(conn, revision, pre_alembic, self.url)
            if self.engine.dialect.name == "sqlite":
                self._switch_to_wal()

    def _switch_to_wal(self) -> None:
        """Concurrent readers and one writer; outside any transaction, as SQLite needs."""
        raw = self.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            # busy: a later process switches it; busy_timeout copes meanwhile
        finally:
            raw.close()

    # -- writes ---------------------------------------------------------------
    def insert_pending(self, name: str, version: str, uri: str, uri_type: str) -> bool:
        """Reserve ``name:version``; False when it is taken."""
        self._require_writable(f"save {name}:{version}")
        with self._errors(f"reserve {name}:{version}"):
            try:
                with self.engine.begin() as conn:
                    conn.execute(bundles_table.insert().values(
                        name=name, version=version, status=PENDING, uri=uri, uri_type=uri_type,
                        created_at=datetime.now(timezone.utc), owner=_owner(), bundle_config="{}"))
                return True
            except IntegrityError:
                return False

    def mark_ready(self, name: str, version: str, uri: str, config: Dict[str, Any]) -> None:
        self._require_writable(f"save {name}:{version}")
        with self._errors(f"register {name}:{version}"), self.engine.begin() as conn:
            conn.execute(bundles_table.update()
                         .where(bundles_table.c.name == name, bundles_table.c.version == version)
                         .values(status=READY, uri=uri, created_at=datetime.now(timezone.utc),
                                 bundle_config=json.dumps(config)))

    def delete(self, name: str, version: str) -> None:
        self._require_writable(f"delete {name}:{version}")
        with self._errors(f"delete {name}:{version}"), self.engine.begin() as conn:
            conn.execute(bundles_table.delete().where(
                bundles_table.c.name == name, bundles_table.c.version == version))

    def stale_pending(self, max_age: timedelta = timedelta(hours=6)) -> List[Dict[str, Any]]:
        """Pending rows whose saving process is gone (same host, dead pid) or that are too old."""
        host = socket.gethostname()
        with self._errors("look for interrupted saves"), self.engine.connect() as conn:
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
        with self._errors("read bundles"), self.engine.connect() as conn:
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
        with self._errors("read bundles"), self.engine.connect() as conn:
            return [self._record(r) for r in conn.execute(query).mappings().all()]

    def services(self, search: Optional[str] = None, limit: Optional[int] = None,
                 offset: int = 0) -> List[ServiceSummary]:
        """One summary per service name (ready rows only), the latest saved first;
        ``search``: only names containing it, ignoring case."""
        t = bundles_table
        last = sa.func.max(t.c.seq).label("last_seq")
        query = sa.select(t.c.name, sa.func.count().label("versions"), last).where(t.c.status == READY)
        if search:
            query = query.where(sa.func.lower(t.c.name).contains(search.lower(), autoescape=True))
        query = query.group_by(t.c.name).order_by(last.desc())
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        with self._errors("read bundles"), self.engine.connect() as conn:
            groups = conn.execute(query).mappings().all()
            seqs = [g["last_seq"] for g in groups]
            latest = {r["seq"]: r for r in conn.execute(
                sa.select(t.c.seq, t.c.version, t.c.created_at).where(t.c.seq.in_(seqs))).mappings()} if seqs else {}
        return [ServiceSummary(g["name"], latest[g["last_seq"]]["version"], int(g["versions"]),
                               _utc(latest[g["last_seq"]]["created_at"])) for g in groups if g["last_seq"] in latest]


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
