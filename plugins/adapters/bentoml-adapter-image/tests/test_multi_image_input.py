"""MultiImageInput: named multipart images per request, a dict of arrays each; a missing name is a 400."""
import io
import json

import numpy as np
import pytest
from PIL import Image

from bentoml.adapters import HTTPRequest
from bentoml.exceptions import InvalidArgument
from bentoml.multipart import Part, encode_multipart
from bentoml.testing import InputAdapterContract
from bentoml_adapter_image import MultiImageInput


def solid(color, size=(5, 3), fmt="PNG"):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


def form(**files):
    """``form(imageX=bytes, ...)``: one file part per keyword, named ``<field>.png``."""
    content_type, body = encode_multipart([Part(name, data, f"{name}.png", "image/png")
                                           for name, data in files.items()])
    return HTTPRequest(body, {"Content-Type": content_type})


RED, BLUE = solid((255, 0, 0)), solid((0, 0, 255), (2, 7))


class TestMultiImageInput(InputAdapterContract):
    adapter = MultiImageInput(input_names=("imageX", "imageY"))
    distribution = "bentoml-adapter-image"
    framework_module = "PIL"
    good_requests = [
        (form(imageX=RED, imageY=BLUE), None),
        (form(imageY=RED, imageX=BLUE), None),  # order does not matter
        (form(imageX=RED, imageY=RED, note=b"extra fields are ignored"), None),
    ]
    bad_requests = [
        form(imageX=RED),
        form(imageY=RED, imagex=BLUE),  # names are case-sensitive
        form(imageX=RED, imageY=b"not an image"),
        form(imageX=RED, imageY=solid((0, 0, 0), fmt="GIF")),
        HTTPRequest(encode_multipart([Part("imageX", RED, "a.png"), Part("imageX", RED, "b.png"),
                                      Part("imageY", RED, "c.png")])[1],
                    {"Content-Type": "multipart/form-data; boundary=NotTheBoundary"}),
    ]

    def check_batch(self, batch_value, tasks):
        assert [sorted(group) for group in batch_value] == [["imageX", "imageY"]] * 3
        first = batch_value[0]
        assert first["imageX"].shape == (3, 5, 3) and first["imageY"].shape == (7, 2, 3)
        assert first["imageX"][0, 0].tolist() == [255, 0, 0] and first["imageY"][0, 0].tolist() == [0, 0, 255]
        assert batch_value[1]["imageX"][0, 0].tolist() == [0, 0, 255]


def error(request, adapter=TestMultiImageInput.adapter):
    task = adapter.from_http_request(request)
    assert task.error is not None
    return task.error


def test_seed_import_path_resolves(plugin_registry):
    from bentoml.adapters import MultiImageInput as resolved

    assert resolved is MultiImageInput


def test_missing_name_lists_what_was_sent():
    err = error(form(imageX=RED, other=BLUE))
    assert err.status == 400
    assert "missing image field(s) 'imageY'; expected 'imageX', 'imageY', got 'imageX', 'other'" in err.message


def test_duplicate_name_is_refused():
    content_type, body = encode_multipart([Part("imageX", RED, "a.png"), Part("imageX", BLUE, "b.png"),
                                           Part("imageY", RED, "c.png")])
    assert "'imageX' was sent 2 times" in error(HTTPRequest(body, {"Content-Type": content_type})).message


def test_a_bad_image_is_named_by_its_field():
    message = error(form(imageX=RED, imageY=solid((0, 0, 0), fmt="GIF"))).message
    assert "image 'imageY.png' (field 'imageY') is in GIF format" in message


def test_a_raw_body_is_415_naming_the_fields():
    err = error(HTTPRequest(RED, {"Content-Type": "image/png"}))
    assert err.status == 415 and "'imageX', 'imageY'" in err.message


def test_config_and_schema():
    adapter = MultiImageInput(input_names=["a", "b", "c"], accept_image_formats=[".png"], pilmode="L")
    assert adapter.config == {"input_names": ["a", "b", "c"], "accept_image_formats": [".png"],
                              "pilmode": "L", "max_pixels": 8192 * 8192}
    assert json.loads(json.dumps(adapter.config)) == adapter.config
    schema = adapter.request_schema()["multipart/form-data"]["schema"]
    assert schema["required"] == ["a", "b", "c"]
    assert all(p["format"] == "binary" for p in schema["properties"].values())


def test_cli_named_files_become_fields(tmp_path):
    (tmp_path / "x.png").write_bytes(RED)
    (tmp_path / "y.png").write_bytes(BLUE)
    task = MultiImageInput().from_cli_files([("imageX", str(tmp_path / "x.png")),
                                             ("imageY", str(tmp_path / "y.png"))])
    assert task.error is None
    assert task.data["imageX"].shape == (3, 5, 3) and task.data["imageY"].shape == (7, 2, 3)


@pytest.mark.parametrize("names", ["imageX", (), ("a", "a"), ("a", "")])
def test_bad_input_names(names):
    with pytest.raises(InvalidArgument, match="input_names"):
        MultiImageInput(input_names=names)


def test_arrays_are_numpy():
    data = TestMultiImageInput.adapter.from_http_request(form(imageX=RED, imageY=BLUE)).data
    assert all(isinstance(v, np.ndarray) for v in data.values())
