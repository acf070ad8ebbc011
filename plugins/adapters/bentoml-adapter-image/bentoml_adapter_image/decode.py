"""Image bytes -> numpy array, refusing what an API did not ask for.

Shared by ImageInput and MultiImageInput.  Pillow and numpy are imported on the
first decode, never when this module is imported.  Checks, in order:

1. the filename's extension, when the client sent a filename;
2. the format Pillow identifies from the header (the pixel decoder of a format
   the API does not accept never runs);
3. the pixel count, before any pixel is decoded (decompression bombs);
4. the decode itself (corrupt or truncated data).

Each failure is a :class:`~bentoml.exceptions.BadInput` naming the image.
"""
from __future__ import annotations

import io
import os
from typing import Any, Dict, FrozenSet, Optional, Sequence, Tuple

from bentoml.adapters import HTTPRequest
from bentoml.exceptions import BadInput, InvalidArgument

#: BentoML 0.x's default ``accept_image_formats``.
DEFAULT_ACCEPT_IMAGE_FORMATS: Tuple[str, ...] = (".jpg", ".png", ".jpeg", ".tiff", ".webp", ".bmp")
#: 8192 x 8192: an 8K image fits; as RGB it is 192 MiB of pixels, a bound per image
#: that a batch of them can afford.  Pillow's own global limit is higher (about
#: 89 million pixels, refused at twice that).
DEFAULT_MAX_PIXELS = 8192 * 8192
#: Pillow modes an API can ask for (``Image.convert``); None keeps the decoded mode.
PIL_MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I", "F",
             "I;16", "La", "RGBa")
#: Raw bodies with these types are taken as image bytes; clients often send no
#: image type (``curl --data-binary`` says form-urlencoded).
RAW_TYPES = ("", "application/octet-stream", "application/x-www-form-urlencoded")


def _normalize_extensions(owner: str, accept_image_formats: Optional[Sequence[str]]) -> Tuple[str, ...]:
    if accept_image_formats is None:
        return DEFAULT_ACCEPT_IMAGE_FORMATS
    if isinstance(accept_image_formats, str) or not all(isinstance(e, str) and e.strip(".")
                                                        for e in accept_image_formats):
        raise InvalidArgument(f"{owner}(accept_image_formats=...) must be a list of extensions such as "
                              f"['.jpg', '.png'], got {accept_image_formats!r}")
    exts = tuple(dict.fromkeys("." + e.lower().lstrip(".") for e in accept_image_formats))
    if not exts:
        raise InvalidArgument(f"{owner}(accept_image_formats=...) must not be empty")
    return exts


def _label(filename: Optional[str], field: Optional[str]) -> str:
    """How error messages name an image: by its file and field when the client sent them."""
    if not filename and field is None:
        return "the image"
    label = "image"
    if filename:
        label += f" {os.path.basename(filename)!r}"
    if field is not None:
        label += f" (field {field!r})"
    return label


class ImageDecoder:
    """Decodes one image under an adapter's ``accept_image_formats``, ``pilmode`` and ``max_pixels``."""

    def __init__(self, owner: str, accept_image_formats: Optional[Sequence[str]] = None,
                 pilmode: Optional[str] = "RGB", max_pixels: int = DEFAULT_MAX_PIXELS):
        if pilmode is not None and pilmode not in PIL_MODES:
            raise InvalidArgument(f"{owner}(pilmode=...) must be None or one of {PIL_MODES}, got {pilmode!r}")
        if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels <= 0:
            raise InvalidArgument(f"{owner}(max_pixels=...) must be a positive int, got {max_pixels!r}")
        self.accept_image_formats = _normalize_extensions(owner, accept_image_formats)
        self.pilmode = pilmode
        self.max_pixels = max_pixels
        self._formats: Optional[FrozenSet[str]] = None

    @property
    def config(self) -> Dict[str, Any]:
        return {"accept_image_formats": list(self.accept_image_formats), "pilmode": self.pilmode,
                "max_pixels": self.max_pixels}

    @property
    def accepted(self) -> str:
        return ", ".join(self.accept_image_formats)

    @property
    def formats(self) -> FrozenSet[str]:
        """Pillow format names of the accepted extensions (``.jpg`` -> ``JPEG``)."""
        if self._formats is None:
            from PIL import Image

            by_ext = Image.registered_extensions()
            names = {by_ext[e] for e in self.accept_image_formats if e in by_ext}
            if "JPEG" in names:
                names.add("MPO")  # phone cameras' JPEGs carry extra frames; Pillow calls them MPO
            self._formats = frozenset(names)
        return self._formats

    def check_request_type(self, request: HTTPRequest) -> None:
        """A raw body must be typed as an image (or not typed at all); otherwise 415."""
        ctype = request.content_type
        if ctype not in RAW_TYPES and not ctype.startswith("image/"):
            raise BadInput(f"content type {ctype!r} is not an image; send the image bytes as image/* "
                           "or application/octet-stream, or upload it as multipart/form-data", 415)

    def decode(self, data: bytes, filename: Optional[str] = None, field: Optional[str] = None) -> Any:
        """The image as a numpy array in ``pilmode``; a BadInput naming the file or field when refused."""
        from PIL import Image, UnidentifiedImageError

        label = _label(filename, field)
        if filename:
            ext = os.path.splitext(filename)[1].lower()
            # A name without extension says nothing; the decoded format decides.
            if ext and ext not in self.accept_image_formats:
                raise BadInput(f"{label} has extension {ext!r}; this API accepts {self.accepted}")
        if not data:
            raise BadInput(f"{label} is empty")
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as exc:
            raise BadInput(f"{label} is refused as a possible decompression bomb: {exc}") from None
        except UnidentifiedImageError:
            raise BadInput(f"{label} is not in a format Pillow can identify (corrupt, or not an image); "
                           f"this API accepts {self.accepted}") from None
        except Exception as exc:  # a malformed header can raise anything from a format plugin
            raise BadInput(f"{label} could not be read: {type(exc).__name__}: {exc}") from None
        with image:
            return self._pixels(image, label)

    def _pixels(self, image: Any, label: str) -> Any:
        import numpy as np

        if image.format not in self.formats:
            raise BadInput(f"{label} is in {image.format} format; this API accepts {self.accepted}")
        width, height = image.size
        if width * height > self.max_pixels:
            raise BadInput(f"{label} is {width}x{height} = {width * height} pixels, over this API's limit "
                           f"of {self.max_pixels} (max_pixels); it may be a decompression bomb")
        try:
            converted = image.convert(self.pilmode) if self.pilmode else image
            return np.array(converted)  # a copy: writable, and independent of Pillow's buffer
        except Exception as exc:  # truncated or corrupt pixel data
            raise BadInput(f"{label} is corrupt or truncated: {type(exc).__name__}: {exc}") from None
