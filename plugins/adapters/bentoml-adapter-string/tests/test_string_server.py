"""Text over real HTTP: ``serve-gunicorn --enable-microbatch --workers 2``, and ``bentoml run --input``."""
import json
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from bentoml.multipart import Part, encode_multipart
from bentoml.testing.server import save_service_source

SERVICE_SOURCE = textwrap.dedent('''\
    """Shouts texts back."""
    import bentoml
    from bentoml.adapters import StringInput


    class Shouter(bentoml.BentoService):
        """Upper-cases texts."""

        @bentoml.api(input=StringInput())
        def shout(self, texts):
            """Each text upper-cased."""
            return [t.upper() for t in texts]
    ''')


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return save_service_source(SERVICE_SOURCE, "shouter_service", "Shouter",
                               tmp_path_factory.mktemp("string_bundle") / "Shouter")


@pytest.fixture(scope="module")
def server(start_server, bundle):
    return start_server("serve-gunicorn", str(bundle), "--port", "0", "--enable-microbatch", "--workers", "2")


@pytest.fixture(scope="module")
def cli_runs(bundle, tmp_path_factory):
    path = tmp_path_factory.mktemp("string_cli") / "review.txt"
    path.write_text("grüße aus einer datei", encoding="utf-8")
    calls = {"literal": ("--input", "best movie ever"), "file": ("--input-file", str(path))}

    def run(args):
        return subprocess.run([sys.executable, "-m", "bentoml", "run", str(bundle), "shout", *args],
                              capture_output=True, text=True, timeout=120)

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(calls, pool.map(run, calls.values())))


def test_plain_text_charsets_and_multipart(server):
    assert server.post("/shout", "naïve café", content_type="text/plain").json() == "NAÏVE CAFÉ"
    latin = server.post("/shout", "naïve café".encode("latin-1"), content_type="text/plain; charset=latin-1")
    assert latin.status == 200 and latin.json() == "NAÏVE CAFÉ"
    content_type, body = encode_multipart([Part("review", "über gut".encode(), "r.txt", "text/plain")])
    assert server.post("/shout", body, content_type=content_type).json() == "ÜBER GUT"


def test_a_bad_text_among_concurrent_good_ones_fails_alone(server):
    def send(i):
        if i == 4:
            return server.post("/shout", b"\xff\xfe", content_type="text/plain")
        if i == 7:
            return server.post("/shout", b"hi", content_type="text/plain; charset=klingon")
        return server.post("/shout", f"text number {i}", content_type="text/plain")

    with ThreadPoolExecutor(10) as pool:
        replies = list(pool.map(send, range(10)))
    for i, reply in enumerate(replies):
        if i in (4, 7):
            assert reply.status == 400, (i, reply)
        else:
            assert reply.status == 200 and reply.json() == f"TEXT NUMBER {i}", (i, reply)
    assert "not valid utf-8 text" in replies[4].json()["error"]
    assert "unknown charset 'klingon'" in replies[7].json()["error"]


def test_docs_example_is_accepted(server):
    content = server.get("/docs.json").json()["paths"]["/shout"]["post"]["requestBody"]["content"]
    example = content["text/plain"]["example"]
    assert server.post("/shout", example, content_type="text/plain").json() == example.upper()


def test_bentoml_run(cli_runs):
    for name, expected in (("literal", "BEST MOVIE EVER"), ("file", "GRÜSSE AUS EINER DATEI")):
        proc = cli_runs[name]
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout) == expected
