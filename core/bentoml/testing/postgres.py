"""A throwaway PostgreSQL server on loopback, for tests and benchmarks of the team repository.

``PostgresCluster(find_bindir()).start()`` runs Debian's ``postgresql`` server
binaries (``/usr/lib/postgresql/VERSION/bin``, or ``$BENTOML_TEST_PG_BIN``) in a
temporary directory, listening on 127.0.0.1 only (port ``$BENTOML_TEST_PG_PORT``
or a free one), without fsync; ``new_database()`` gives an empty database and its
URL; ``stop()`` removes it all.  As root, the server runs as the ``postgres``
user: initdb refuses root.  Needs psycopg (``bentoml[postgresql]``).
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from typing import List, Optional

#: The role the team section of the README uses.
USER, PASSWORD = "scott", "tiger"


def find_bindir() -> Optional[str]:
    """The directory of ``initdb`` and ``pg_ctl``: the newest Debian PostgreSQL, or None."""
    wanted = os.environ.get("BENTOML_TEST_PG_BIN")
    if wanted:
        return wanted if os.path.exists(os.path.join(wanted, "initdb")) else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0)
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """One PostgreSQL server in a temporary directory (see the module docstring)."""

    def __init__(self, bindir: str):
        self.bindir = bindir
        self.root = tempfile.mkdtemp(prefix="pg-cluster-")
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")
        self.port = int(os.environ.get("BENTOML_TEST_PG_PORT") or _free_port())
        self._as: List[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")  # KeyError: no such user; the fixture skips
            os.chown(self.root, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        """Run a server binary (as ``postgres`` under root); its output and the log on failure."""
        proc = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            log = open(self.log).read() if os.path.exists(self.log) else ""
            raise RuntimeError(f"{' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}\n{log}")

    def start(self) -> None:
        """initdb, start the server (fsync off: a throwaway cluster) and create the ``scott`` role."""
        self._run(os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "-N")
        for attempt in range(5):
            try:
                self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "30",
                          "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off "
                          "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300", "start")
                break
            except RuntimeError as exc:
                # the port was free when chosen, and taken since (or $BENTOML_TEST_PG_PORT is busy): the next
                if "Address already in use" not in str(exc) or attempt == 4:
                    raise
                self.port = self.port + 1 if os.environ.get("BENTOML_TEST_PG_PORT") else _free_port()
        self.admin(f"CREATE ROLE {USER} LOGIN CREATEDB PASSWORD '{PASSWORD}'")

    def admin(self, statement: str, database: str = "postgres") -> None:
        """Run ``statement`` as the superuser, outside any transaction."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=database,
                             autocommit=True) as conn:
            conn.execute(statement)

    def url(self, database: str, scheme: str = "postgresql") -> str:
        """The URL of ``database`` as ``scott:tiger`` (the trust method ignores the password)."""
        return f"{scheme}://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "bentoml") -> str:
        """An empty database owned by ``scott``; returns its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.admin(f"CREATE DATABASE {name} OWNER {USER}")
        return self.url(name)

    def stop(self) -> None:
        """Stop the server at once and remove its directory."""
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            subprocess.run([*self._as, os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate",
                            "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
