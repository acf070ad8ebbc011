"""Images over real HTTP: ``serve-gunicorn --enable-microbatch --workers 2``, and ``bentoml run --input-file``."""
import io
import json
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from bentoml.multipart import Part, encode_multipart
from bentoml.testing.server import save_service_source

SERVICE_SOURCE = textwrap.dedent('''\
    """Describes uploaded images."""
    import bentoml
    from bentoml.adapters import ImageInput, MultiImageInput


    class ImageStats(bentoml.BentoService):
        """Shape and mean pixel of images."""

        @bentoml.api(input=ImageInput())
        def describe(self, images):
            """Shape and mean of each image."""
            return [{"shape": list(a.shape), "mean": float(a.mean())} for a in images]

        @bentoml.api(input=MultiImageInput(input_names=("imageX", "imageY"), pilmode="L"))
        def compare(self, groups):
            """Mean brightness of imageX minus that of imageY."""
            return [{"diff": float(g["imageX"].mean()) - float(g["imageY"].mean()),
                     "shapes": [list(g["imageX"].shape), list(g["imageY"].shape)]} for g in groups]
    ''')


def image(seed, size=(16, 12)):
    """A random RGB image and its PNG bytes; the expected answer is computed from the array."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return pixels, buf.getvalue()


def described(pixels):
    return {"shape": list(pixels.shape), "mean": float(pixels.mean())}


def gray_mean(png):
    return float(np.asarray(Image.open(io.BytesIO(png)).convert("L")).mean())


def upload(field, data, filename):
    content_type, body = encode_multipart([Part(field, data, filename, "image/png")])
    return body, content_type


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    target = tmp_path_factory.mktemp("image_bundle") / "ImageStats"
    return save_service_source(SERVICE_SOURCE, "image_stats_service", "ImageStats", target)


@pytest.fixture(scope="module")
def server(start_server, bundle):
    return start_server("serve-gunicorn", str(bundle), "--port", "0", "--enable-microbatch", "--workers", "2")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "bentoml", "run", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def cli_runs(bundle, tmp_path_factory):
    """The CLI calls of this module, started together at once (each loads the bundle: slow-ish)."""
    directory = tmp_path_factory.mktemp("image_cli")
    x, y = directory / "x.png", directory / "y.png"
    x.write_bytes(image(1)[1])
    y.write_bytes(image(2, (7, 9))[1])
    calls = {
        "describe": (str(bundle), "describe", "--input-file", str(x)),
        "compare": (str(bundle), "compare", f"--input-file=imageX={x}", f"--input-file=imageY={y}"),
        "missing": (str(bundle), "describe", "--input-file", str(directory / "nope.png")),
    }
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = {name: pool.submit(run_cli, *args) for name, args in calls.items()}
    return {name: f.result() for name, f in futures.items()}, x.read_bytes(), y.read_bytes()


def test_multipart_and_raw_uploads_are_described(server):
    pixels, png = image(0)
    body, content_type = upload("whatever_field", png, "photo.png")
    for reply in (server.post("/describe", body, content_type=content_type),
                  server.post("/describe", png, content_type="image/png"),
                  server.post("/describe", png, content_type="application/octet-stream")):
        assert reply.status == 200, reply
        assert reply.json() == described(pixels)


def test_a_bad_upload_among_concurrent_good_ones_fails_alone(server):
    good = [image(seed) for seed in range(12)]
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    bad = {6: (b"definitely not a png", "image/png"), 9: upload("image", gif.getvalue(), "sneaky.png")}

    def send(i):
        data, content_type = bad.get(i, (good[i][1], "image/png"))
        return server.post("/describe", data, content_type=content_type)

    with ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(send, range(12)))
    for i, reply in enumerate(replies):
        if i in bad:
            assert reply.status == 400, (i, reply)
            assert "image" in reply.json()["error"]
        else:
            assert reply.status == 200, (i, reply)
            assert reply.json() == described(good[i][0])
    assert "is in GIF format" in replies[9].json()["error"]


def test_multi_image_fields_and_missing_field(server):
    (_, x), (_, y) = image(3), image(4, (5, 6))
    content_type, body = encode_multipart([Part("imageY", y, "y.png", "image/png"),
                                           Part("imageX", x, "x.png", "image/png")])
    reply = server.post("/compare", body, content_type=content_type)
    assert reply.status == 200, reply
    assert reply.json()["shapes"] == [[12, 16], [6, 5]]
    assert reply.json()["diff"] == pytest.approx(gray_mean(x) - gray_mean(y))
    content_type, body = encode_multipart([Part("imageX", x, "x.png", "image/png")])
    missing = server.post("/compare", body, content_type=content_type)
    assert missing.status == 400 and "missing image field(s) 'imageY'" in missing.json()["error"]


def test_decompression_bomb_and_malformed_multipart_are_400(server):
    blank = io.BytesIO()
    Image.new("L", (9000, 9000)).save(blank, "PNG")  # ~80 KB on the wire, 81 megapixels decoded
    reply = server.post("/describe", blank.getvalue(), content_type="image/png")
    assert reply.status == 400 and "max_pixels" in reply.json()["error"]
    broken = server.post("/describe", b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ncut",
                         content_type="multipart/form-data; boundary=XyZ")
    assert broken.status == 400 and "malformed multipart body" in broken.json()["error"]


def test_docs_show_file_pickers(server):
    content = server.get("/docs.json").json()["paths"]["/describe"]["post"]["requestBody"]["content"]
    assert content["image/*"]["schema"]["format"] == "binary" and "example" not in content["image/*"]
    assert content["multipart/form-data"]["schema"]["properties"]["image"]["format"] == "binary"
    multi = server.get("/docs.json").json()["paths"]["/compare"]["post"]["requestBody"]["content"]
    assert set(multi["multipart/form-data"]["schema"]["properties"]) == {"imageX", "imageY"}


def test_bentoml_run_input_file(cli_runs):
    runs, x, y = cli_runs
    assert runs["describe"].returncode == 0, runs["describe"].stderr
    assert json.loads(runs["describe"].stdout) == described(np.asarray(Image.open(io.BytesIO(x))))
    assert runs["compare"].returncode == 0, runs["compare"].stderr
    assert json.loads(runs["compare"].stdout)["diff"] == pytest.approx(gray_mean(x) - gray_mean(y))
    missing = runs["missing"]
    assert missing.returncode != 0 and missing.stdout == ""
    (line,) = missing.stderr.strip().splitlines()
    assert "nope.png" in line and "no such file" in line
