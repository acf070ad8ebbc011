"""``@bentoml.api(..., batch=True|False)`` of BentoML 0.10-0.13.

From the 0.9.0 release notes ("API definition now requires declaring if it is a
batch API or non-batch API ... @api by default uses batch=False, which
processes one input item at a time").  Our rule keeps the seed's contract: an
API without ``batch=`` receives a list (the spec); an explicit ``batch=False``
receives one item and returns one result, and requests are still
micro-batched (the kernel batches, then calls the function per item).
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import bentoml
from bentoml.adapters import HTTPRequest
from bentoml.exceptions import InvalidArgument

SERVICE = '''\
    import time

    import bentoml
    from bentoml.adapters import ImageInput, JsonInput, StringInput


    class PerItem(bentoml.BentoService):
        @bentoml.api(input=JsonInput(), batch=False)
        def one(self, parsed_json):
            time.sleep(0.02)  # slow enough that concurrent requests queue into batches
            if parsed_json == {"x": 13}:
                raise ValueError("unlucky number 13")
            return {"got": parsed_json, "type": type(parsed_json).__name__}

        @bentoml.api(input=JsonInput(), batch=True)
        def many(self, parsed_json_list):
            return [{"type": type(parsed_json_list).__name__, "n": len(parsed_json_list)}
                    for _ in parsed_json_list]

        @bentoml.api(input=JsonInput())
        def default(self, docs):
            return [type(docs).__name__ for _ in docs]

        @bentoml.api(input=StringInput(), batch=False)
        def shout(self, text):
            return text.upper()
    '''


@pytest.fixture
def per_item(write_service):
    return write_service(SERVICE, "batch_false_service")


def _answer(svc, api_name, *bodies):
    api = svc.get_inference_api(api_name)
    tasks = [api.input_adapter.from_http_request(HTTPRequest(b, {"Content-Type": "application/json"}))
             for b in bodies]
    return [(r.status, json.loads(r.body)) for r in api.handle_batch(tasks)]


def test_batch_false_gets_one_item_and_returns_one_result(per_item):
    svc = per_item.PerItem()
    assert svc.get_inference_api("one").batch is False
    assert _answer(svc, "one", b'{"a": 1}', b"[1, 2]") == [
        (200, {"got": {"a": 1}, "type": "dict"}), (200, {"got": [1, 2], "type": "list"})]


def test_without_batch_and_with_batch_true_the_api_gets_a_list(per_item):
    svc = per_item.PerItem()
    assert _answer(svc, "default", b"1", b"2") == [(200, "list"), (200, "list")]
    assert _answer(svc, "many", b"1", b"2") == [(200, {"type": "list", "n": 2})] * 2
    assert svc.get_inference_api("default").batch and svc.get_inference_api("many").batch


def test_one_failing_item_fails_alone(per_item):
    replies = _answer(per_item.PerItem(), "one", b'{"x": 1}', b'{"x": 13}', b'{"x": 2}')
    assert [status for status, _ in replies] == [200, 500, 200]
    assert "unlucky number 13" in replies[1][1]["error"]
    assert replies[2][1]["got"] == {"x": 2}


def test_a_direct_call_passes_the_value_unchanged(per_item):
    assert per_item.PerItem().one({"a": 1}) == {"got": {"a": 1}, "type": "dict"}


@pytest.mark.parametrize("adapter", ["DataframeInput", "TfTensorInput"])
def test_batch_false_with_an_adapter_of_several_inputs_per_request_is_refused(adapter):
    import bentoml.adapters

    with pytest.raises(InvalidArgument, match=f"batch=False. does not work with {adapter}"):
        @bentoml.api(input=getattr(bentoml.adapters, adapter)(), batch=False)
        def predict(self, x):
            return x


def test_bentoml_run_answers_one_item_and_bentoml_yml_records_batch(per_item, python):
    import yaml

    path = per_item.PerItem().save()
    apis = {api["name"]: api["batch"] for api in yaml.safe_load(open(f"{path}/bentoml.yml"))["apis"]}
    assert apis == {"one": False, "many": True, "default": None, "shout": False}
    proc = python("-m", "bentoml", "run", "PerItem:latest", "one", "--input", '{"a": [1, 2]}')
    assert json.loads(proc.stdout) == {"got": {"a": [1, 2]}, "type": "dict"}
    assert python("-m", "bentoml", "run", "PerItem:latest", "shout", "--input", "hello").stdout.strip() == '"HELLO"'


def test_micro_batching_still_batches_a_batch_false_api(per_item, start_server):
    from bentoml.testing.server import metric_sum

    per_item.PerItem().save()
    server = start_server("serve-gunicorn", "PerItem:latest", "--port", "0", "--workers", "1",
                          "--enable-microbatch", "--mb-max-latency", "5000")
    try:
        docs = [{"i": i} for i in range(60)]
        with ThreadPoolExecutor(30) as pool:
            replies = list(pool.map(lambda doc: server.post("/one", doc), docs))
        assert [(r.status, r.json()) for r in replies] == [(200, {"got": d, "type": "dict"}) for d in docs]
        metrics = server.get("/metrics").text
        batches = metric_sum(metrics, "bentoml_service_adaptive_batch_size_count", method_name="one")
        items = metric_sum(metrics, "bentoml_service_adaptive_batch_size_sum", method_name="one")
        assert items == 60 and batches < 60, (items, batches)
        bad = server.post("/one", {"x": 13})
        assert bad.status == 500 and "unlucky number 13" in bad.json()["error"]
    finally:
        server.stop()


def test_batch_must_be_a_bool():
    from bentoml.adapters import JsonInput

    with pytest.raises(InvalidArgument, match=r"batch=...\) must be True or False"):
        @bentoml.api(input=JsonInput(), batch="false")
        def predict(self, x):
            return x


def test_batch_false_and_a_fixed_batch_size_contradict_each_other():
    from bentoml.adapters import JsonInput

    with pytest.raises(InvalidArgument, match="mb_fixed_batch_size, .* does not apply"):
        @bentoml.api(input=JsonInput(), batch=False, mb_fixed_batch_size=8)
        def predict(self, x):
            return x
