"""Baseline: plain Flask on waitress, one model.predict call per request, no batching.

    python flask_app.py --model rf|svc --port P [--threads 4]
Routes: POST /predict  (JSON [[f1, f2, f3, f4], ...] -> JSON [label, ...]), GET /healthz.
"""
import argparse
import os
import sys

import numpy as np
import waitress
from flask import Flask, Response, jsonify, request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from models import train  # noqa: E402


def make_app(model):
    app = Flask(__name__)

    @app.post("/predict")
    def predict():
        rows = np.asarray(request.get_json(force=True), dtype=float)
        return jsonify(model.predict(rows).tolist())

    @app.get("/healthz")
    def healthz():
        return Response(status=200)

    return app


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=("rf", "svc"), required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--threads", type=int, default=4)
    a = p.parse_args()
    waitress.serve(make_app(train(a.model)), host="127.0.0.1", port=a.port, threads=a.threads,
                   _quiet=True)
