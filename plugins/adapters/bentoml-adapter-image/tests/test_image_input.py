"""ImageInput: raw and multipart uploads decoded by Pillow; every refusal is a 400 naming its reason."""
import io
import json
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from bentoml.adapters import HTTPRequest
from bentoml.exceptions import InvalidArgument
from bentoml.multipart import Part, encode_multipart
from bentoml.testing import InputAdapterContract
from bentoml_adapter_image import DEFAULT_ACCEPT_IMAGE_FORMATS, ImageInput


def gradient(width=6, height=4, mode="RGB"):
    """An image whose every pixel differs, so a wrong decode shows."""
    pixels = np.arange(width * height * 3, dtype=np.uint8).reshape(height, width, 3)
    return Image.fromarray(pixels, "RGB").convert(mode)


def encode(image, fmt, **options):
    buf = io.BytesIO()
    image.save(buf, fmt, **options)
    return buf.getvalue()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width, height):
    """A tiny PNG whose header claims ``width`` x ``height`` pixels: a decompression bomb's shape."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b""))
            + _chunk(b"IEND", b""))


def raw(data, content_type="image/png", filename=None):
    headers = {"Content-Type": content_type} if content_type is not None else {}
    return HTTPRequest(data, headers, filename=filename)


def multipart(*parts):
    content_type, body = encode_multipart(parts)
    return HTTPRequest(body, {"Content-Type": content_type})


PNG = encode(gradient(), "PNG")
JPEG = encode(gradient(8, 8), "JPEG", quality=95)
GIF = encode(gradient(), "GIF")
NOISE = encode(Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)), "PNG")
TRUNCATED = NOISE[: len(NOISE) * 2 // 3]


class TestImageInput(InputAdapterContract):
    adapter = ImageInput()
    distribution = "bentoml-adapter-image"
    framework_module = "PIL"
    good_requests = [
        (raw(PNG), None),
        (raw(JPEG, "image/jpeg"), None),
        (raw(PNG, "application/octet-stream"), None),
        (raw(PNG, None), None),  # no content type at all
        (raw(encode(gradient(), "WEBP", lossless=True), "image/webp"), None),
        (raw(encode(gradient(), "BMP"), "image/bmp"), None),
        (raw(encode(gradient(), "TIFF"), "image/tiff"), None),
        (raw(PNG, filename="/tmp/cat.PNG"), None),  # the extension check ignores case
        (multipart(Part("photo", PNG, "cat.png", "image/png")), None),
        (multipart(Part("comment", b"a cat"), Part("image", JPEG, "cat.jpeg", "image/jpeg")), None),
        (multipart(Part("image", PNG, "no_extension")), None),  # the decoded format decides
    ]
    bad_requests = [
        raw(b"this is not an image"),
        raw(TRUNCATED),
        raw(PNG[:40] + b"\x00" * (len(PNG) - 40)),  # corrupt pixel data
        raw(GIF, "image/gif"),  # a format outside accept_image_formats
        raw(PNG, filename="cat.gif"),  # an extension outside accept_image_formats
        multipart(Part("image", PNG, "cat.gif", "image/gif")),
        multipart(Part("image", GIF, "cat.png", "image/png")),  # the name lies; the header does not
        raw(png_claiming(100_000, 100_000)),  # over Pillow's own bomb limit
        raw(png_claiming(9_000, 9_000)),  # over ImageInput's default max_pixels
        multipart(Part("a", PNG, "a.png"), Part("b", PNG, "b.png")),  # two images for one
        multipart(Part("image", b"", "empty.png")),
        HTTPRequest(b"--nope\r\n", {"Content-Type": "multipart/form-data; boundary=XyZ"}),
        HTTPRequest(PNG, {"Content-Type": "multipart/form-data"}),  # no boundary
    ]

    def check_batch(self, batch_value, tasks):
        assert isinstance(batch_value, list) and len(batch_value) == len(tasks)
        assert all(isinstance(a, np.ndarray) and a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3
                   for a in batch_value)
        np.testing.assert_array_equal(batch_value[0], np.asarray(gradient()))
        assert batch_value[1].shape == (8, 8, 3)


def error(adapter, request):
    task = adapter.from_http_request(request)
    assert task.error is not None, "accepted"
    return task.error


def test_seed_import_path_resolves(plugin_registry):
    from bentoml.adapters import ImageInput as resolved

    assert resolved is ImageInput


def test_importing_the_plugin_imports_neither_pillow_nor_numpy():
    code = "import sys, bentoml_adapter_image; print('PIL' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_png_pixels_arrive_exactly_and_writable():
    array = ImageInput().from_http_request(raw(PNG)).data
    np.testing.assert_array_equal(array, np.asarray(gradient()))
    array[0, 0] = 0  # a model may preprocess in place


@pytest.mark.parametrize("pilmode,shape", [("L", (4, 6)), ("RGBA", (4, 6, 4)), (None, (4, 6, 4))])
def test_pilmode_sets_channels(pilmode, shape):
    rgba = encode(gradient(mode="RGBA"), "PNG")
    assert ImageInput(pilmode=pilmode).from_http_request(raw(rgba)).data.shape == shape


def test_error_messages_name_the_reason():
    adapter = ImageInput()
    assert "extension '.gif'" in error(adapter, raw(PNG, filename="cat.gif")).message
    assert "is in GIF format; this API accepts .jpg, .png" in error(adapter, raw(GIF)).message
    named = error(adapter, multipart(Part("photo", GIF, "cat.png"))).message
    assert "image 'cat.png' (field 'photo') is in GIF format" in named
    assert "Pillow can identify" in error(adapter, raw(b"junk")).message
    assert "corrupt or truncated" in error(adapter, raw(TRUNCATED)).message
    assert "decompression bomb" in error(adapter, raw(png_claiming(100_000, 100_000))).message
    over = error(adapter, raw(png_claiming(9_000, 9_000))).message
    assert "9000x9000 = 81000000 pixels" in over and "max_pixels" in over
    assert "expected one image per request, got 2 parts" in error(
        adapter, multipart(Part("a", PNG, "a.png"), Part("b", PNG, "b.png"))).message


def test_lowered_max_pixels_refuses_a_large_blank_image():
    blank = encode(Image.new("RGB", (300, 200)), "PNG")
    assert ImageInput(max_pixels=60_000).from_http_request(raw(blank)).error is None
    err = error(ImageInput(max_pixels=59_999), raw(blank))
    assert err.status == 400 and "300x200 = 60000 pixels, over this API's limit of 59999" in err.message


def test_accept_image_formats_checks_extension_and_decoded_format():
    png_only = ImageInput(accept_image_formats=["PNG"])  # case and dot are normalized
    assert png_only.accept_image_formats == (".png",)
    assert png_only.from_http_request(raw(PNG, filename="x.png")).error is None
    assert "is in JPEG format; this API accepts .png" in error(png_only, raw(JPEG, filename="x.png")).message
    assert "extension '.jpg'" in error(png_only, raw(PNG, filename="x.jpg")).message


def test_a_non_image_content_type_is_415():
    err = error(ImageInput(), raw(PNG, "application/json"))
    assert err.status == 415 and "multipart/form-data" in err.message


def test_defaults_and_config_follow_bentoml_0x():
    adapter = ImageInput()
    assert DEFAULT_ACCEPT_IMAGE_FORMATS == (".jpg", ".png", ".jpeg", ".tiff", ".webp", ".bmp")
    assert adapter.config == {"accept_image_formats": list(DEFAULT_ACCEPT_IMAGE_FORMATS), "pilmode": "RGB",
                              "max_pixels": 8192 * 8192}
    assert json.loads(json.dumps(adapter.config)) == adapter.config


@pytest.mark.parametrize("kwargs", [
    {"accept_image_formats": ".png"}, {"accept_image_formats": []}, {"accept_image_formats": [3]},
    {"pilmode": "RGBZ"}, {"max_pixels": 0}, {"max_pixels": 1.5}, {"max_pixels": True},
])
def test_bad_arguments_are_invalid_argument(kwargs):
    with pytest.raises(InvalidArgument, match="ImageInput"):
        ImageInput(**kwargs)


def test_cli_file_is_sent_raw_with_its_name(tmp_path):
    path = tmp_path / "picture.png"
    path.write_bytes(PNG)
    np.testing.assert_array_equal(ImageInput().from_cli_files([(None, str(path))]).data, np.asarray(gradient()))
    gif = tmp_path / "picture.gif"
    gif.write_bytes(PNG)
    assert "extension '.gif'" in ImageInput().from_cli_files([(None, str(gif))]).error.message
