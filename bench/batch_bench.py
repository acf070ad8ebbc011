"""``bentoml run --output`` over a 1,000,000-row iris CSV against the limit: pandas + model.predict.

    .tox/all/bin/python bench/batch_bench.py [--rows 1000000] [--rounds 2] [--chunk-size N] [--json FILE]

Generates a CSV of ``--rows`` iris-like rows (iris's 150 flowers repeated with a
little seeded noise, 4 float columns with a header), trains the spec's iris
``svm.SVC(gamma='scale')`` and saves it as the spec's IrisClassifier bundle
(``DataframeInput``), then times, alternating over ``--rounds``, each in a fresh
process (wall time, start-up and imports included):

- ours: ``bentoml run BUNDLE predict --input big.csv --output out.csv``;
- the limit: one Python process that unpickles the same model,
  ``pandas.read_csv`` the whole file, ``model.predict(df)`` it (the call the
  spec's IrisClassifier makes, on all rows at once) and writes the
  predictions with ``DataFrame.to_csv`` (the same output file ours writes).

Prints the best wall and CPU time of each (CPU time, user + system, is the
steadier figure on a shared machine; both are single-threaded here), the
ratios limit/ours (1.0: as fast as the limit) and each process's peak RSS (VmHWM from /proc, polled), ours also on
a tenth of the rows (bounded memory: about the same peak), the fixed costs
of both (a 10-row file: start-up, imports, loading the model), and checks that
both wrote the same predictions.  Not part of the test suite.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=None)
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
    if args.chunk_size:
        ours_cmd += ["--chunk-size", str(args.chunk_size)]
    limit_cmd = [sys.executable, "-c", LIMIT, model_path, big, os.path.join(work, "limit.csv")]
    ours, limit = [], []
    for _ in range(args.rounds):
        ours.append(timed(ours_cmd))
        limit.append(timed(limit_cmd))
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
    tiny_limit = timed(limit_cmd[:-2] + [tiny, os.path.join(work, "tiny-limit.csv")])
    same = pd.read_csv(os.path.join(work, "ours.csv")).equals(pd.read_csv(os.path.join(work, "limit.csv")))
    best_ours, best_limit = min(w for w, _, _ in ours), min(w for w, _, _ in limit)
    cpu_ours, cpu_limit = min(c for _, c, _ in ours), min(c for _, c, _ in limit)
    result = {
        "rows": args.rows, "csv_mib": round(size, 1), "frame_mib": round(in_memory, 1),
        "chunk_size": args.chunk_size, "load_average_1min": round(os.getloadavg()[0], 2),
        "ours_wall_s": [round(w, 2) for w, _, _ in ours], "limit_wall_s": [round(w, 2) for w, _, _ in limit],
        "ours_cpu_s": [round(c, 2) for _, c, _ in ours], "limit_cpu_s": [round(c, 2) for _, c, _ in limit],
        "ratio_wall_limit_over_ours": round(best_limit / best_ours, 3),
        "ratio_cpu_limit_over_ours": round(cpu_limit / cpu_ours, 3),
        "ours_peak_rss_mib": round(max(p for _, _, p in ours), 1),
        "ours_peak_rss_mib_tenth_of_the_rows": round(small_peak, 1),
        "limit_peak_rss_mib": round(max(p for _, _, p in limit), 1),
        "startup_cpu_s_ours_limit": [round(tiny_ours[1], 2), round(tiny_limit[1], 2)],
        "same_predictions": same,
    }
    print(f"{args.rows:,} rows, CSV {size:.1f} MiB ({in_memory:.1f} MiB as a DataFrame); SVC(gamma='scale'); "
          f"load average {result['load_average_1min']}")
    print(f"ours  bentoml run --output : wall best {best_ours:.2f} s of {result['ours_wall_s']}, "
          f"CPU best {cpu_ours:.2f} s, peak RSS {result['ours_peak_rss_mib']} MiB")
    print(f"ours on a tenth of the rows: peak RSS {small_peak:.1f} MiB (bounded: not proportional to the file)")
    print(f"limit read_csv+predict     : wall best {best_limit:.2f} s of {result['limit_wall_s']}, "
          f"CPU best {cpu_limit:.2f} s, peak RSS {result['limit_peak_rss_mib']} MiB")
    print(f"fixed costs (10 rows): ours CPU {tiny_ours[1]:.2f} s, limit CPU {tiny_limit[1]:.2f} s")
    print(f"ratio limit/ours: wall {result['ratio_wall_limit_over_ours']}, CPU {result['ratio_cpu_limit_over_ours']} "
          f"(target >= 0.8); same predictions: {same}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    shutil.rmtree(work, ignore_errors=True)
    if not same:
        sys.exit("the two runs wrote different predictions")


if __name__ == "__main__":
    main()
