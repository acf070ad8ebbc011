"""YataiService over S3 against raw s3fs: a 200 MB bundle up and down, in one run.

    .tox/all/bin/python bench/yatai_s3_bench.py [--mb 200] [--json FILE]

Starts a moto S3 server and a ``yatai-service-start --repo-base-url s3://bench/yatai``
on loopback (both reached through the standard AWS variables only), builds a
bundle (a saved TeamText service plus a ``--mb`` MB file of random bytes), then
times, in this order: a raw s3fs ``put`` of the bundle's files (s3fs's default parts, then
the plugin's 8 MiB parts, 4 in flight), the upload of the
same files through the server (the client's own upload code, in a process of its
own), a raw s3fs ``get`` of them, and ``bentoml retrieve`` through the server (a
fresh client; the server's first read of the bundle, from S3); ``--rounds`` times,
everything deleted between rounds. Prints the medians,
the throughput ratio ours/raw (1.0: as fast as raw s3fs; wall times of fresh processes) and the peak RSS of the
client processes and of the server. Not part of the test suite: moto keeps every
object in memory.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

from bentoml_storage_s3.testing import AWS_VARIABLES, MotoServer

SERVICE = textwrap.dedent('''\
    import bentoml
    from bentoml.adapters import JsonInput
    from bentoml.artifact import PickleArtifact


    @bentoml.artifacts([PickleArtifact('clf')])
    class TeamText(bentoml.BentoService):

        @bentoml.api(input=JsonInput())
        def predict(self, docs):
            return [self.artifacts.clf.get(doc, "?") for doc in docs]
    ''')

SAVE = textwrap.dedent('''\
    import sys
    sys.path.insert(0, sys.argv[1])
    from team_text import TeamText
    svc = TeamText()
    svc.pack("clf", {"hello": "greeting"})
    print("SAVED", svc.save(version="bench-1"), flush=True)
    ''')

#: The client's own upload code (RemoteRepository._upload) on a finished bundle folder.
UPLOAD = textwrap.dedent('''\
    import sys, time
    from bentoml.bundle.manifest import file_manifest
    from bentoml.yatai.client import RemoteRepository
    from bentoml.yatai.protocol import API_PREFIX
    url, bundle = sys.argv[1], sys.argv[2]
    repo = RemoteRepository(url, work_dir=sys.argv[3])
    start = time.perf_counter()
    manifest = file_manifest(bundle)
    session = repo.transport.json("POST", f"{API_PREFIX}/uploads",
                                  json_body={"name": "TeamText", "version": "bench-1"})["session"]
    repo._upload(session, "TeamText:bench-1", bundle, manifest)
    print("SECONDS", time.perf_counter() - start, flush=True)
    ''')

RAW = textwrap.dedent('''\
    import sys, time
    import s3fs
    from bentoml_storage_s3 import PART_BYTES, PARTS_IN_FLIGHT
    op, local, remote, tuned = sys.argv[1:5]
    # "default": s3fs as a user writes it; "tuned": the parts the plugin uses (8 MiB, 4 in flight)
    fs = (s3fs.S3FileSystem(max_concurrency=PARTS_IN_FLIGHT, skip_instance_cache=True) if tuned == "tuned"
          else s3fs.S3FileSystem(skip_instance_cache=True))
    kwargs = {"chunksize": PART_BYTES} if tuned == "tuned" and op == "put" else {}
    start = time.perf_counter()
    if op == "put":
        fs.put(local.rstrip("/") + "/", remote, recursive=True, **kwargs)
    else:
        fs.get(remote, local, recursive=True)
    print("SECONDS", time.perf_counter() - start, flush=True)
    ''')


CLEAN = textwrap.dedent('''\
    import sys
    import s3fs
    fs = s3fs.S3FileSystem(skip_instance_cache=True)
    for prefix in sys.argv[1:]:
        fs.rm(prefix, recursive=True)
    ''')


def _peak_rss_mb(pid: int, field: str = "VmHWM") -> float:
    """The process's peak RSS (``VmRSS``: its RSS now)."""
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def _run(argv, env, label):
    """Run ``argv``; returns (wall seconds, the SECONDS it printed or None, peak RSS MB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = "", ""

    def drain():
        nonlocal err
        err = proc.stderr.read()

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    reader.join(5)
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        raise SystemExit(f"{label} failed ({code}):\n{out}\n{err}")
    said = re.search(r"SECONDS (\S+)", out)
    return wall, float(said.group(1)) if said else None, usage.ru_maxrss / 1024


def _one_round(r: int, url: str, bundle: str, work: str, env: dict, server_pid: int) -> dict:
    """Raw put (two ways), our upload, raw get, our retrieve: each a fresh process, its wall time."""
    raw_put = _run([sys.executable, "-c", RAW, "put", bundle, f"bench/raw-{r}/bundle", "default"], env, "raw put")
    raw_put_tuned = _run([sys.executable, "-c", RAW, "put", bundle, f"bench/raw-tuned-{r}/bundle", "tuned"], env,
                         "raw put (tuned)")
    ours_up = _run([sys.executable, "-c", UPLOAD, url, bundle, os.path.join(work, "client-work")],
                   {**env, "BENTOML_HOME": os.path.join(work, "writer")}, "upload")
    server_peak = _peak_rss_mb(server_pid)
    raw_get = _run([sys.executable, "-c", RAW, "get", os.path.join(work, "raw-copy"), f"bench/raw-{r}/bundle",
                    "default"], env, "raw get")
    ours_down = _run([sys.executable, "-m", "bentoml", "retrieve", "TeamText:bench-1",
                      f"--target_dir={os.path.join(work, 'copy')}", "-q"],
                     {**env, "BENTOML_HOME": os.path.join(work, "reader"),
                      "BENTOML__YATAI_SERVICE__URL": url}, "retrieve")
    assert _tree_bytes(os.path.join(work, "copy")) == _tree_bytes(bundle), "the retrieved copy differs"
    return {"raw_put_s": raw_put[0], "raw_put_tuned_s": raw_put_tuned[0], "upload_s": ours_up[0],
            "raw_get_s": raw_get[0], "retrieve_s": ours_down[0],
            # against the faster of the two raw puts
            "upload_ratio": round(min(raw_put[0], raw_put_tuned[0]) / ours_up[0], 2),
            "download_ratio": round(raw_get[0] / ours_down[0], 2),
            "client_upload_peak_rss_mb": ours_up[2], "client_retrieve_peak_rss_mb": ours_down[2],
            "raw_put_peak_rss_mb": raw_put[2], "raw_put_tuned_peak_rss_mb": raw_put_tuned[2],
            "raw_get_peak_rss_mb": raw_get[2], "server_peak_rss_mb": server_peak}


def _tree_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the bundle's big file in MB")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the five steps; medians are printed")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="yatai-s3-bench-")
    moto = MotoServer(log_path=os.path.join(work, "moto.log"))
    server = None
    try:
        env = {k: v for k, v in os.environ.items() if k not in AWS_VARIABLES and not k.startswith("BENTOML")}
        env.update(moto.env(), PYTHONUNBUFFERED="1")
        moto.create_bucket("bench")
        src = os.path.join(work, "src")
        os.makedirs(src)
        with open(os.path.join(src, "team_text.py"), "w") as f:
            f.write(SERVICE)
        saved = subprocess.run([sys.executable, "-c", SAVE, src], env={**env, "BENTOML_HOME": os.path.join(work, "local")},
                               capture_output=True, text=True, check=True).stdout.split("SAVED ", 1)[1].strip()
        bundle = os.path.join(work, "bundle")
        shutil.copytree(saved, bundle, symlinks=True)
        big = os.path.join(bundle, "TeamText", "artifacts", "big.bin")
        with open(big, "wb") as f:
            for _ in range(args.mb):
                f.write(os.urandom(1_000_000))
        size_mb = _tree_bytes(bundle) / 1e6

        server_log = open(os.path.join(work, "server.log"), "w+")
        server = subprocess.Popen([sys.executable, "-m", "bentoml", "yatai-service-start", "--api-port", "0",
                                   "--no-ui", "--repo-base-url", "s3://bench/yatai", "-q"],
                                  env={**env, "BENTOML_HOME": os.path.join(work, "server")},
                                  stdout=server_log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        url = None
        while url is None:
            server_log.seek(0)
            found = re.search(r"^\* Running on (\S+) ", server_log.read(), re.M)
            if found:
                url = "http://" + found.group(1)
            elif server.poll() is not None or time.monotonic() > deadline:
                server_log.seek(0)
                raise SystemExit("yatai-service-start did not start:\n" + server_log.read())
            else:
                time.sleep(0.05)
        server_start_mb = _peak_rss_mb(server.pid)

        rounds = []
        for r in range(args.rounds):
            rounds.append(_one_round(r, url, bundle, work, env, server.pid))
            server_after = _peak_rss_mb(server.pid)
            rounds[-1]["server_rss_mb_after_round"] = _peak_rss_mb(server.pid, "VmRSS")
            if r + 1 < args.rounds:  # room for the next round: moto keeps every object in memory
                subprocess.run([sys.executable, "-c", CLEAN, f"bench/raw-{r}", f"bench/raw-tuned-{r}"],
                               env=env, check=True)
                subprocess.run([sys.executable, "-m", "bentoml", "delete", "TeamText:bench-1", "-y"],
                               env={**env, "BENTOML_HOME": os.path.join(work, "reader"),
                                    "BENTOML__YATAI_SERVICE__URL": url}, check=True, capture_output=True)
                shutil.rmtree(os.path.join(work, "copy"))
                shutil.rmtree(os.path.join(work, "raw-copy"))

        def median(key):
            return round(statistics.median(one[key] for one in rounds), 2)

        results = {"bundle_mb": round(size_mb, 1), "rounds": rounds,
                   **{key: median(key) for key in rounds[0]},
                   "server_rss_mb_at_start": round(server_start_mb),
                   "server_peak_rss_mb_after_upload": round(rounds[0]["server_peak_rss_mb"]),
                   "server_peak_rss_mb_at_end": round(server_after)}
        after_rounds = ", ".join(f"{one['server_rss_mb_after_round']:.0f}" for one in rounds)
        print(f"bundle {size_mb:.0f} MB through YataiService -> moto S3, against raw s3fs "
              f"(medians of {args.rounds} rounds)")
        print(f"  upload:   ours {results['upload_s']:.2f} s, raw s3fs put {results['raw_put_s']:.2f} s "
              f"(default parts), {results['raw_put_tuned_s']:.2f} s (8 MiB parts, 4 in flight); "
              f"ratio {results['upload_ratio']:.2f} of the faster raw "
              f"(rounds: {', '.join(str(one['upload_ratio']) for one in rounds)})")
        print(f"  download: ours {results['retrieve_s']:.2f} s (bentoml retrieve), raw s3fs get "
              f"{results['raw_get_s']:.2f} s, ratio {results['download_ratio']:.2f} of raw "
              f"(rounds: {', '.join(str(one['download_ratio']) for one in rounds)})")
        print(f"  peak RSS: upload client {results['client_upload_peak_rss_mb']:.0f} MB, retrieve client "
              f"{results['client_retrieve_peak_rss_mb']:.0f} MB (raw put {results['raw_put_peak_rss_mb']:.0f} MB, "
              f"tuned {results['raw_put_tuned_peak_rss_mb']:.0f} MB, raw get {results['raw_get_peak_rss_mb']:.0f} MB); "
              f"server {results['server_rss_mb_at_start']} MB at start, "
              f"{results['server_peak_rss_mb_after_upload']} MB after the first upload, "
              f"{results['server_peak_rss_mb_at_end']} MB at the end (RSS after each round: {after_rounds} MB)")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=2)
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(30)
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
