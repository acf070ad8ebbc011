"""MultiImageInput: several named images per request, as a dict of numpy arrays."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from bentoml.adapters import HTTPRequest, InferenceTask, InputAdapter
from bentoml.exceptions import BadInput, InvalidArgument
from bentoml.multipart import is_multipart, parse_multipart

from bentoml_adapter_image.decode import DEFAULT_MAX_PIXELS, ImageDecoder
from bentoml_adapter_image.image_input import EXAMPLE_PNG, binary_schema


class MultiImageInput(InputAdapter):
    """Several images per request, one per name in ``input_names``, sent as ``multipart/form-data``.

    The API function receives a list with one dict per request, mapping each
    input name to its image as a numpy array (as BentoML 0.x documented)::

        @bentoml.api(input=MultiImageInput(input_names=("imageX", "imageY")))
        def predict(self, image_groups):
            return [compare(group["imageX"], group["imageY"]) for group in image_groups]

    ::

        curl -F imageX=@x.png -F imageY=@y.png http://127.0.0.1:5000/predict
        bentoml run Svc:latest predict --input-file imageX=x.png --input-file imageY=y.png

    A missing name is a 400 that lists the fields that were sent; other fields
    are ignored.  Each image is checked like ``ImageInput`` checks its one.

    :param input_names: the multipart field names, one image each.
    :param accept_image_formats: see ``ImageInput``.
    :param pilmode: see ``ImageInput``.
    :param max_pixels: see ``ImageInput``; applies to each image.
    """

    #: A request is a file, not a table row: batch jobs (`bentoml run --output`) refuse this adapter.
    takes_rows = False

    requirement_imports = ("PIL", "numpy")

    def __init__(self, input_names: Sequence[str] = ("imageX", "imageY"),
                 accept_image_formats: Optional[Sequence[str]] = None, pilmode: Optional[str] = "RGB",
                 max_pixels: int = DEFAULT_MAX_PIXELS):
        if (isinstance(input_names, str) or not input_names
                or not all(isinstance(n, str) and n for n in input_names)
                or len(set(input_names)) != len(input_names)):
            raise InvalidArgument("MultiImageInput(input_names=...) must be a list of distinct, non-empty "
                                  f"field names, got {input_names!r}")
        self.input_names = tuple(input_names)
        self._decoder = ImageDecoder(type(self).__name__, accept_image_formats, pilmode, max_pixels)

    accept_image_formats = property(lambda self: self._decoder.accept_image_formats)
    pilmode = property(lambda self: self._decoder.pilmode)
    max_pixels = property(lambda self: self._decoder.max_pixels)

    @property
    def config(self) -> Dict[str, Any]:
        return {"input_names": list(self.input_names), **self._decoder.config}

    def _parse_http(self, request: HTTPRequest) -> InferenceTask:
        if not is_multipart(request):
            raise BadInput(f"send the images as multipart/form-data with the fields {self._names()}, "
                           f"not as {request.content_type or 'a body without Content-Type'}", 415)
        form = parse_multipart(request)
        missing = [n for n in self.input_names if form.get(n) is None]
        if missing:
            sent = ", ".join(repr(n) for n in form.names()) or "none"
            raise BadInput(f"missing image field(s) {', '.join(map(repr, missing))}; "
                           f"expected {self._names()}, got {sent}")
        images = {}
        for name in self.input_names:
            part = form.get(name)
            images[name] = self._decoder.decode(part.data, part.filename, name)
        return InferenceTask(data=images)

    def _names(self) -> str:
        return ", ".join(repr(n) for n in self.input_names)

    def _batch(self, tasks: Sequence[InferenceTask]) -> List[Dict[str, Any]]:
        return [t.data for t in tasks]

    def request_schema(self) -> Dict[str, Dict[str, Any]]:
        return {"multipart/form-data": {
            "schema": {"type": "object", "required": list(self.input_names),
                       "properties": {n: binary_schema(f"image ({self._decoder.accepted})")
                                      for n in self.input_names}},
            "example": {n: EXAMPLE_PNG for n in self.input_names},
        }}
