"""Answers a BentoML 0.8 client parses: each return type of the spec, over real HTTP.

The spec ("API Function Return Value") lists what an API may return: a
DataFrame, a Series, an ndarray, a tensor, a list of JSON values.  BentoML 0.8
answered each request with its share of the result: a DataFrame's rows as
records (``to_json(orient="records")``, timestamps as epoch milliseconds), a
Series as the records of a one-column frame named after it (``[{"col1": 20},
{"col1": 40}]``), arrays and numpy scalars as JSON numbers, ``bytes`` as text,
or ``{"b64": ...}`` when they are not UTF-8.  Where 0.8 wrote something no JSON
parser reads (``NaN``) we write ``null``.

The server runs with micro-batching, so concurrent requests share one call of
the API and each still gets only its own rows.
"""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from bentoml.testing.server import Server, save_service_source

pytestmark = pytest.mark.slow

SOURCE = textwrap.dedent('''\
    import numpy as np
    import pandas as pd

    import bentoml
    from bentoml.adapters import DataframeInput, JsonInput

    BINARY = b"\\x89PNG\\r\\n\\x1a\\n\\x00\\xff\\xfe"


    class ResponsesService(bentoml.BentoService):

        @bentoml.api(input=DataframeInput())
        def named_series(self, df):
            return df["col1"] * 2

        @bentoml.api(input=DataframeInput())
        def unnamed_series(self, df):
            return pd.Series(df["col1"].to_numpy() + 0.5)

        @bentoml.api(input=DataframeInput())
        def frame(self, df):
            return pd.DataFrame({"col1": df["col1"], "half": df["col1"] / 2, "nan": np.nan})

        @bentoml.api(input=DataframeInput())
        def frame_times(self, df):
            start = pd.Timestamp("2020-06-01T12:00:00")
            return pd.DataFrame({"at": [start + pd.Timedelta(seconds=int(s)) for s in df["col1"]],
                                 "took": pd.to_timedelta(df["col1"], unit="ms"),
                                 "missing": pd.NaT})

        @bentoml.api(input=DataframeInput())
        def ndarray(self, df):
            return df["col1"].to_numpy() * 2

        @bentoml.api(input=DataframeInput())
        def ndarray_nan(self, df):
            return np.where(df["col1"].to_numpy() > 15, np.nan, 1.5)

        @bentoml.api(input=JsonInput())
        def scalars(self, docs):
            return [np.int64(doc["x"]) if doc["x"] % 2 else np.float32(doc["x"] / 4) for doc in docs]

        @bentoml.api(input=JsonInput())
        def dicts(self, docs):
            return [{"label": doc["name"], "score": np.float64(0.25), 2: "int key", True: "bool key",
                     None: "none key"} for doc in docs]

        @bentoml.api(input=JsonInput())
        def strings(self, docs):
            return ["h\\u00e9llo " + doc["name"] for doc in docs]

        @bentoml.api(input=JsonInput())
        def text_bytes(self, docs):
            return [doc["name"].encode("utf-8") for doc in docs]

        @bentoml.api(input=JsonInput())
        def binary_bytes(self, docs):
            return [BINARY for _ in docs]

        @bentoml.api(input=JsonInput())
        def binary_in_lists(self, docs):
            return [{"png": BINARY, "parts": [b"ok", BINARY]} for _ in docs]

        @bentoml.api(input=JsonInput())
        def frame_per_request(self, docs):
            return pd.DataFrame({"x": [doc["x"] for doc in docs], "twice": [2 * doc["x"] for doc in docs]})
    ''')

BINARY = b"\x89PNG\r\n\x1a\n\x00\xff\xfe"
B64 = {"b64": base64.b64encode(BINARY).decode()}
ROWS = [{"col1": 10}, {"col1": 20}]

#: (api, request body, what 0.8 answered): the rows of the table in docs/migrating.md.
CASES = [
    ("named_series", ROWS, [{"col1": 20}, {"col1": 40}]),
    ("unnamed_series", ROWS, [{"0": 10.5}, {"0": 20.5}]),
    ("frame", ROWS, [{"col1": 10, "half": 5.0, "nan": None}, {"col1": 20, "half": 10.0, "nan": None}]),
    ("frame_times", ROWS, [{"at": 1591012810000, "took": 10, "missing": None},
                           {"at": 1591012820000, "took": 20, "missing": None}]),
    ("ndarray", ROWS, [20, 40]),
    ("ndarray_nan", ROWS, [1.5, None]),
    ("scalars", {"x": 3}, 3),
    ("scalars", {"x": 2}, 0.5),
    ("dicts", {"name": "setosa"}, {"label": "setosa", "score": 0.25, "2": "int key", "true": "bool key",
                                   "null": "none key"}),
    ("strings", {"name": "world"}, "h\u00e9llo world"),
    ("text_bytes", {"name": "plain text"}, "plain text"),
    ("binary_bytes", {}, B64),
    ("binary_in_lists", {}, {"png": B64, "parts": ["ok", B64]}),
    ("frame_per_request", {"x": 7}, {"x": 7, "twice": 14}),
]


@pytest.fixture(scope="module")
def responses_server(tmp_path_factory):
    bundle = save_service_source(SOURCE, "responses_service_0x", "ResponsesService",
                                 tmp_path_factory.mktemp("responses") / "ResponsesService")
    server = Server(["serve", str(bundle), "--port", "0", "--enable-microbatch"])
    yield server
    server.stop()


@pytest.mark.parametrize("api, body, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_answer_is_what_0_8_answered(responses_server, api, body, expected):
    reply = responses_server.post(f"/{api}", body)
    assert reply.status == 200, reply
    assert reply.headers["content-type"] == "application/json"
    assert json.loads(reply.body, parse_constant=lambda c: pytest.fail(f"{c} is not JSON")) == expected
    assert "\ufffd" not in reply.body.decode("utf-8")  # no byte was replaced


def test_concurrent_requests_each_get_their_own_records(responses_server):
    bodies = [[{"col1": i}, {"col1": 100 + i}] for i in range(12)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(lambda b: responses_server.post("/named_series", b), bodies))
    assert [r.json() for r in replies] == [[{"col1": 2 * i}, {"col1": 200 + 2 * i}] for i in range(12)]


def test_binary_result_round_trips_exactly(responses_server):
    reply = responses_server.post("/binary_bytes", {})
    assert base64.b64decode(reply.json()["b64"]) == BINARY


def test_bentoml_run_prints_the_same_answers(responses_server):
    bundle = responses_server.command[responses_server.command.index("serve") + 1]
    for api, given, expected in (("named_series", '[{"col1": 10}, {"col1": 20}]', [{"col1": 20}, {"col1": 40}]),
                                 ("binary_bytes", "{}", B64)):
        proc = subprocess.run([sys.executable, "-m", "bentoml", "run", bundle, api, "--input", given],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == expected
