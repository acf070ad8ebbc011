"""TfTensorInput's ``{"b64": ...}`` values as BentoML 0.8.6 clients sent them.

0.8.6 decoded them with Python's lenient ``base64.b64decode``, so base64 in
76-column lines (``base64 file.png``, Python's ``base64.encodebytes``) or with
spaces worked.  That leniency also dropped any character outside the alphabet,
which silently corrupts the bytes: those stay a 400 naming the problem.
"""
import base64
import json
import os

import pytest

from bentoml.adapters import HTTPRequest
from bentoml_adapter_tensor import TfTensorInput

#: Binary data long enough to wrap over several 76-column lines.
DATA = os.urandom(200) + b"\x00\xff\n"


def task_of(body: str):
    return TfTensorInput().from_http_request(HTTPRequest(body.encode(), {"Content-Type": "application/json"}))


def decoded(b64_text: str):
    task = task_of(json.dumps({"instances": [{"b64": b64_text}]}))
    assert task.error is None, task.error.message
    return task.data.tolist()


def refusal(body: str) -> str:
    task = task_of(body)
    assert task.error is not None and task.error.status == 400, task.data
    return task.error.message


@pytest.mark.parametrize("spelling", [
    base64.encodebytes(DATA).decode(),  # 76-column lines and a final newline, as `base64 file` prints
    base64.encodebytes(DATA).decode().replace("\n", "\r\n"),  # the same from Windows
    " ".join(base64.b64encode(DATA).decode()[i:i + 4] for i in range(0, 272, 4)),  # grouped by spaces
    "\t" + base64.b64encode(DATA).decode() + "\n",
])
def test_wrapped_base64_decodes_to_the_same_bytes(spelling):
    assert "\n" in spelling or " " in spelling
    assert decoded(spelling) == [DATA]


def test_invalid_base64_is_still_refused_naming_the_problem():
    standard = base64.b64encode(DATA).decode()
    message = refusal(json.dumps({"instances": [{"b64": "iVBORw0K%%GgoAAAA"}]}))
    assert '"b64" is not valid base64' in message
    urlsafe = base64.urlsafe_b64encode(b"\xfb\xff" * 30).decode()
    message = refusal(json.dumps({"instances": [{"b64": urlsafe}]}))
    assert "URL-safe base64, with - and _, is not accepted" in message
    assert "not valid base64" in refusal(json.dumps({"instances": [{"b64": standard.rstrip("=")[:-1]}]}))


def test_a_raw_line_break_inside_a_json_string_is_refused_with_a_hint():
    """``curl -d '{"instances": [{"b64": "'"$(base64 f.png)"'"}]}'`` puts raw line breaks in the JSON:
    JSON forbids them (0.8.6 refused them too); the message says how to write them."""
    wrapped = base64.encodebytes(DATA).decode().strip()
    message = refusal('{"instances": [{"b64": "' + wrapped + '"}]}')
    assert "body is not valid JSON: Invalid control character at line 1 column " in message
    assert message.endswith("a line break inside a JSON string must be written \\n"), message
