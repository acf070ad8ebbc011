"""A TfTensorInput + TensorflowSavedModelArtifact service over real HTTP and the CLI.

Served by ``serve-gunicorn --enable-microbatch --workers 2``: TensorFlow is not
fork-safe, so the master must not load it and each worker loads the model after
the fork.  Needs bentoml-adapter-tensor as well as this plugin.
"""
import json
import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import importlib_metadata
import numpy as np
import pytest

from bentoml.testing.server import metric_sum, save_service_source

pytest.importorskip("bentoml_adapter_tensor", reason="the serving tests need bentoml-adapter-tensor (TfTensorInput)")

SERVICE_SOURCE = textwrap.dedent('''\
    """Scores and classes from a linear tf.Module."""
    import bentoml
    from bentoml.adapters import TfTensorInput
    from bentoml.artifact import TensorflowSavedModelArtifact


    @bentoml.artifacts([TensorflowSavedModelArtifact("model")])
    class TfLinear(bentoml.BentoService):
        """A linear model over 4 features."""

        @bentoml.api(input=TfTensorInput())
        def predict(self, tensor):
            """Three class scores per instance."""
            return self.artifacts.model(tensor)

        @bentoml.api(input=TfTensorInput())
        def classify(self, tensor):
            """The best class per instance, from another tf.function of the model."""
            return self.artifacts.model.classify(tensor)

        @bentoml.api(input=TfTensorInput())
        def named(self, inputs):
            """Named inputs, passed on by name: {"instances": [{"x": [...]}]}."""
            return self.artifacts.model(**inputs)
    ''')

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3], [5.9, 3.0, 4.2, 1.5], [4.7, 3.2, 1.3, 0.2],
        [6.7, 3.0, 5.2, 2.3], [5.0, 2.0, 3.5, 1.0]]


@pytest.fixture(scope="module")
def bundle(linear_module, tmp_path_factory):
    target = tmp_path_factory.mktemp("tf_bundle") / "TfLinear"
    return save_service_source(SERVICE_SOURCE, "tf_linear_service", "TfLinear", target, {"model": linear_module})


@pytest.fixture(scope="module")
def server(start_server, bundle):
    return start_server("serve-gunicorn", str(bundle), "--port", "0", "--enable-microbatch", "--workers", "2")


@pytest.fixture(scope="module")
def in_process(linear_module):
    """What the packed model itself answers: the reference for every served answer."""
    return lambda rows: linear_module(np.asarray(rows, dtype=np.float32)).numpy()


def test_bundle_pins_the_installed_tensorflow(bundle):
    reqs = (bundle / "requirements.txt").read_text().splitlines()
    (tf_dist,) = importlib_metadata.packages_distributions()["tensorflow"]  # tensorflow-cpu here
    assert f"{tf_dist}=={importlib_metadata.version(tf_dist)}" in reqs
    assert f"keras=={importlib_metadata.version('keras')}" in reqs


def test_row_and_columnar_requests_get_the_in_process_answers(server, in_process, linear_module):
    reply = server.post("/predict", {"instances": ROWS[:2]})
    assert reply.status == 200, reply
    np.testing.assert_allclose(reply.json(), in_process(ROWS[:2]), rtol=1e-6)
    reply = server.post("/predict", {"inputs": [[1, 2, 3, 4]]})  # ints: converted to the float32 signature
    assert reply.status == 200, reply
    np.testing.assert_allclose(reply.json(), in_process([[1, 2, 3, 4]]), rtol=1e-6)
    reply = server.post("/classify", {"instances": ROWS})
    assert reply.status == 200 and reply.json() == linear_module.classify(np.float32(ROWS)).numpy().tolist()
    reply = server.post("/named", {"instances": [{"x": ROWS[0]}, {"x": ROWS[1]}]})
    assert reply.status == 200, reply
    np.testing.assert_allclose(reply.json(), in_process(ROWS[:2]), rtol=1e-6)


