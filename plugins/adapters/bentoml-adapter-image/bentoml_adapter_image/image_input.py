"""ImageInput: one image per request, as a numpy array."""
from __future__ import annotations

import base64
from typing import Any, Dict, List, Optional, Sequence

from bentoml.adapters import HTTPRequest, InferenceTask, InputAdapter
from bentoml.multipart import is_multipart, parse_multipart

from bentoml_adapter_image.decode import DEFAULT_MAX_PIXELS, ImageDecoder

#: A 2x2 red PNG: the documented example, small enough to inline.
EXAMPLE_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGM8ocHFwMDAxMDAwMDAAAAMoAD+Ee/W2wAAAABJRU5ErkJggg==")


def binary_schema(description: str) -> Dict[str, Any]:
    return {"type": "string", "format": "binary", "description": description}


class ImageInput(InputAdapter):
    """An image per request: the API function receives a list of numpy arrays (height x width x channels).

    A request carries the image either as its raw body (``Content-Type: image/png``,
    ``image/jpeg``, ... or ``application/octet-stream``) or as the one file of a
    ``multipart/form-data`` upload, in any field::

        curl -F image=@cat.jpg http://127.0.0.1:5000/predict
        curl -H "Content-Type: image/jpeg" --data-binary @cat.jpg http://127.0.0.1:5000/predict
        bentoml run PetClassifier:latest predict --input-file cat.jpg

    ::

        @bentoml.api(input=ImageInput())
        def predict(self, image_arrays):
            return [CLASS_NAMES[i] for i in self.artifacts.model.predict(np.stack(image_arrays))]

    Each request is answered with the result at its position.  A 400 names the
    problem: a filename extension or decoded format outside ``accept_image_formats``,
    data Pillow cannot decode, or more than ``max_pixels`` pixels.

    :param accept_image_formats: accepted extensions; the decoded format must be
        one of theirs too.  Default ``.jpg .png .jpeg .tiff .webp .bmp``.
    :param pilmode: the Pillow mode arrays are converted to (``"RGB"``: 3 channels,
        ``"L"``: grayscale, ...); None keeps each image's own mode.
    :param max_pixels: width x height above which an image is refused before its
        pixels are decoded (decompression bombs).  Default 8192 x 8192.
    """

    #: A request is a file, not a table row: batch jobs (`bentoml run --output`) refuse this adapter.
    takes_rows = False

    requirement_imports = ("PIL", "numpy")

    def __init__(self, accept_image_formats: Optional[Sequence[str]] = None, pilmode: Optional[str] = "RGB",
                 max_pixels: int = DEFAULT_MAX_PIXELS):
        self._decoder = ImageDecoder(type(self).__name__, accept_image_formats, pilmode, max_pixels)

    accept_image_formats = property(lambda self: self._decoder.accept_image_formats)
    pilmode = property(lambda self: self._decoder.pilmode)
    max_pixels = property(lambda self: self._decoder.max_pixels)

    @property
    def config(self) -> Dict[str, Any]:
        return self._decoder.config

    def _parse_http(self, request: HTTPRequest) -> InferenceTask:
        if is_multipart(request):
            upload = parse_multipart(request).single_upload("image")
            return InferenceTask(data=self._decoder.decode(upload.data, upload.filename, upload.name))
        self._decoder.check_request_type(request)
        return InferenceTask(data=self._decoder.decode(request.body, request.filename))

    def _batch(self, tasks: Sequence[InferenceTask]) -> List[Any]:
        return [t.data for t in tasks]

    def request_schema(self) -> Dict[str, Dict[str, Any]]:
        return {
            "image/*": {"schema": binary_schema(f"an image ({self._decoder.accepted})"), "example": EXAMPLE_PNG},
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["image"],
                           "properties": {"image": binary_schema("the image file; any field name works")}},
                "example": {"image": EXAMPLE_PNG},
            },
        }
