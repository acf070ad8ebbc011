"""How the API server answers input the model cannot take (not a test: a table of answers).

Saves the spec's IrisClassifier (``examples/quickstart/iris_classifier.py``)
with a real ``svm.SVC(gamma='scale')`` fitted on iris arrays, serves it with
``serve-gunicorn --enable-microbatch --workers 2`` on 127.0.0.1, sends each
request below and prints its status and message::

    .venv/bin/python bench/bad_input.py            # or .tox/all/bin/python
    .venv/bin/python bench/bad_input.py --markdown
    .venv/bin/python bench/bad_input.py --features 20   # a 20-feature model: only the docs example

``--input-example`` packs the model with ``input_example=`` (the iris
DataFrame), so the schema recorded in ``bentoml.yml`` checks requests first.
It also prints whether ``/docs.json`` shows a request example, and what
posting that example answers.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

#: (name, body, content type)
REQUESTS = [
    ("good row", "[[5.1, 3.5, 1.4, 0.2]]", "application/json"),
    ("3 columns", "[[5.1, 3.5, 1.4]]", "application/json"),
    ("5 columns", "[[5.1, 3.5, 1.4, 0.2, 9.9]]", "application/json"),
    ("a string", '[["abc", 3.5, 1.4, 0.2]]', "application/json"),
    ("JSON null (NaN)", "[[null, 3.5, 1.4, 0.2]]", "application/json"),
    ("CSV nan", "sepal_length,sepal_width,petal_length,petal_width\nnan,3.5,1.4,0.2\n", "text/csv"),
    ("1e999 (infinity)", "[[1e999, 3.5, 1.4, 0.2]]", "application/json"),
    ("ragged rows", "[[5.1, 3.5, 1.4, 0.2], [6.2, 3.4]]", "application/json"),
    ("CSV, 3-column header", "a,b,c\n5.1,3.5,1.4\n", "text/csv"),
    ("CSV, wrong header", "a,b,c,d\n5.1,3.5,1.4,0.2\n", "text/csv"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-example", action="store_true", help="pack with input_example=<iris DataFrame>")
    parser.add_argument("--server", default="serve-gunicorn", choices=["serve-gunicorn", "serve"])
    parser.add_argument("--features", type=int, default=4,
                        help="other than 4: a random forest on that many random features, and only the docs example")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()

    import pandas as pd
    from sklearn import datasets, svm

    from bentoml.testing.server import Server, save_service_source

    if args.features == 4:
        iris = datasets.load_iris()
        X = pd.DataFrame(iris.data, columns=FEATURES) if args.input_example else iris.data
        model = svm.SVC(gamma="scale").fit(X, iris.target)
        requests = REQUESTS
    else:
        from sklearn import ensemble

        X, y = datasets.make_classification(n_samples=60, n_features=args.features, random_state=0)
        model = ensemble.RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
        requests = []
    source = (ROOT / "examples" / "quickstart" / "iris_classifier.py").read_text()
    with tempfile.TemporaryDirectory(prefix="bad-input-") as scratch:
        kwargs = {"input_examples": {"model": X}} if args.input_example else {}
        bundle = save_service_source(source, "bench_bad_input_iris", "IrisClassifier",
                                     pathlib.Path(scratch) / "IrisClassifier", {"model": model}, **kwargs)
        extra = ["--enable-microbatch", "--workers", "2"] if args.server == "serve-gunicorn" else []
        server = Server([args.server, str(bundle), "--port", "0", *extra])
        try:
            rows = []
            for name, body, content_type in requests:
                reply = server.post("/predict", body, content_type=content_type)
                try:
                    answer = reply.json()
                    answer = answer["error"] if isinstance(answer, dict) and "error" in answer else answer
                except ValueError:
                    answer = reply.text
                rows.append((name, reply.status, answer))
            content = server.get("/docs.json").json()["paths"]["/predict"]["post"]["requestBody"]["content"]
            example = content["application/json"].get("example")
            if example is None:
                rows.append(("/docs.json JSON example", "-", "none"))
            else:
                reply = server.post("/predict", json.dumps(example))
                shown = json.dumps(example)
                shown = shown if len(shown) < 80 else shown[:76] + "...]"
                rows.append((f"/docs.json example {shown}", reply.status, reply.text[:200]))
        finally:
            server.stop()
    if args.markdown:
        print("| request | status | answer |\n|---|---|---|")
        for name, status, answer in rows:
            print(f"| {name} | {status} | `{answer}` |")
    else:
        for name, status, answer in rows:
            print(f"{name:24} {status}  {answer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
