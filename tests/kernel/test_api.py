"""@api declarations and InferenceAPI.handle_batch: one bad task never spoils its neighbours."""
import json
import logging

import pytest

import bentoml
from bentoml.adapters import HTTPRequest, InferenceTask, JsonOutput, OutputAdapter
from bentoml.service.inference_api import RESERVED_API_NAMES
from bentoml.exceptions import BadInput, InvalidArgument


def _body(result):
    return json.loads(result.body)


@pytest.fixture
def doubler(tiny):
    """A service whose API doubles numbers, fails on "boom" and rejects "bad"."""
    calls = []

    class Doubler(bentoml.BentoService):
        @bentoml.api(input=tiny.EchoInput())
        def double(self, batch):
            calls.append(list(batch))
            if "boom" in batch:
                raise RuntimeError("secret internals at /srv/model.py line 3")
            if "bad" in batch:
                raise BadInput("'bad' is not a number")
            return [x * 2 for x in batch]

        @bentoml.api(input=tiny.EchoInput())
        def too_many(self, batch):
            return [1, 2, 3]

    svc = Doubler()
    svc.calls = calls
    return svc


def _tasks(svc, api, *bodies):
    adapter = svc.get_inference_api(api).input_adapter
    return [adapter.from_http_request(HTTPRequest(b)) for b in bodies]


def test_a_good_batch_is_one_call(doubler):
    api = doubler.get_inference_api("double")
    results = api.handle_batch(_tasks(doubler, "double", b"1", b"2", b"3"))
    assert [(r.status, _body(r)) for r in results] == [(200, 2), (200, 4), (200, 6)]
    assert doubler.calls == [[1, 2, 3]]


def test_a_bad_task_is_answered_400_alone(doubler):
    api = doubler.get_inference_api("double")
    results = api.handle_batch(_tasks(doubler, "double", b"1", b"{oops", b"3"))
    assert [r.status for r in results] == [200, 400, 200]
    assert "JSON" in _body(results[1])["error"]
    assert [_body(results[0]), _body(results[2])] == [2, 6]
    assert doubler.calls == [[1, 3]]  # the bad task never reached the API


def test_user_exception_is_500_without_traceback_and_neighbours_are_answered(doubler, caplog):
    api = doubler.get_inference_api("double")
    tasks = _tasks(doubler, "double", b"1", b'"boom"', b"3", b"", b"4")
    with caplog.at_level(logging.ERROR, logger="bentoml"):
        results = api.handle_batch(tasks)
    assert [r.status for r in results] == [200, 500, 200, 400, 200]
    assert [_body(results[i]) for i in (0, 2, 4)] == [2, 6, 8]
    error = _body(results[1])["error"]
    assert "double" in error and "RuntimeError" in error
    assert "Traceback" not in results[1].body.decode()
    assert 'File "' not in results[1].body.decode()
    # the whole batch failed once, then each task was retried alone
    assert doubler.calls[0] == [1, "boom", 3, 4]
    assert sorted(map(str, doubler.calls[1:])) == sorted(map(str, [[1], ["boom"], [3], [4]]))
    # the traceback goes to the log instead
    assert any(r.exc_info for r in caplog.records)


def test_bad_input_raised_by_the_api_is_a_400(doubler):
    api = doubler.get_inference_api("double")
    results = api.handle_batch(_tasks(doubler, "double", b'"bad"', b"5"))
    assert [r.status for r in results] == [400, 200]
    assert "'bad' is not a number" in _body(results[0])["error"]


def test_result_length_mismatch_is_a_500_naming_counts(doubler):
    api = doubler.get_inference_api("too_many")
    results = api.handle_batch(_tasks(doubler, "too_many", b"1", b"2"))
    assert [r.status for r in results] == [500, 500]
    error = _body(results[0])["error"]
    assert "ResultLengthMismatch" in error and "returned 3 results for 1 inputs" in error


def test_an_all_bad_batch_never_calls_the_api(doubler):
    api = doubler.get_inference_api("double")
    results = api.handle_batch([InferenceTask.failed("first", 400), InferenceTask.failed("second", 413)])
    assert [(r.status, _body(r)["error"]) for r in results] == [(400, "first"), (413, "second")]
    assert doubler.calls == []


