"""multipart/form-data: parsing request bodies into parts, encoding parts, and their errors."""
import io

import pytest

from bentoml.adapters import HTTPRequest
from bentoml.exceptions import BadInput
from bentoml.multipart import (MAX_PARTS, MultipartForm, Part, encode_multipart, file_part, is_multipart,
                               parse_multipart)

BINARY = bytes(range(256)) * 4 + b"\r\n--not-the-boundary\r\n"


def request(parts, boundary=None):
    content_type, body = encode_multipart(parts, boundary)
    return HTTPRequest(body, {"Content-Type": content_type})


def parse_error(body, content_type="multipart/form-data; boundary=XyZ"):
    with pytest.raises(BadInput) as info:
        parse_multipart(HTTPRequest(body, {"Content-Type": content_type}))
    return str(info.value)


# -- round trips ---------------------------------------------------------------------------------
def test_encode_then_parse_keeps_names_filenames_types_and_bytes():
    parts = [Part("note", b"hello"), Part("image", BINARY, "cat.png", "image/png"), Part("empty", b"")]
    form = parse_multipart(request(parts))
    assert form.parts == tuple(parts)
    assert [p.name for p in form.files] == ["image"]
    assert form.fields == {"note": "hello", "empty": ""}


@pytest.mark.parametrize("filename", ['a "quoted" name.png', "über.png", "line\nbreak.txt", "semi;colon.jpg"])
def test_awkward_filenames_survive_and_cannot_inject_headers(filename):
    part = parse_multipart(request([Part("f", b"data", filename, "text/plain")])).parts[0]
    assert part.data == b"data" and part.content_type == "text/plain"
    # quotes and line breaks are percent-escaped on the wire, as browsers do
    expected = filename.replace("\n", "%0A")
    assert part.filename == expected


def test_parses_a_body_encoded_by_another_client():
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart as werkzeug_encode

    boundary, body = werkzeug_encode({"upload": FileStorage(io.BytesIO(BINARY), "x.bin", content_type="a/b"),
                                      "field": "value"})
    form = parse_multipart(HTTPRequest(body, {"Content-Type": f'multipart/form-data; boundary="{boundary}"'}))
    assert form.get("upload") == Part("upload", BINARY, "x.bin", "a/b")
    assert form.fields == {"field": "value"}


def test_parses_a_handwritten_curl_style_body():
    body = (b"--------------------------d74496d66958873e\r\n"
            b'Content-Disposition: form-data; name="imageX"; filename="x.jpg"\r\n'
            b"Content-Type: image/jpeg\r\n\r\n"
            b"JPEGDATA\r\n"
            b"--------------------------d74496d66958873e--\r\n")
    form = parse_multipart(HTTPRequest(body, {
        "Content-Type": "multipart/form-data; boundary=------------------------d74496d66958873e"}))
    assert form.parts == (Part("imageX", b"JPEGDATA", "x.jpg", "image/jpeg"),)


def test_encoder_picks_a_boundary_absent_from_the_data():
    content_type, body = encode_multipart([Part("a", b"x")])
    boundary = content_type.split("boundary=")[1]
    assert body.startswith(f"--{boundary}\r\n".encode()) and body.endswith(f"--{boundary}--\r\n".encode())
    other, _ = encode_multipart([Part("a", b"x")])
    assert other != content_type  # random per body


def test_file_part_guesses_type_and_keeps_base_name():
    part = file_part("img", "/some/dir/photo.JPG", b"...")
    assert (part.filename, part.content_type) == ("photo.JPG", "image/jpeg")
    assert file_part("f", "data.unknownext", b"").content_type == "application/octet-stream"


def test_part_as_request_is_parsed_like_a_raw_body():
    sub = Part("doc", "é".encode("latin-1"), "a.txt", "text/plain; charset=latin-1").as_request()
    assert (sub.text(), sub.filename, sub.content_type) == ("é", "a.txt", "text/plain")