def test_master_never_loads_tensorflow(server):
    """The model is not fork-safe: only the workers, after the fork, load TensorFlow."""
    assert "2 workers, micro-batching" in server.serving_line
    assert server.post("/predict", {"instances": [ROWS[0]]}).status == 200  # the workers have loaded it
    maps = f"/proc/{server.proc.pid}/maps"
    if not os.path.exists(maps):
        pytest.skip("no /proc on this system")
    with open(maps) as f:
        assert "libtensorflow" not in f.read()


def test_concurrent_requests_are_batched_and_a_wrong_shape_fails_alone(server, in_process):
    """Good and wrong-shaped requests arrive together: only the wrong ones get 400."""
    before = server.get("/metrics").text
    requests = []
    for i in range(36):
        if i % 6 == 5:
            requests.append(({"instances": [[1.0, 2.0, 3.0]]}, 400))  # 3 features, the model takes 4
        else:
            requests.append(({"instances": [ROWS[i % len(ROWS)], ROWS[(i + 1) % len(ROWS)]][: 1 + i % 2]}, 200))
    barrier = threading.Barrier(len(requests))

    def send(item):
        barrier.wait(30)
        return server.post("/predict", item[0])

    with ThreadPoolExecutor(len(requests)) as pool:
        replies = list(pool.map(send, requests))
    for (body, status), reply in zip(requests, replies):
        assert reply.status == status, (body, reply)
        if status == 200:
            np.testing.assert_allclose(reply.json(), in_process(body["instances"]), rtol=1e-6)
        else:
            error = reply.json()["error"]
            assert "input 'x' has shape (1, 3) but the model expects (None, 4)" in error, error
    after = server.get("/metrics").text
    count = (metric_sum(after, "bentoml_service_adaptive_batch_size_count", method_name="predict")
             - metric_sum(before, "bentoml_service_adaptive_batch_size_count", method_name="predict"))
    total = (metric_sum(after, "bentoml_service_adaptive_batch_size_sum", method_name="predict")
             - metric_sum(before, "bentoml_service_adaptive_batch_size_sum", method_name="predict"))
    assert count > 0 and total > count, (count, total)  # some calls served several requests
    assert server.proc.poll() is None and "Traceback" not in server.log


def test_malformed_requests_are_400(server):
    for path, body, message in [
        ("/predict", {"instances": [[1.0, 2.0], [1.0]]}, "instance 1 has shape (1,) but instance 0 has (2,)"),
        ("/predict", {"instances": [["a", "b", "c", "d"]]}, "holds strings (e.g. 'a') but float32 is expected"),
        ("/predict", {"instances": [[1.0] * 4], "inputs": [[1.0] * 4]}, "not both"),
        ("/named", {"instances": [{"y": [1.0] * 4}]}, "the model has no input 'y'; its inputs are ['x']"),
    ]:
        reply = server.post(path, body)
        assert reply.status == 400, (body, reply)
        assert message in reply.json()["error"]


def test_cli_run_prints_the_answer_without_tensorflow_noise(bundle, in_process):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONDONTWRITEBYTECODE"] = ""
    out = subprocess.run([sys.executable, "-m", "bentoml", "run", str(bundle), "predict",
                          "--input", json.dumps({"instances": [ROWS[0]]})],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    np.testing.assert_allclose(json.loads(out.stdout), in_process([ROWS[0]]), rtol=1e-6)
    assert "cpu_feature_guard" not in out.stderr and "I0000" not in out.stderr, out.stderr

    bad = subprocess.run([sys.executable, "-m", "bentoml", "run", str(bundle), "predict",
                          "--input", '{"instances": [[1.0, 2.0]]}'],
                         capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode != 0 and "has shape (1, 2) but the model expects (None, 4)" in bad.stderr, bad.stderr
    assert "Traceback" not in bad.stderr
