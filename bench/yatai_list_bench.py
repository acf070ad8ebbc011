"""``bentoml list`` against a YataiService holding 10,000 bundles: PostgreSQL against SQLite, in one run.

    .tox/all/bin/python bench/yatai_list_bench.py [--bundles 10000] [--rounds 7]

Starts a throwaway PostgreSQL server on loopback (Debian's binaries, as the tests
do: :mod:`bentoml.testing.postgres`), registers ``--bundles`` ready rows (50
names) in a fresh PostgreSQL database and in a fresh SQLite ``storage.db``
(:func:`bentoml.testing.metadata_rows.register_ready_rows`), starts one
``yatai-service-start`` on each, then times, on each server: the API's first page
(100 rows), its last page, one name's versions (``?name=``, 200 rows), a page of
1,000 rows, and ``bentoml list`` as a client runs it (wall time of the process,
less that of ``bentoml --help``, the start-up every command pays).  Prints the
medians and the ratio SQLite/PostgreSQL (1.0: PostgreSQL as fast as the
embedded default; the team server's database is remote, the default is a file).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from bentoml.repository.local_repository import LocalRepository
from bentoml.testing.metadata_rows import register_ready_rows
from bentoml.testing.postgres import PostgresCluster, find_bindir
from bentoml.yatai.protocol import API_PREFIX

_RUNNING = re.compile(r"^\* Running on (\S+) \(Press CTRL\+C to quit\)$", re.M)


def _env(home: pathlib.Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENTOML")}
    env.update(BENTOML_HOME=str(home), **extra)
    return env


def _start(home: pathlib.Path, *args: str) -> tuple:
    """A ``yatai-service-start`` on ``home``; returns (process, base URL)."""
    proc = subprocess.Popen([sys.executable, "-m", "bentoml", "yatai-service-start", "--no-ui", "--api-port", "0",
                             *args], env=_env(home), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"the server exited:\n{seen}")
        seen += line
        found = _RUNNING.search(seen)
        if found:
            return proc, f"http://{found.group(1)}"
    raise SystemExit(f"the server did not start in 60 s:\n{seen}")


def _median_ms(url: str, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as answer:
            json.loads(answer.read())
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def _cli_seconds(home: pathlib.Path, url: str, rounds: int, *args: str) -> float:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bentoml", *args], env=_env(home, BENTOML_YATAI_SERVICE__URL=url),
                       check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def measure(url: str, client: pathlib.Path, bundles: int, rounds: int) -> dict:
    base = f"{url}{API_PREFIX}/bundles"
    _median_ms(base, 1)  # warm: the first connection, the first plan
    startup = _cli_seconds(client, url, rounds, "--help")
    return {"first_page_ms": _median_ms(base, rounds),
            "last_page_ms": _median_ms(f"{base}?offset={bundles - 100}", rounds),
            "one_name_ms": _median_ms(f"{base}?name=Load7&limit=1000", rounds),
            "rows_1000_ms": _median_ms(f"{base}?limit=1000", rounds),
            "bentoml_list_s": _cli_seconds(client, url, rounds, "list") - startup,
            "cli_startup_s": startup}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bundles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL server binaries not found: apt-get install postgresql (or BENTOML_TEST_PG_BIN)")
    work = pathlib.Path(tempfile.mkdtemp(prefix="yatai-list-bench-"))
    cluster = PostgresCluster(bindir)
    servers = []
    try:
        cluster.start()
        pg_url = cluster.new_database("listbench")
        results = {}
        for label, db_args in (("sqlite", ()), ("postgresql", ("--db-url", pg_url))):
            home = work / label
            repo = LocalRepository(str(home), db_url=pg_url if db_args else None)
            register_ready_rows(repo, home, args.bundles)
            repo.close()
            proc, url = _start(home, *db_args)
            servers.append(proc)
            results[label] = measure(url, work / f"{label}-client", args.bundles, args.rounds)
        sqlite, pg = results["sqlite"], results["postgresql"]
        results["ratio_first_page"] = round(sqlite["first_page_ms"] / pg["first_page_ms"], 2)
        results["ratio_bentoml_list"] = round(sqlite["bentoml_list_s"] / pg["bentoml_list_s"], 2)
        print(f"{args.bundles} bundles, medians of {args.rounds} (SQLite / PostgreSQL on loopback):")
        for key in ("first_page_ms", "last_page_ms", "one_name_ms", "rows_1000_ms"):
            print(f"  API {key[:-3].replace('_', ' '):12s} {sqlite[key]:7.1f} ms / {pg[key]:7.1f} ms")
        print(f"  bentoml list     {sqlite['bentoml_list_s'] * 1000:7.0f} ms / {pg['bentoml_list_s'] * 1000:7.0f} ms "
              f"(beyond the CLI's start-up of {pg['cli_startup_s']:.2f} s)")
        print(f"  ratio SQLite/PostgreSQL: first page {results['ratio_first_page']}, "
              f"bentoml list {results['ratio_bentoml_list']}")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(30)
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
