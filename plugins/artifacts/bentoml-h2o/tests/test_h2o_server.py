"""An H2O model behind the production server, over real HTTP: one H2O (Java) per server,
started by the master before the fork, shared by the workers, surviving a worker's
death, and stopped with the server."""
from __future__ import annotations

import json
import os
import signal
import textwrap
import time
import urllib.request

import pytest

from bentoml.testing.server import child_pids, save_service_source

IRIS_COLUMNS = ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]
SAMPLE_ROWS = [0, 60, 120]

SERVICE_SOURCE = textwrap.dedent('''\
    """Iris species with an H2O GBM, served."""
    import os

    import bentoml
    import h2o
    from bentoml.adapters import DataframeInput
    from bentoml.artifact import H2oModelArtifact
    from bentoml_h2o import predict_dataframe

    COLUMNS = ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]


    @bentoml.env(pip_dependencies=["pandas"])
    @bentoml.artifacts([H2oModelArtifact("model")])
    class H2oIrisServer(bentoml.BentoService):

        @bentoml.api(input=DataframeInput(columns=COLUMNS))
        def predict(self, df):
            """Iris species."""
            return predict_dataframe(self.artifacts.model, df)["predict"]

        @bentoml.api(input=DataframeInput())
        def predict_as_the_spec_writes_it(self, df):
            """No columns declared: the model's own predict takes the DataFrame and checks it."""
            return self.artifacts.model.predict(df)["predict"]

        @bentoml.api(input=DataframeInput())
        def predict_on_a_frame(self, df):
            """The API function builds the H2OFrame itself: H2O's own scoring error names the column."""
            predictions = self.artifacts.model.predict(h2o.H2OFrame(df))
            return predictions.as_data_frame(use_multi_thread=False)["predict"]

        @bentoml.api(input=DataframeInput(columns=COLUMNS))
        def predict_checked(self, df):
            """The user's own ValueError stays a 500."""
            if (df < 0).any().any():
                raise ValueError("lengths are never negative")
            return predict_dataframe(self.artifacts.model, df)["predict"]

        @bentoml.api(input=DataframeInput(columns=COLUMNS))
        def predict_where(self, df):
            """Species, with the worker and the H2O that answered."""
            out = predict_dataframe(self.artifacts.model, df)[["predict"]]
            out["pid"] = os.getpid()
            out["h2o"] = h2o.connection().base_url
            out["scratch"] = os.environ.get("BENTOML_H2O_SERVER_DIR")
            return out
    ''')


def java_children(pid: int) -> list:
    """pids of the java processes whose parent is ``pid``."""
    found = []
    for child in child_pids(pid):
        try:
            argv = cmdline(child)
        except OSError:  # ended meanwhile
            continue
        if argv and os.path.basename(argv[0]) == "java":
            found.append(child)
    return found


def cmdline(pid: int) -> list:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0") if a]


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def served_bundle(iris_gbm, tmp_path_factory):
    target = tmp_path_factory.mktemp("h2o_served") / "H2oIrisServer"
    return save_service_source(SERVICE_SOURCE, "h2o_served_service", "H2oIrisServer", target, {"model": iris_gbm})


@pytest.fixture(scope="module")
def expected(iris_gbm, iris_df):
    """Rows (as JSON records) and the species the session's model predicts for them."""
    from bentoml_h2o import predict_dataframe

    rows = iris_df.loc[SAMPLE_ROWS, IRIS_COLUMNS]
    return rows.to_dict(orient="records"), predict_dataframe(iris_gbm, rows)["predict"].tolist()


def workers_answering(server, rows, want: int, exclude=(), timeout: float = 60) -> dict:
    """pid -> reply rows from ``want`` distinct workers (not in ``exclude``)."""
    seen = {}
    deadline = time.monotonic() + timeout
    while len(seen) < want and time.monotonic() < deadline:
        reply = server.post("/predict_where", rows)
        assert reply.status == 200, reply
        answer = reply.json()
        if answer[0]["pid"] not in exclude:
            seen[answer[0]["pid"]] = answer
    assert len(seen) == want, f"only workers {sorted(seen)} answered\n{server.log}"
    return seen


def names(answer):
    """The species of an answer: a returned Series named "predict" is answered as records keyed
    by its name, as BentoML 0.8 answered it."""
    assert all(set(record) == {"predict"} for record in answer), answer
    return [record["predict"] for record in answer]


