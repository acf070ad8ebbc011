"""HTTP ceiling: Flask on waitress that reads the body and answers a constant, no model.

    python constant_app.py --port P [--threads 4]
Routes: POST /predict -> [0], GET /healthz.
"""
import argparse

import waitress
from flask import Flask, Response, request


def make_app():
    app = Flask(__name__)

    @app.post("/predict")
    def predict():
        request.get_data()
        return Response("[0]", mimetype="application/json")

    @app.get("/healthz")
    def healthz():
        return Response(status=200)

    return app


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--threads", type=int, default=4)
    a = p.parse_args()
    waitress.serve(make_app(), host="127.0.0.1", port=a.port, threads=a.threads, _quiet=True)
