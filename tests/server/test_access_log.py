"""The access log in-process: what a line holds, that it is written off the request thread
(and only once there is a line to write: never before a fork), and that close() writes
what is queued.  Over real servers: ``test_observability.py``."""
from __future__ import annotations

import itertools
import logging
import threading
import time

import pytest

from bentoml.server.access_log import LOGGER_NAME, AccessLog

_names = itertools.count()


class Collect(logging.Handler):
    def __init__(self, delay: float = 0.0):
        super().__init__()
        self.records = []
        self.threads = set()
        self.delay = delay

    def emit(self, record):
        time.sleep(self.delay)
        self.threads.add(threading.current_thread().name)
        self.records.append(record)


@pytest.fixture
def collected():
    logger = logging.getLogger(f"test.access.{next(_names)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = Collect()
    logger.addHandler(handler)
    return logger, handler


def test_a_line_has_every_field_and_the_time_of_the_answer(collected):
    logger, handler = collected
    log = AccessLog(logger)
    before = time.time()
    log.record("10.0.0.7", "POST", "/predict", 400, 0.00123, "rid-1",
               b'{"error": "DataframeInput: not valid JSON\\nat line 1"}')
    log.record("10.0.0.7", "GET", "/", 200, 0.5, "rid-2")
    log.close(timeout=5)
    first, second = handler.records
    assert first.getMessage() == ('10.0.0.7 POST /predict 400 1.2ms id=rid-1 '
                                  'error="DataframeInput: not valid JSON\\nat line 1"')
    assert "\n" not in first.getMessage()
    assert (first.client, first.method, first.path, first.status, first.latency_ms, first.request_id) == \
        ("10.0.0.7", "POST", "/predict", 400, 1.2, "rid-1")
    assert first.error == "DataframeInput: not valid JSON\nat line 1"
    assert first.levelno == logging.INFO and first.name == logger.name
    assert before <= first.created <= second.created <= time.time()
    assert second.getMessage() == "10.0.0.7 GET / 200 500.0ms id=rid-2" and second.error is None
    assert handler.threads == {"access-log"}  # not the request thread


def test_a_path_cannot_forge_a_line_or_a_field(collected):
    logger, handler = collected
    log = AccessLog(logger)
    log.record(None, "GET", "/x\n[2020-01-01] INFO bentoml.access: forged", 404, 0.001, "rid")
    log.record(None, "GET", "/a b", 404, 0.001, "rid")
    log.record(None, "GET", "/" + "y" * 5000, 404, 0.001, "rid")
    log.record(None, "GET", "/caf\u00e9/%41", 404, 0.001, "rid")
    log.close(timeout=5)
    messages = [r.getMessage() for r in handler.records]
    assert messages[0] == "- GET /x%0A%5B2020-01-01%5D%20INFO%20bentoml.access:%20forged 404 1.0ms id=rid"
    assert messages[1] == "- GET /a%20b 404 1.0ms id=rid"
    assert len(messages[2]) < 600 and "..." in messages[2]
    assert messages[3] == "- GET /caf\u00e9/%41 404 1.0ms id=rid"  # printable: as it is


def test_no_thread_until_the_first_line(collected):
    """The pre-fork master builds nothing that starts a thread: the writer starts with the
    first line (in a worker), and close() without one starts none."""
    import bentoml
    from bentoml.adapters import JsonInput
    from bentoml.server.app import create_app
    from bentoml.server.config import ServerConfig

    class AccessLogTestService(bentoml.BentoService):
        @bentoml.api(input=JsonInput())
        def predict(self, docs):
            return docs

    threads = threading.active_count()
    app = create_app(AccessLogTestService(), ServerConfig(access_log=True))
    assert app.access_log is not None and threading.active_count() == threads
    app.close(timeout=1)
    logger, handler = collected
    log = AccessLog(logger)
    assert threading.active_count() == threads
    log.record(None, "GET", "/", 200, 0.001, "rid")
    assert "access-log" in {t.name for t in threading.enumerate()}
    log.close(timeout=5)
    assert "access-log" not in {t.name for t in threading.enumerate()}
    assert len(handler.records) == 1


def test_close_writes_what_is_queued_and_later_lines_at_once():
    logger = logging.getLogger(f"test.access.{next(_names)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    slow = Collect(delay=0.02)
    logger.addHandler(slow)
    log = AccessLog(logger)
    for i in range(20):
        log.record(None, "POST", "/predict", 200, 0.001, f"rid-{i}")
    assert len(slow.records) < 20  # still queued behind the slow sink
    log.close(timeout=10)
    assert [r.request_id for r in slow.records] == [f"rid-{i}" for i in range(20)]
    log.record(None, "POST", "/predict", 200, 0.001, "late")  # e.g. a request outliving the stop
    assert slow.records[-1].request_id == "late"


def test_off_below_info():
    log = AccessLog()
    assert log.logger.name == LOGGER_NAME
    parent = logging.getLogger("bentoml")
    level = parent.level
    try:
        parent.setLevel(logging.ERROR)  # what -q does
        assert not log.enabled
        parent.setLevel(logging.INFO)
        assert log.enabled
    finally:
        parent.setLevel(level)


def test_an_answer_of_the_http_server_is_counted_and_logged(collected):
    """What waitress answers itself (here a malformed request) goes through server_answered."""
    import bentoml
    from bentoml.adapters import JsonInput
    from bentoml.server.app import create_app
    from bentoml.server.config import ServerConfig
    from bentoml.testing.server import metric_sum

    class ServerAnswerService(bentoml.BentoService):
        @bentoml.api(input=JsonInput())
        def predict(self, docs):
            return docs

    logger, handler = collected
    app = create_app(ServerAnswerService(), ServerConfig(access_log=True))
    app.access_log = AccessLog(logger)
    app.server_answered(400, "rid-1", "POST", "/predict", "127.0.0.1", "Bad Request: Content-Length is invalid")
    app.server_answered(431, "rid-2", None, None, "127.0.0.1", "Request Header Fields Too Large")
    app.close(timeout=5)
    text = app.metrics.exposition()[0].decode()
    assert metric_sum(text, "bentoml_service_request_total", endpoint="/predict", http_response_code="400") == 1
    assert metric_sum(text, "bentoml_service_request_total", endpoint="(unmatched)", http_response_code="431") == 1
    assert [r.getMessage() for r in handler.records] == [
        '127.0.0.1 POST /predict 400 0.0ms id=rid-1 error="Bad Request: Content-Length is invalid"',
        '127.0.0.1 - - 431 0.0ms id=rid-2 error="Request Header Fields Too Large"']


def test_a_blocked_stream_drops_lines_instead_of_growing_memory():
    logger = logging.getLogger(f"test.access.{next(_names)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    entered, unblocked = threading.Event(), threading.Event()

    class Blocked(Collect):
        def emit(self, record):
            entered.set()
            unblocked.wait(10)
            super().emit(record)

    handler = Blocked()
    logger.addHandler(handler)
    log = AccessLog(logger, max_queued=3)
    log.record(None, "POST", "/predict", 200, 0.001, "rid-0")
    assert entered.wait(5)  # the writer has taken the first line, and blocks on it
    for i in range(1, 10):
        log.record(None, "POST", "/predict", 200, 0.001, f"rid-{i}")
    assert log.dropped == 6  # 3 waiting
    unblocked.set()
    log.close(timeout=5)
    lines = [r.request_id for r in handler.records if r.levelno == logging.INFO]
    assert lines == ["rid-0", "rid-1", "rid-2", "rid-3"]
    warnings = [r.getMessage() for r in handler.records if r.levelno == logging.WARNING]
    assert warnings == ["6 access log lines dropped: 3 were waiting for the log's stream"]