def test_one_h2o_per_server_shared_by_workers_and_stopped_with_it(start_server, served_bundle, expected):
    rows, species = expected
    assert species == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    server = start_server("serve-gunicorn", str(served_bundle), "--port", "0", "--enable-microbatch",
                          "--workers", "2", env={"BENTOML_H2O_NTHREADS": "1", "BENTOML_H2O_MAX_MEM": "512M"},
                          startup_timeout=120)
    master = server.proc.pid

    # Exactly one JVM, a child of the master, local only, sized by the environment.
    jvms = java_children(master)
    assert len(jvms) == 1, jvms
    jvm = jvms[0]
    argv = cmdline(jvm)
    assert argv[argv.index("-ip") + 1] == "127.0.0.1" and "-Xmx512M" in argv
    assert argv[argv.index("-nthreads") + 1] == "1"

    # Both workers predict correctly, through that one H2O.
    assert names(server.post("/predict", rows).json()) == species
    workers = workers_answering(server, rows, 2)
    assert master not in workers
    urls = {answer[0]["h2o"] for answer in workers.values()}
    assert len(urls) == 1
    url = urls.pop()
    assert url.startswith("http://127.0.0.1:")
    for answer in workers.values():
        assert [r["predict"] for r in answer] == species
    # Input H2O cannot score is a 400 naming the column, for that request alone.
    bad = dict(rows[0], **{"Petal.Width": "wide"})
    reply = server.post("/predict", [bad])
    assert reply.status == 400 and "column 'Petal.Width' must be numeric; got 'wide'" in reply.text, reply
    assert names(server.post("/predict", rows).json()) == species
    cloud = get_json(f"{url}/3/Cloud")
    assert cloud["cloud_name"] == f"bentoml-{master}" and cloud["cloud_size"] == 1
    models = [m["model_id"]["name"] for m in get_json(f"{url}/3/Models")["models"]]
    assert len(models) == 1, models  # the second worker used the model the first one loaded

    # A worker killed outright: the JVM stays; its replacement answers through it.
    victim = next(iter(workers))
    survivor = (set(workers) - {victim}).pop()
    os.kill(victim, signal.SIGKILL)
    again = workers_answering(server, rows, 2, exclude={victim})
    assert survivor in again
    for answer in again.values():
        assert [r["predict"] for r in answer] == species and answer[0]["h2o"] == url
    assert java_children(master) == [jvm] and alive(jvm)
    assert len(get_json(f"{url}/3/Models")["models"]) == 1
    scratch = next(iter(again.values()))[0]["scratch"]
    assert scratch and os.path.isdir(scratch)

    # SIGTERM: graceful exit 0, and no JVM (or its scratch directory) left behind.
    assert server.terminate(60) == 0, server.log
    deadline = time.monotonic() + 10
    while alive(jvm) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(jvm), f"the server's H2O (pid {jvm}) outlived it"
    assert not os.path.exists(scratch)
    log = server.log
    assert f"started H2O for this server at {url} (pid {jvm}, 1 thread, heap up to 512 MiB)" in log, log
    assert f"stopped H2O (pid {jvm})" in log, log
    assert "Traceback" not in log, log
    assert "H2ODependencyWarning" not in log and "progress: |" not in log, log
    assert "Closing connection" not in log and "cluster version" not in log, log


def test_server_uses_a_configured_h2o_and_leaves_it_running(start_server, served_bundle, expected, h2o_cluster):
    """With BENTOML_H2O_URL the server starts no JVM and never stops that H2O."""
    rows, species = expected
    server = start_server("serve-gunicorn", str(served_bundle), "--port", "0", "--workers", "2",
                          env={"BENTOML_H2O_URL": h2o_cluster})
    assert java_children(server.proc.pid) == []
    answer = server.post("/predict_where", rows).json()
    assert [r["predict"] for r in answer] == species and answer[0]["h2o"] == h2o_cluster
    assert answer[0]["scratch"] is None
    assert server.terminate(60) == 0, server.log
    assert get_json(f"{h2o_cluster}/3/Cloud")["cloud_healthy"]


def test_input_h2o_cannot_score_is_a_400_naming_the_column(start_server, served_bundle, expected, h2o_cluster):
    rows, species = expected
    server = start_server("serve-gunicorn", str(served_bundle), "--port", "0", "--enable-microbatch",
                          "--workers", "2", env={"BENTOML_H2O_URL": h2o_cluster})
    spec = "/predict_as_the_spec_writes_it"
    assert names(server.post(spec, rows).json()) == species
    # a missing column (H2O alone would score it as NaN), rows without column names, text for a number
    missing = server.post(spec, [{k: v for k, v in rows[0].items() if k != "Petal.Width"}])
    assert missing.status == 400, missing
    assert missing.json()["error"] == ("H2oIrisServer predict_as_the_spec_writes_it: missing columns "
                                       "'Petal.Width'; the H2O model was trained on 'Sepal.Length', "
                                       "'Sepal.Width', 'Petal.Length', 'Petal.Width'"), missing
    values = server.post(spec, [[5.1, 3.5, 1.4, 0.2]])
    assert values.status == 400 and "missing columns 'Sepal.Length'" in values.json()["error"], values
    text = server.post(spec, [dict(rows[0], **{"Sepal.Width": "wide"})])
    assert text.status == 400 and "column 'Sepal.Width' must be numeric; got 'wide'" in text.json()["error"]
    # the API function's own H2OFrame: H2O's scoring job fails, and says why
    frame = server.post("/predict_on_a_frame", [dict(rows[0], **{"Sepal.Width": "wide"})])
    assert frame.status == 400, frame
    message = frame.json()["error"]
    assert ("the H2O model cannot score this input: Test/Validation dataset has categorical column "
            "'Sepal.Width' which is real-valued in the training data") in message, message
    assert "stacktrace" not in message and "java.lang" not in message
    assert names(server.post("/predict_on_a_frame", rows).json()) == species
    # the user's own ValueError is a 500; the workers keep answering
    negative = server.post("/predict_checked", [dict(rows[0], **{"Sepal.Width": -1.0})])
    assert negative.status == 500 and "lengths are never negative" in negative.json()["error"], negative
    assert names(server.post("/predict_checked", rows).json()) == species
    assert server.terminate(60) == 0, server.log