def test_is_multipart():
    assert is_multipart(HTTPRequest(b"", {"Content-Type": "Multipart/Form-Data; boundary=x"}))
    assert not is_multipart(HTTPRequest(b"", {"Content-Type": "multipart/mixed; boundary=x"}))
    assert not is_multipart(HTTPRequest(b"", {}))


# -- choosing parts ----------------------------------------------------------------------------------
def test_single_upload_prefers_the_one_file_among_fields():
    form = MultipartForm((Part("comment", b"hi"), Part("pic", b"1", "p.png")))
    assert form.single_upload().name == "pic"
    assert MultipartForm((Part("text", b"only a field"),)).single_upload().data == b"only a field"


@pytest.mark.parametrize("parts,needle", [
    ((), "has no parts; upload one image"),
    ((Part("a", b"1", "a.png"), Part("b", b"2", "b.png")),
     "expected one image per request, got 2 parts: 'a' ('a.png'), 'b'"),
    ((Part("a", b"1"), Part("b", b"2")), "got 2 parts: 'a', 'b'"),
])
def test_single_upload_errors_name_what_was_sent(parts, needle):
    with pytest.raises(BadInput, match=needle.replace("(", r"\(").replace(")", r"\)")):
        MultipartForm(parts).single_upload("image")


def test_get_by_name_and_duplicates():
    form = MultipartForm((Part("x", b"1"), Part("y", b"2"), Part("y", b"3")))
    assert form.get("x").data == b"1" and form.get("missing") is None
    with pytest.raises(BadInput, match="field 'y' was sent 2 times"):
        form.get("y")


# -- malformed bodies: BadInput naming the problem -----------------------------------------------
GOOD = (b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n"
        b"--XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"b.bin\"\r\n\r\nbytes\r\n--XyZ--\r\n")


def test_the_reference_body_parses():
    form = parse_multipart(HTTPRequest(GOOD, {"Content-Type": "multipart/form-data; boundary=XyZ"}))
    assert form.names() == ["a", "b"]


@pytest.mark.parametrize("body,content_type,needle", [
    (GOOD, "multipart/form-data", "has no boundary parameter"),
    (GOOD, "multipart/form-data; boundary=" + "x" * 71, "longer than 70 characters"),
    (GOOD, "multipart/form-data; boundary=Other", "no boundary line was found"),
    (b"just some bytes", None, "no boundary line was found"),
    (GOOD[:-11], None, "part 'b' is not closed by a boundary line (truncated body?)"),
    (GOOD[:-20], None, "ends after 1 part(s) without the closing boundary"),
    (GOOD.replace(b"Content-Disposition", b"X-Disposition"), None, "Missing Content-Disposition"),
    (GOOD.replace(b'name="a"', b'name=""'), None, "part #1 has no name"),
    (GOOD.replace(b'name="a"', b'name="\xff"'), None, "headers of part #1 are not UTF-8"),
    (GOOD, "application/json", "expected a multipart/form-data body, got Content-Type 'application/json'"),
])
def test_malformed_bodies_are_bad_input(body, content_type, needle):
    message = parse_error(body, content_type or "multipart/form-data; boundary=XyZ")
    assert needle in message


def test_too_many_parts_is_bad_input():
    req = request([Part(f"p{i}", b"") for i in range(MAX_PARTS + 1)])
    with pytest.raises(BadInput, match=f"more than {MAX_PARTS} parts"):
        parse_multipart(req)
    assert len(parse_multipart(req, max_parts=MAX_PARTS + 1).parts) == MAX_PARTS + 1


def test_an_empty_form_has_no_parts():
    form = parse_multipart(HTTPRequest(b"--XyZ--\r\n", {"Content-Type": "multipart/form-data; boundary=XyZ"}))
    assert form.parts == ()



def test_a_part_with_an_unknown_charset_is_bad_input():
    sub = Part("doc", b"text", None, "text/plain; charset=klingon").as_request()
    with pytest.raises(BadInput, match="unknown charset 'klingon' in Content-Type"):
        sub.text()
