"""The adapter contract helpers: splitting a batch result per task, JSON conversion, CLI input."""
import datetime
import json
import math

import pytest

from bentoml.adapters import (HTTPRequest, InferenceResult, InferenceTask, JsonOutput,
                              ResultLengthMismatch, cli_request, split_results, to_jsonable)
from bentoml.exceptions import BadInput


def tasks(*counts):
    return [InferenceTask(data=i, count=c) for i, c in enumerate(counts)]


# -- split_results ------------------------------------------------------------------------------


def test_split_one_item_per_task():
    assert split_results(["a", "b", "c"], tasks(None, None, None)) == ["a", "b", "c"]


def test_split_by_count_gives_slices():
    result = list(range(6))
    assert split_results(result, tasks(2, None, 3)) == [[0, 1], 2, [3, 4, 5]]


def test_split_count_zero_gives_an_empty_slice():
    assert split_results(["x"], tasks(0, None)) == [[], "x"]


@pytest.mark.parametrize("result,counts", [
    ([1, 2], (None, None, None)),
    ([1, 2, 3, 4], (None, 2)),
    ([], (None,)),
])
def test_split_length_mismatch_names_both_counts(result, counts):
    expected = sum(1 if c is None else c for c in counts)
    with pytest.raises(ResultLengthMismatch) as err:
        split_results(result, tasks(*counts))
    assert f"returned {len(result)} results for {expected} inputs" in str(err.value)


def test_split_result_without_length():
    with pytest.raises(ResultLengthMismatch, match="int, which has no length"):
        split_results(42, tasks(None))


def test_split_numpy_arrays():
    np = pytest.importorskip("numpy")
    result = np.arange(5) * 10
    shares = split_results(result, tasks(None, 3, None))
    assert shares[0] == 0 and shares[2] == 40
    assert shares[1].tolist() == [10, 20, 30]
    with pytest.raises(ResultLengthMismatch, match="returned 5 results for 4 inputs"):
        split_results(result, tasks(None, 2, None))


def test_split_uses_iloc_when_present():
    class Positional:
        """Label-indexed like a pandas Series: [] is by label, iloc by position."""

        def __init__(self, values):
            self.values = values
            self.iloc = self

        def __len__(self):
            return len(self.values)

        def __getitem__(self, key):
            return self.values[key]

    shares = split_results(Positional(["p", "q", "r"]), tasks(None, 2))
    assert shares[0] == "p" and shares[1] == ["q", "r"]


# -- to_jsonable --------------------------------------------------------------------------------


def test_to_jsonable_plain_values_and_non_finite_floats():
    value = {"a": [1, 2.5, float("nan")], "b": (float("inf"), -float("inf")), 3: None, "c": True,
             "d": {"e": [{"f": float("nan")}]}}
    out = to_jsonable(value)
    assert out == {"a": [1, 2.5, None], "b": [None, None], "3": None, "c": True,
                   "d": {"e": [{"f": None}]}}
    json.dumps(out, allow_nan=False)


def test_to_jsonable_misc_types():
    assert to_jsonable(b"hi") == "hi"
    assert to_jsonable(datetime.date(2020, 1, 2)) == "2020-01-02"
    with pytest.raises(TypeError, match="object"):
        to_jsonable(object())


def test_to_jsonable_numpy():
    np = pytest.importorskip("numpy")
    out = to_jsonable({"arr": np.array([[1.0, np.nan], [np.inf, 2.0]]), "i": np.int64(7),
                       "f": np.float32(0.5), "nan": np.float64("nan"), "b": np.bool_(True)})
    assert out == {"arr": [[1.0, None], [None, 2.0]], "i": 7, "f": 0.5, "nan": None, "b": True}
    assert type(out["i"]) is int
    json.dumps(out, allow_nan=False)


def test_to_jsonable_duck_typed_tensor_and_dataframe():
    class Tensor:
        def numpy(self):
            return [1, float("nan")]

    class Frame:
        columns = ["x"]

        def to_dict(self, orient):
            assert orient == "records"
            return [{"x": 1}, {"x": float("nan")}]

    assert to_jsonable(Tensor()) == [1, None]
    assert to_jsonable(Frame()) == [{"x": 1}, {"x": None}]


def test_json_output_serializes_a_share():
    result = JsonOutput().to_result([1.5, float("nan")], InferenceTask())
    assert result.status == 200 and result.content_type == "application/json"
    assert json.loads(result.body) == [1.5, None]


# -- requests --------------------------------------------------------------------------------------


def test_http_request_headers_and_charset():
    req = HTTPRequest("é".encode("latin-1"), {"Content-Type": "text/plain; charset=latin-1"})
    assert req.content_type == "text/plain" and req.charset == "latin-1"
    assert req.text() == "é"
    with pytest.raises(BadInput, match="not valid utf-8"):
        HTTPRequest(b"\xff\xfe\xfa", {"content-type": "text/plain"}).text()


def test_cli_request_file_path_wins_over_literal(tmp_path):
    csv = tmp_path / "in.csv"
    csv.write_text("a,b\n1,2\n")
    req = cli_request(str(csv))
    assert req.body == b"a,b\n1,2\n" and req.content_type == "text/csv" and req.source == "cli"
    literal = cli_request('[[1, 2]]')
    assert literal.body == b"[[1, 2]]" and literal.content_type == "application/json"


def test_input_adapter_turns_parse_errors_into_failed_tasks(tiny):
    adapter = tiny.EchoInput()
    assert adapter.from_http_request(HTTPRequest(b"[1]")).data == [1]
    empty = adapter.from_http_request(HTTPRequest(b""))
    assert empty.error.status == 400 and "empty" in empty.error.message
    bad = adapter.from_cli_input("{not json")
    assert bad.error.status == 400 and "EchoInput" in bad.error.message and "JSON" in bad.error.message


def test_failed_task_result_body_is_json():
    result = InferenceResult.from_error(InferenceTask.failed("nope", 422).error)
    assert result.status == 422 and json.loads(result.body) == {"error": "nope"}
    assert math.isclose(InferenceTask(count=3).expected_results, 3)
