"""The server under abuse, over real sockets: slow clients, deadlines, shedding at the
connection limit, lingering close after error answers, and the open-file limit."""
from __future__ import annotations

import http.client
import json
import pathlib
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bentoml.testing.server import Server

TRICKLE = b"POST /double HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: "


def _response(sock: socket.socket, timeout: float = 10.0):
    """The HTTP response on ``sock``: (status, headers, body)."""
    sock.settimeout(timeout)
    reply = http.client.HTTPResponse(sock)
    reply.begin()
    return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    """True once the server has closed ``sock`` (EOF or reset), within ``within`` seconds."""
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass
    except socket.timeout:
        return False
    except ConnectionError:
        pass
    return True


def _post(port: int, path: str, body: bytes, headers=None, timeout: float = 30.0, **kwargs):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})},
                     **kwargs)
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def strict_server(start_server, bundle) -> Server:
    """Sub-second deadlines, a small connection limit (the slow-client tests need them)."""
    return start_server("serve", str(bundle), "--port", "0", "--header-timeout", "0.6", "--body-timeout", "1.0",
                        "--keepalive-timeout", "0.6", "--connection-limit", "40", "--linger-time", "2")


def test_headers_trickling_in_get_408_at_their_deadline(strict_server):
    with socket.create_connection(("127.0.0.1", strict_server.port)) as sock:
        sock.sendall(TRICKLE[:20])
        first_byte = time.monotonic()
        sock.setblocking(False)
        status = None
        for i in range(60):  # one byte every 50 ms: each resets an inactivity timer, not this deadline
            try:
                sock.send(TRICKLE[20 + i % 40:21 + i % 40])
            except OSError:
                break
            time.sleep(0.05)
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except BlockingIOError:
                pass
        status, headers, body = _response(sock)
        waited = time.monotonic() - first_byte
    assert status == 408, body
    assert 0.5 < waited < 1.6, waited
    assert json.loads(body) == {"error": "Request Timeout: the request line and headers did not arrive within 0.6 s"}
    assert headers["connection"] == "close" and headers["x-request-id"]


def test_a_body_trickling_in_gets_408_at_its_deadline(strict_server):
    with socket.create_connection(("127.0.0.1", strict_server.port)) as sock:
        sock.sendall(b"POST /double HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{")
        started = time.monotonic()
        sock.setblocking(False)
        for _ in range(40):
            try:
                sock.send(b" ")
                if sock.recv(1, socket.MSG_PEEK):
                    break
            except BlockingIOError:
                pass
            except OSError:
                break
            time.sleep(0.05)
        status, _headers, body = _response(sock)
    assert status == 408 and time.monotonic() - started < 2.0
    assert "the request body did not arrive within 1 s" in json.loads(body)["error"]


def test_silent_and_idle_connections_are_closed(strict_server):
    with socket.create_connection(("127.0.0.1", strict_server.port)) as silent:
        assert _closed_by_server(silent, within=2.0), "a connection that sent nothing stayed open"
    with socket.create_connection(("127.0.0.1", strict_server.port)) as idle:
        idle.sendall(b'POST /double HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                     b'Content-Length: 8\r\n\r\n{"x": 4}')
        status, headers, body = _response(idle)
        assert (status, json.loads(body)) == (200, {"y": 8}) and "connection" not in headers  # kept alive
        answered = time.monotonic()
        assert _closed_by_server(idle, within=2.0), "an idle keep-alive connection stayed open"
        assert time.monotonic() - answered > 0.5


def _slow_clients(port: int, count: int, stop: threading.Event) -> list:
    """``count`` connections each sending one header byte every 0.5 s until ``stop``."""
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    for sock in socks:
        try:
            sock.sendall(TRICKLE)
        except OSError:  # shed already
            pass

    def trickle():
        while not stop.wait(0.5):
            for sock in socks:
                try:
                    sock.send(b"a")
                except OSError:
                    pass

    threading.Thread(target=trickle, daemon=True).start()
    return socks


def _closed(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


@pytest.mark.parametrize("workers", [1, 2])
def test_slow_clients_beyond_the_limit_cannot_starve_good_requests(start_server, bundle, workers):
    server = start_server("serve-gunicorn", str(bundle), "--port", "0", "--workers", str(workers),
                          "--connection-limit", "30", "--header-timeout", "60")
    stop = threading.Event()
    slow = _slow_clients(server.port, 150, stop)
    try:
        time.sleep(0.3)
        latencies = []
        for i in range(8):
            started = time.monotonic()
            status, body = _post(server.port, "/double", json.dumps({"x": i}).encode(), timeout=5)
            latencies.append(time.monotonic() - started)
            assert (status, json.loads(body)) == (200, {"y": 2 * i})
        assert max(latencies) < 1.0, latencies
        shed = sum(_closed(sock) for sock in slow)
        assert shed >= 150 - 30 * workers, f"only {shed} of 150 slow connections were shed"
    finally:
        stop.set()
        for sock in slow:
            sock.close()


def test_the_open_file_limit_is_raised_toward_the_hard_limit(bundle):
    command = ["bash", "-c", 'ulimit -S -n 256 && exec "$0" "$@"', sys.executable, "-m", "bentoml",
               "serve", str(bundle), "--port", "0"]
    server = Server([], command=command)
    try:
        limits = pathlib.Path(f"/proc/{server.proc.pid}/limits").read_text()
        soft, hard = next(line.split()[3:5] for line in limits.splitlines() if line.startswith("Max open files"))
        assert soft == hard and (hard == "unlimited" or int(hard) > 256), limits
    finally:
        server.stop()


# -- error answers reach clients that send their whole request first ----------------------------
def test_a_refused_large_upload_still_reads_its_413(dev_server):
    status, body = _post(dev_server.port, "/double", b"x" * (72 * 1024 * 1024))  # urllib-like: send all, then read
    assert status == 413 and "Request Entity Too Large" in json.loads(body)["error"]


def test_a_refused_chunked_upload_still_reads_its_413(dev_server):
    def chunks():
        for _ in range(25):
            yield b"x" * (1024 * 1024)

    status, body = _post(dev_server.port, "/double", chunks(), encode_chunked=True)
    assert status == 413, body


def test_a_huge_header_reads_its_431_then_a_clean_close(dev_server):
    with socket.create_connection(("127.0.0.1", dev_server.port)) as sock:
        sock.sendall(b"POST /double HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1024 * 1024)
                     + b"\r\nContent-Length: 8\r\n\r\n{\"x\": 1}")
        status, headers, body = _response(sock)
        assert status == 431 and "Request Header Fields Too Large" in json.loads(body)["error"]
        assert headers["connection"] == "close"
        sock.settimeout(5)
        assert sock.recv(65536) == b""  # the server's FIN, not a reset of what it did not read


def test_deeply_nested_json_is_400_naming_the_nesting(dev_server):
    status, body = _post(dev_server.port, "/double", b"[" * 100_000 + b"]" * 100_000)
    assert status == 400
    assert "nested too deeply" in json.loads(body)["error"]
    assert _post(dev_server.port, "/double", b'{"x": 2}')[0] == 200


def test_many_refused_uploads_at_once_each_read_their_answer(dev_server):
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: _post(dev_server.port, "/double", b"y" * (24 * 1024 * 1024))[0],
                                range(8)))
    assert answers == [413] * 8
