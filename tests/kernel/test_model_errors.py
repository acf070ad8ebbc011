"""A model refusing its input is a 400; the artifact class says so (``bad_input_message``).

The "framework" here is a module of the test's own (``toyframe_*``) whose
``validate`` raises ValueError for rows of the wrong width, the way
scikit-learn's ``check_array`` does; its artifact class claims exactly those.
"""
import json
import logging

import pytest

from bentoml.adapters import HTTPRequest
from bentoml.artifact import BentoServiceArtifact
from bentoml.model_errors import model_input_error, one_line, raised_in

FRAMEWORK = '''
class NotReady(ValueError):
    """Raised by validate when the model is not set up: not the input's fault."""


def validate(rows, ready=True):
    if not ready:
        raise NotReady("the model is not fitted yet")
    for row in rows:
        if len(row) != 2:
            raise ValueError(f"X has {len(row)} features, but Toy is expecting 2 features as input.")
    return rows


def predict(rows, ready=True):
    return [a + b for a, b in validate(rows, ready)]


def save_model(path):
    raise ValueError("disk full")  # raised by the framework, but not while checking input
'''

SERVICE = '''
import {framework} as toy
from bentoml.model_errors import one_line, raised_in


class ToyArtifact(TextArtifact):
    @classmethod
    def bad_input_message(cls, exc):
        if (isinstance(exc, ValueError) and not isinstance(exc, toy.NotReady)
                and raised_in(exc, "{framework}:validate")):
            return one_line(str(exc).replace("X has", "got"))
        return None


class BrokenHookArtifact(TextArtifact):
    @classmethod
    def bad_input_message(cls, exc):
        raise RuntimeError("a bug in a plugin")


@bentoml.artifacts([BrokenHookArtifact("other"), ToyArtifact("model")])
class ToyService(bentoml.BentoService):
    @bentoml.api(input=EchoInput())
    def predict(self, rows):
        return toy.predict(rows)

    @bentoml.api(input=EchoInput())
    def unready(self, rows):
        return toy.predict(rows, ready=False)

    @bentoml.api(input=EchoInput())
    def own_check(self, rows):
        toy.validate(rows)
        if any(r[0] < 0 for r in rows):
            raise ValueError("negative values are not allowed")  # the user's own check
        return toy.predict(rows)

    @bentoml.api(input=EchoInput())
    def save(self, rows):
        toy.save_model("/nowhere")
'''


@pytest.fixture
def toy(service_module):
    framework = service_module(FRAMEWORK, prefix="toyframe", components=False)
    return service_module(SERVICE.format(framework=framework.__name__), prefix="toysvc")


def _answers(svc, api, *bodies):
    api = svc.get_inference_api(api)
    tasks = [api.input_adapter.from_http_request(HTTPRequest(json.dumps(b).encode())) for b in bodies]
    return [(r.status, json.loads(r.body)) for r in api.handle_batch(tasks)]


def test_the_models_input_error_is_a_400_naming_service_and_api(toy):
    status, body = _answers(toy.ToyService(), "predict", [1, 2, 3])[0]
    assert status == 400
    assert body["error"] == "ToyService predict: got 3 features, but Toy is expecting 2 features as input."


def test_good_requests_in_the_same_batch_are_answered(toy):
    answers = _answers(toy.ToyService(), "predict", [1, 2], [1, 2, 3], [3, 4], [5])
    assert [s for s, _ in answers] == [200, 400, 200, 400]
    assert answers[0][1] == 3 and answers[2][1] == 7
    assert "got 1 features" in answers[3][1]["error"]


def test_the_users_own_value_error_stays_500(toy, caplog):
    svc = toy.ToyService()
    with caplog.at_level(logging.ERROR, logger="bentoml"):
        (status, body), = _answers(svc, "own_check", [-1, 2])
    assert status == 500 and "negative values are not allowed" in body["error"]
    assert any(r.exc_info for r in caplog.records)  # a bug: logged with its traceback
    # the same API, when the framework's check is what refuses, is a 400
    assert _answers(svc, "own_check", [1, 2, 3])[0][0] == 400


def test_framework_errors_that_are_not_about_the_input_stay_500(toy):
    svc = toy.ToyService()
    (status, body), = _answers(svc, "unready", [1, 2])
    assert status == 500 and "NotReady" in body["error"]  # raised in validate, but not bad input
    (status, body), = _answers(svc, "save", [1, 2])
    assert status == 500 and "disk full" in body["error"]  # a ValueError from elsewhere in the framework


def test_a_hook_that_raises_is_skipped_and_logged(toy, caplog):
    with caplog.at_level(logging.WARNING, logger="bentoml"):
        assert _answers(toy.ToyService(), "predict", [1])[0][0] == 400  # the next class still answers
    assert "BrokenHookArtifact.bad_input_message raised" in caplog.text


def test_the_base_class_claims_nothing():
    assert BentoServiceArtifact.bad_input_message(ValueError("X has 3 features")) is None
    assert model_input_error([BentoServiceArtifact], ValueError("x")) is None


def _raise_in_helper():
    def helper():
        raise ValueError("inner")
    helper()


def test_raised_in_matches_modules_and_functions():
    try:
        _raise_in_helper()
    except ValueError as exc:
        caught = exc
    assert raised_in(caught, __name__)
    assert raised_in(caught, f"{__name__}:helper")
    assert raised_in(caught, f"{__name__}:_raise_in_helper")
    assert not raised_in(caught, f"{__name__}:other")
    assert not raised_in(caught, __name__ + "_more")  # a module prefix is not a package
    assert raised_in(caught, __name__.rpartition(".")[0] or __name__)  # its package
    assert not raised_in(ValueError("never raised"), __name__)


def test_one_line():
    assert one_line("Input X contains NaN.\n  SVC does\tnot\n") == "Input X contains NaN. SVC does not"
    cut = one_line("x" * 400, limit=50)
    assert len(cut) == 50 and cut.endswith("...")
