"""ImageInput and MultiImageInput: uploaded images become numpy arrays, decoded by Pillow.

``from bentoml.adapters import ImageInput`` resolves to the class here once this
distribution is installed.  Pillow and numpy are imported when the first image
is decoded, not when this package is imported.
"""
from __future__ import annotations

from bentoml.hookspecs import hookimpl

from bentoml_adapter_image.decode import DEFAULT_ACCEPT_IMAGE_FORMATS, DEFAULT_MAX_PIXELS
from bentoml_adapter_image.image_input import ImageInput
from bentoml_adapter_image.multi_image_input import MultiImageInput

__all__ = ["DEFAULT_ACCEPT_IMAGE_FORMATS", "DEFAULT_MAX_PIXELS", "ImageInput", "MultiImageInput"]


@hookimpl
def register_input_adapters(register):
    # Where BentoML 0.7-0.13 kept them (0.8's ImageHandler took one image per request, as ImageInput does).
    register(ImageInput, legacy_paths=("bentoml.adapters.image_input", "bentoml.handlers:ImageHandler",
                                       "bentoml.handlers.image_handler:ImageHandler"))
    register(MultiImageInput, legacy_paths=("bentoml.adapters.multi_image_input",))
