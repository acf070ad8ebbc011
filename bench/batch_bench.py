"""``bentoml run --output`` over a 1,000,000-row iris CSV against the limit: pandas + model.predict.

    .tox/all/bin/python bench/batch_bench.py [--rows 1000000] [--rounds 2] [--chunk-size N] [--json FILE]

Generates a CSV of ``--rows`` iris-like rows (iris's 150 flowers repeated with a
little seeded noise, 4 float columns with a header), trains the spec's iris
``svm.SVC(gamma='scale')`` and saves it as the spec's IrisClassifier bundle
(``DataframeInput``), then times, alternating over ``--rounds``, each in a fresh
process (wall time, start-up and imports included):

- ours: ``bentoml run BUNDLE predict --input big.csv --output out.csv``;
- the limit: one Python process that unpickles the same model,
  ``pandas.read_csv`` the whole file, ``model.predict`` it and writes the
  predictions with ``DataFrame.to_csv`` (the same output file ours writes).

Prints the best time of each, the ratio limit/ours (1.0: as fast as the
limit) and each process's peak RSS (VmHWM from /proc, polled), and checks
that both wrote the same predictions.  Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
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
pd.DataFrame({"result": model.predict(df.values)}).to_csv(sys.argv[3], index=False)
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
    """(wall seconds, peak RSS in MiB) of a fresh process."""
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
    err = proc.stderr.read().decode()
    if proc.returncode != 0:
        sys.exit(f"{cmd[:4]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, peak / 1024


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
    same = pd.read_csv(os.path.join(work, "ours.csv")).equals(pd.read_csv(os.path.join(work, "limit.csv")))
    best_ours, best_limit = min(ours), min(limit)
    result = {
        "rows": args.rows, "csv_mib": round(size, 1), "frame_mib": round(in_memory, 1),
        "ours_s": [round(w, 2) for w, _ in ours], "limit_s": [round(w, 2) for w, _ in limit],
        "ratio_limit_over_ours": round(best_limit[0] / best_ours[0], 3),
        "ours_peak_rss_mib": round(max(p for _, p in ours), 1),
        "limit_peak_rss_mib": round(max(p for _, p in limit), 1),
        "same_predictions": same,
    }
    print(f"{args.rows:,} rows, CSV {size:.1f} MiB ({in_memory:.1f} MiB as a DataFrame); SVC(gamma='scale')")
    print(f"ours  bentoml run --output : best {best_ours[0]:.2f} s of {result['ours_s']}, "
          f"peak RSS {result['ours_peak_rss_mib']} MiB")
    print(f"limit read_csv+predict     : best {best_limit[0]:.2f} s of {result['limit_s']}, "
          f"peak RSS {result['limit_peak_rss_mib']} MiB")
    print(f"ratio limit/ours: {result['ratio_limit_over_ours']} (target >= 0.8); same predictions: {same}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    if not same:
        sys.exit("the two runs wrote different predictions")


if __name__ == "__main__":
    main()
