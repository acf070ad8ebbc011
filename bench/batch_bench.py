"""``bentoml run --output`` over a 1,000,000-row iris CSV against the limit: pandas + model.predict.

    .tox/all/bin/python bench/batch_bench.py [--rows 1000000] [--rounds 5] [--chunk-size N,M] [--json FILE]

Generates a CSV of ``--rows`` iris-like rows (iris's 150 flowers repeated with a
little seeded noise, 4 float columns with a header), trains the spec's iris
``svm.SVC(gamma='scale')`` and saves it as the spec's IrisClassifier bundle
(``DataframeInput``), then times, alternating over ``--rounds``, each in a fresh
process (wall time, start-up and imports included):

- ours: ``bentoml run BUNDLE predict --input big.csv --output out.csv`` (the
  default chunk size; ``--chunk-size 5000,20000`` adds ours at those sizes to
  the same rounds);
- the limit: one Python process that unpickles the same model,
  ``pandas.read_csv`` the whole file, ``model.predict(df)`` it (the call the
  spec's IrisClassifier makes, on all rows at once) and writes the
  predictions with ``DataFrame.to_csv`` (the same output file ours writes).

Prints every round's wall and CPU time of each job (CPU time, user + system;
both jobs are single-threaded here), the ratios limit/ours of each round and
their median (1.0: as fast as the limit; a round pairs runs seconds apart, so
the median holds where this shared machine's speed drifts by 30% over
minutes and a best-of-N compares runs of different moments), each job's peak
RSS (VmHWM from /proc, polled), ours also on a tenth of the rows (bounded
memory: about the same peak), the fixed costs of both (a 10-row file:
start-up, imports, loading the model), and checks that all wrote the same
predictions.  Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

LIMIT = """
import pickle, sys
import pandas as pd
with open(sys.argv[1], "rb") as f:
    model = pickle.load(f)