def test_count_tasks_are_answered_with_their_slice(tiny):
    class Lister(bentoml.BentoService):
        @bentoml.api(input=tiny.EchoInput())
        def ident(self, batch):
            return batch

    api = Lister().get_inference_api("ident")
    results = api.handle_batch([InferenceTask(data="a"), InferenceTask(data="b", count=1)])
    assert [_body(r) for r in results] == ["a", ["b"]]


def test_direct_call_bypasses_adapters(doubler):
    assert doubler.double([1, 2]) == [2, 4]
    assert doubler.get_inference_api("double")([5]) == [10]


def test_unknown_api_name_lists_the_apis(doubler):
    with pytest.raises(bentoml.exceptions.NotFound, match="double, too_many"):
        doubler.get_inference_api("nope")


# -- @api validation at class definition ----------------------------------------------------


@pytest.mark.parametrize("name", ["healthz", "metrics", "docs", "feedback", "Metrics"])
def test_reserved_method_names_are_rejected(tiny, name):
    with pytest.raises(InvalidArgument, match="reserved"):
        namespace = {}
        exec(  # a method literally named after the route
            f"class S(bentoml.BentoService):\n"
            f"    @bentoml.api(input=EchoInput())\n"
            f"    def {name}(self, batch):\n"
            f"        return batch\n",
            {"bentoml": bentoml, "EchoInput": tiny.EchoInput}, namespace)


@pytest.mark.parametrize("name", ["healthz", "metrics", "docs", "feedback"])
def test_reserved_api_names_are_rejected(tiny, name):
    assert name in RESERVED_API_NAMES
    with pytest.raises(InvalidArgument, match=f"{name!r} is reserved"):
        class S(bentoml.BentoService):
            @bentoml.api(input=tiny.EchoInput(), api_name=name)
            def predict(self, batch):
                return batch


def test_adapter_class_instead_of_instance_is_rejected(tiny):
    with pytest.raises(InvalidArgument, match=r"input=EchoInput\(\)"):
        class S(bentoml.BentoService):
            @bentoml.api(input=tiny.EchoInput)
            def predict(self, batch):
                return batch


@pytest.mark.parametrize("kwargs,match", [
    ({}, "needs an input adapter"),
    ({"input": "json"}, "InputAdapter instance"),
    ({"output": JsonOutput}, "OutputAdapter instance"),
    ({"mb_max_batch_size": 0}, "mb_max_batch_size"),
    ({"mb_max_latency": -1}, "mb_max_latency"),
    ({"mb_max_batch_size": True}, "mb_max_batch_size"),
    ({"api_name": "has space"}, "identifier"),
    ({"batch": "yes"}, "batch=.... must be True or False"),
    ({"mb_max_latancy": 5}, "unexpected option 'mb_max_latancy'; did you mean 'mb_max_latency'"),
])
def test_invalid_api_options(tiny, kwargs, match):
    kwargs = dict(kwargs)
    if "input" not in kwargs and match != "needs an input adapter":
        kwargs["input"] = tiny.EchoInput()
    with pytest.raises(InvalidArgument, match=match):
        def predict(self, batch):
            return batch

        bentoml.api(**kwargs)(predict)


def test_positional_input_and_custom_output(tiny):
    class Upper(OutputAdapter):
        def to_result(self, share, task):
            from bentoml.adapters import InferenceResult
            return InferenceResult(200, str(share).upper().encode(), "text/plain")

    class S(bentoml.BentoService):
        @bentoml.api(tiny.EchoInput(), output=Upper(), api_name="shout", mb_max_latency=50)
        def predict(self, batch):
            """Shouts."""
            return batch

    api = S().get_inference_api("shout")
    assert api.describe() == {"name": "shout", "input_type": "EchoInput", "output_type": "Upper",
                              "doc": "Shouts."}
    assert api.spec.mb_max_latency == 50
    [result] = api.handle_batch([api.input_adapter.from_cli_input('"hi"')])
    assert (result.status, result.body, result.content_type) == (200, b"HI", "text/plain")


def test_apis_are_inherited_and_overridable(tiny):
    class Base(bentoml.BentoService):
        @bentoml.api(input=tiny.EchoInput())
        def a(self, batch):
            return ["base"] * len(batch)

    class Child(Base):
        @bentoml.api(input=tiny.EchoInput())
        def b(self, batch):
            return batch

    assert sorted(api.name for api in Child().inference_apis) == ["a", "b"]
    assert [api.name for api in Base().inference_apis] == ["a"]