df = pd.read_csv(sys.argv[2])
pd.DataFrame({"result": model.predict(df)}).to_csv(sys.argv[3], index=False)
"""


def make_csv(path: str, rows: int) -> None:
    import numpy as np
    import pandas as pd
    from sklearn import datasets

    iris = datasets.load_iris()
    rng = np.random.default_rng(0)
    data = np.tile(iris.data, (rows // len(iris.data) + 1, 1))[:rows]
    data = np.round(data + rng.normal(0, 0.05, data.shape), 2)
    pd.DataFrame(data, columns=["sepal_length", "sepal_width", "petal_length", "petal_width"]).to_csv(path, index=False)


def save_bundle(target: str, model_path: str) -> None:
    sys.path.insert(0, os.path.join(HERE, "peers"))
    from iris_classifier import IrisClassifier
    from models import train

    model = train("svc")
    with open(model_path, "wb") as f:
        pickle.dump(model, f)
    svc = IrisClassifier()
    svc.pack("model", model)
    svc.save_to_dir(target)


def timed(cmd: list) -> tuple:
    """(wall seconds, CPU seconds, peak RSS in MiB) of a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        try:
            with open(f"/proc/{proc.pid}/status") as f:
                peak = max([peak] + [int(line.split()[1]) for line in f if line.startswith("VmHWM:")])
        except OSError:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    err = proc.stderr.read().decode()
    if proc.returncode != 0:
        sys.exit(f"{cmd[:4]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, cpu, peak / 1024


def _median(values: list) -> float:
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--chunk-size", default="",
                        help="also time ours at these chunk sizes (comma-separated), in the same rounds")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    import pandas as pd

    work = tempfile.mkdtemp(prefix="batch-bench-")
    os.environ.setdefault("BENTOML_HOME", os.path.join(work, "home"))
    big, model_path, bundle = (os.path.join(work, n) for n in ("iris.csv", "model.pkl", "bundle"))
    make_csv(big, args.rows)
    save_bundle(bundle, model_path)
    in_memory = pd.read_csv(big).memory_usage(index=False).sum() / 2**20
    size = os.path.getsize(big) / 2**20
    ours_cmd = [sys.executable, "-m", "bentoml", "-q", "run", bundle, "predict", "--input", big,
                "--output", os.path.join(work, "ours.csv")]
    jobs = {"limit": [sys.executable, "-c", LIMIT, model_path, big, os.path.join(work, "limit.csv")],
            "ours": ours_cmd}
    for n in filter(None, args.chunk_size.split(",")):
        jobs[f"ours --chunk-size {n}"] = ours_cmd[:-1] + [os.path.join(work, f"ours-{n}.csv"), "--chunk-size", n]
    runs: dict = {name: [] for name in jobs}
    for round_ in range(args.rounds):  # alternating order: a drifting machine hits every job alike
        for name in (list(jobs) if round_ % 2 == 0 else list(reversed(jobs))):
            runs[name].append(timed(jobs[name]))
    # Bounded memory: the same job over a tenth of the file should peak at about the same RSS.
    small = os.path.join(work, "small.csv")
    pd.read_csv(big, nrows=max(args.rows // 10, 1)).to_csv(small, index=False)
    small_cmd = [small if a == big else a for a in ours_cmd]
    small_cmd[small_cmd.index("--output") + 1] = os.path.join(work, "small-out.csv")
    small_peak = timed(small_cmd)[2]
    # Fixed costs: both on a 10-row file (start-up, imports, loading the model).
    tiny = os.path.join(work, "tiny.csv")
    pd.read_csv(big, nrows=10).to_csv(tiny, index=False)
    tiny_ours = timed([tiny if a == small else a for a in small_cmd])
    tiny_limit = timed(jobs["limit"][:-2] + [tiny, os.path.join(work, "tiny-limit.csv")])
    limit_out = pd.read_csv(os.path.join(work, "limit.csv"))
    same = all(pd.read_csv(cmd[cmd.index("--output") + 1]).equals(limit_out) for name, cmd in jobs.items()
               if name != "limit")
    limit = runs["limit"]
    result = {
        "rows": args.rows, "csv_mib": round(size, 1), "frame_mib": round(in_memory, 1),
        "rounds": args.rounds, "load_average_1min": round(os.getloadavg()[0], 2),
        "jobs": {name: {"wall_s": [round(w, 2) for w, _, _ in r], "cpu_s": [round(c, 2) for _, c, _ in r],
                        "peak_rss_mib": round(max(p for _, _, p in r), 1)} for name, r in runs.items()},
        "ours_peak_rss_mib_tenth_of_the_rows": round(small_peak, 1),
        "startup_cpu_s_ours_limit": [round(tiny_ours[1], 2), round(tiny_limit[1], 2)],
        "same_predictions": same,
    }
    print(f"{args.rows:,} rows, CSV {size:.1f} MiB ({in_memory:.1f} MiB as a DataFrame); SVC(gamma='scale'); "
          f"{args.rounds} rounds; load average {result['load_average_1min']}")
    for name, r in runs.items():
        print(f"{name:26}: wall {', '.join(f'{w:.2f}' for w, _, _ in r)} s; CPU "
              f"{', '.join(f'{c:.2f}' for _, c, _ in r)} s; peak RSS {result['jobs'][name]['peak_rss_mib']} MiB")
    print(f"ours on a tenth of the rows: peak RSS {small_peak:.1f} MiB (bounded: not proportional to the file)")
    print(f"fixed costs (10 rows): ours CPU {tiny_ours[1]:.2f} s, limit CPU {tiny_limit[1]:.2f} s")
    # Each round's ratio pairs runs a few seconds apart; their median resists the machine's drift.
    for name, r in runs.items():
        if name == "limit":
            continue
        wall = [lw / w for (lw, _, _), (w, _, _) in zip(limit, r)]
        cpu = [lc / c for (_, lc, _), (_, c, _) in zip(limit, r)]
        result["jobs"][name].update(ratio_wall_median=round(_median(wall), 3), ratio_cpu_median=round(_median(cpu), 3))
        print(f"ratio limit/{name}: wall median {_median(wall):.3f} ({', '.join(f'{x:.2f}' for x in wall)}), "
              f"CPU median {_median(cpu):.3f} ({', '.join(f'{x:.2f}' for x in cpu)}) (target >= 0.8)")
    print(f"same predictions: {same}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    shutil.rmtree(work, ignore_errors=True)
    if not same:
        sys.exit("the runs wrote different predictions")


if __name__ == "__main__":
    main()
