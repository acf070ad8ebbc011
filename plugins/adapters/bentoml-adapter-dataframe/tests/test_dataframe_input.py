import json
import warnings

import pandas as pd
import pytest

from bentoml.adapters import HTTPRequest
from bentoml.exceptions import BadInput, InvalidArgument
from bentoml.testing import InputAdapterContract
from bentoml.schema import InputSchema
from bentoml_adapter_dataframe import ORIENTS, DataframeInput

JSON = {"Content-Type": "application/json"}
CSV = {"Content-Type": "text/csv"}


def req(body, headers=JSON):
    if not isinstance(body, (str, bytes)):
        body = json.dumps(body)
    return HTTPRequest(body.encode() if isinstance(body, str) else body, headers)


class Parsed:
    """A parsed task seen as the API sees it: ``data`` is the batch of this one task."""

    def __init__(self, adapter, task):
        self.task, self.count = task, task.count
        self.data = adapter.batch([task])


def parse(adapter, body, headers=JSON):
    task = adapter.from_http_request(req(body, headers))
    assert task.error is None, task.error
    return Parsed(adapter, task)


def error_of(adapter, body, headers=JSON):
    task = adapter.from_http_request(req(body, headers))
    assert task.error is not None, task.data
    return task.error


class TestDataframeInput(InputAdapterContract):
    adapter = DataframeInput()
    distribution = "bentoml-adapter-dataframe"
    framework_module = "pandas"
    good_requests = [
        (req([[5.1, 3.5, 1.4, 0.2]]), 1),
        (req([[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3]]), 2),
        (req([{"a": 1, "b": 2}, {"a": 3, "b": 4}, {"a": 5, "b": 6}]), 3),
        (req({"columns": ["a", "b"], "data": [[1, 2]]}), 1),
        (req({"a": [1, 2], "b": [3, 4]}), 2),
        (req({"a": 1, "b": 2}), 1),
        (req("a,b\n1,2\n3,4\n", CSV), 2),
        (req("[[1, 2]]", {}), 1),  # no content type: JSON is sniffed
    ]
    bad_requests = [
        req("[[1, 2"),
        req("42"),
        req("[]"),
        req([{"a": 1}, [1, 2]]),
        req('"a,b\n', CSV),
        req(b"\xff\xfe", JSON),
        req("a,b\n1,2,3,4\n", CSV),
        req([[1, 2], [3]]),  # ragged
    ]
    batch_requests = [
        req([{"a": 1, "b": 2}]),
        req({"columns": ["b", "a"], "data": [[4, 3], [6, 5]]}),
        req("a,b\n7,8\n", CSV),
    ]

    def check_batch(self, batch_value, tasks):
        assert isinstance(batch_value, pd.DataFrame)
        assert list(batch_value.columns) == ["a", "b"]
        assert batch_value["a"].tolist() == [1, 3, 5, 7]
        assert batch_value.index.tolist() == [0, 1, 2, 3]


def test_seed_import_path_resolves(plugin_registry):
    from bentoml.adapters import DataframeInput as resolved

    assert resolved is DataframeInput


def test_values_orient_gives_integer_columns():
    df = parse(DataframeInput(), [[5.1, 3.5, 1.4, 0.2]]).data
    assert list(df.columns) == [0, 1, 2, 3]
    assert df.values.tolist() == [[5.1, 3.5, 1.4, 0.2]]


def test_quickstart_feeds_an_sklearn_model_fitted_on_numpy():
    pytest.importorskip("sklearn")
    from sklearn import datasets, svm

    iris = datasets.load_iris()
    model = svm.SVC(gamma="scale").fit(iris.data, iris.target)
    adapter = DataframeInput()
    tasks = [adapter.from_cli_input("[[5.1,3.5,1.4,0.2]]"), adapter.from_cli_input("[[6.7, 3.0, 5.2, 2.3]]")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = model.predict(adapter.batch(tasks))
    assert adapter.split(result, tasks)[0].tolist() == [0]


@pytest.mark.parametrize("orient, body", [
    ("records", [{"a": 1, "b": 2}]),
    ("values", [[1, 2]]),
    ("split", {"columns": ["a", "b"], "index": [7], "data": [[1, 2]]}),
    ("columns", {"a": {"0": 1}, "b": {"0": 2}}),
    ("index", {"r0": {"a": 1, "b": 2}}),
])
def test_explicit_orients(orient, body):
    df = parse(DataframeInput(orient=orient), body).data
    assert df.values.tolist() == [[1, 2]]


def test_table_orient():
    body = pd.DataFrame({"a": [1, 2]}).to_json(orient="table")
    df = parse(DataframeInput(orient="table"), body).data
    assert df["a"].tolist() == [1, 2]


def test_explicit_orient_is_enforced():
    error = error_of(DataframeInput(orient="records"), [[1, 2]])
    assert error.status == 400 and "records" in error.message
    assert "JSON list" in error_of(DataframeInput(orient="values"), {"a": [1]}).message


def test_csv_with_header_and_charset():
    df = parse(DataframeInput(), "name,x\nzoë,1\n".encode("latin-1"),
               {"Content-Type": "text/csv; charset=latin-1"}).data
    assert df.to_dict("records") == [{"name": "zoë", "x": 1}]


def test_input_dtypes_applied_by_name_and_by_position():
    df = parse(DataframeInput(input_dtypes={"a": "float64", "b": "str"}), [{"a": 1, "b": 2}]).data
    assert str(df["a"].dtype) == "float64" and df["b"].tolist() == ["2"]
    # JSON-read configs have string keys; values-orient columns are ints.
    df = parse(DataframeInput(input_dtypes={"0": "float32"}), [[1, 2]]).data
    assert str(df[0].dtype) == "float32"


def test_bad_cast_names_column():
    error = error_of(DataframeInput(input_dtypes={"a": "int64"}), [{"a": "seven"}])
    assert error.status == 400 and "'a'" in error.message


def test_typ_series():
    adapter = DataframeInput(typ="series")
    task = parse(adapter, [1, 2, 3])
    assert isinstance(task.data, pd.Series) and task.count == 3
    # one request keeps its labels; a batch renumbers rows (ignore_index), as for frames
    assert parse(adapter, {"x": 1, "y": 2}).task.data.to_dict() == {"x": 1, "y": 2}
    batch = adapter.batch([task, parse(adapter, "v\n4\n5\n", CSV)])
    assert isinstance(batch, pd.Series) and batch.tolist() == [1, 2, 3, 4, 5]


def test_columns_name_unnamed_rows_and_reorder_named_input():
    adapter = DataframeInput(columns=["a", "b"])
    assert list(parse(adapter, [[1, 2]]).data.columns) == ["a", "b"]
    df = parse(adapter, [{"b": 2, "a": 1, "c": 0}]).data
    assert list(df.columns) == ["a", "b"] and df.values.tolist() == [[1, 2]]
    assert "missing columns ['b']" in error_of(adapter, [{"a": 1}]).message
    assert "2 columns are expected" in error_of(adapter, [[1, 2, 3]]).message


@pytest.mark.parametrize("body, needle", [
    ([[5.1, 3.5, 1.4, 0.2], [6.2, 3.4]], "row 0 has 4 values but row 1 has 2"),
    ([[1, 2], 3], "row 0 has 2 values but row 1 has one value (not a list)"),
    ({"columns": ["a", "b"], "data": [[1, 2], [3, 4, 5]]}, "row 1 has 3 values"),
])
def test_ragged_rows_are_bad_input_not_padded_with_nan(body, needle):
    """pandas pads short rows with NaN; the model would then report NaN the client never sent."""
    error = error_of(DataframeInput(), body)
    assert error.status == 400 and "ragged rows" in error.message and needle in error.message


def test_batch_with_mismatching_columns_is_bad_input():
    adapter = DataframeInput()
    tasks = [parse(adapter, [{"a": 1}]), parse(adapter, [{"b": 1}])]
    with pytest.raises(BadInput, match="different columns"):
        adapter.batch(tasks)


def test_rows_of_different_widths_never_share_a_batch():
    """Else pandas pads the narrow request with NaN, and a model that takes NaN answers it 200."""
    adapter = DataframeInput()
    tasks = [adapter.from_http_request(req(b)) for b in ([[1, 2, 3]], [[4, 5]])]
    with pytest.raises(BadInput, match="different columns"):
        adapter.batch(tasks)  # the kernel then runs each request alone


def test_unsupported_content_type_is_415():
    error = error_of(DataframeInput(), b"<xml/>", {"Content-Type": "application/xml"})
    assert error.status == 415 and "application/xml" in error.message


def test_malformed_input_messages_name_the_problem():
    assert "not valid JSON" in error_of(DataframeInput(), "[[1,").message
    assert "not valid CSV" in error_of(DataframeInput(), '"a\n', CSV).message
    assert "empty" in error_of(DataframeInput(), "[]").message


def test_config_matches_the_bundle_metadata_shape():
    config = DataframeInput(orient="records", input_dtypes={"a": float}).config
    assert config == {"orient": "records", "typ": "frame", "input_dtypes": {"a": "float"},
                      "columns": None, "is_batch_input": True}


@pytest.mark.parametrize("kwargs", [{"orient": "rows"}, {"typ": "table"}, {"columns": "ab"},
                                    {"input_dtypes": [1]}])
def test_bad_options(kwargs):
    with pytest.raises(InvalidArgument):
        DataframeInput(**kwargs)


IRIS_SCHEMA = InputSchema.infer(pd.DataFrame([[5.1, 3.5, 1.4, 0.2]], columns=["sepal_length", "sepal_width",
                                                                           "petal_length", "petal_width"]))
UNNAMED_SCHEMA = InputSchema.infer([[5.1, 3.5, 1.4, 0.2]])
MIXED_SCHEMA = InputSchema.infer([{"age": 42, "income": 1.5, "city": "Oslo", "member": True}])


def examples_of(adapter):
    """(media type, body) of each example in request_schema()."""
    found = []
    for media_type, entry in adapter.request_schema().items():
        if "example" in entry:
            example = entry["example"]
            found.append((media_type, example if isinstance(example, str) and media_type == "text/csv"
                          else json.dumps(example)))
    return found


@pytest.mark.parametrize("adapter", [DataframeInput(orient=o) for o in (None,) + ORIENTS]
                         + [DataframeInput(typ="series"), DataframeInput(columns=["x", "y"])])
def test_without_a_typed_schema_no_example_is_made_up(adapter):
    """Today's hard-coded iris row would make "Try it out" fail on any other model."""
    assert examples_of(adapter) == []
    assert all("schema" in entry for entry in adapter.request_schema().values())


@pytest.mark.parametrize("orient", (None,) + ORIENTS)
@pytest.mark.parametrize("schema", [IRIS_SCHEMA, UNNAMED_SCHEMA, MIXED_SCHEMA], ids=["named", "unnamed", "mixed"])
def test_schema_examples_parse_for_every_orient(orient, schema):
    adapter = DataframeInput(orient=orient).with_schema(schema)
    examples = examples_of(adapter)
    assert [m for m, _ in examples] == ["application/json", "text/csv"]
    for media_type, body in examples:
        df = parse(adapter, body, {"Content-Type": media_type}).data
        assert df.values.tolist() == [schema.example], (media_type, body)
        assert list(df.columns) == (schema.names or list(range(schema.width)))


def test_declared_columns_and_dtypes_are_documented_with_an_example():
    adapter = DataframeInput(columns=["x", "y"], input_dtypes={"x": "float64", "y": "int64"})
    content = adapter.request_schema()
    record = content["application/json"]["schema"]["oneOf"][1]["items"]
    assert record["properties"] == {"x": {"type": "number", "format": "double"},
                                    "y": {"type": "integer", "format": "int64"}}
    assert record["required"] == ["x", "y"]
    assert content["application/json"]["example"] == [{"x": 0.0, "y": 0}]
    for media_type, body in examples_of(adapter):
        parse(adapter, body, {"Content-Type": media_type})


def test_an_adapter_with_its_own_columns_keeps_them():
    own = DataframeInput(columns=["a", "b"])
    assert own.with_schema(IRIS_SCHEMA) is own
    assert DataframeInput(input_dtypes="float64").with_schema(IRIS_SCHEMA).documented_schema() is None
    assert DataframeInput(typ="series").with_schema(IRIS_SCHEMA).documented_schema() is None
    plain = DataframeInput()
    bound = plain.with_schema(IRIS_SCHEMA)
    assert bound is not plain and bound.documented_schema() is IRIS_SCHEMA and plain.documented_schema() is None
    assert bound.config == plain.config  # the schema is the artifact's, not the API's declaration


@pytest.mark.parametrize("body, headers, needle", [
    ([[5.1, 3.5, 1.4]], JSON, "rows have 3 values but the model takes 4 columns: sepal_length (double)"),
    ([[5.1, 3.5, 1.4, 0.2, 1.0]], JSON, "rows have 5 values but the model takes 4 columns"),
    ([{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4}], JSON, "missing columns 'petal_width'"),
    ("a,b,c,d\n1,2,3,4\n", CSV, "missing columns 'sepal_length', 'sepal_width', 'petal_length', 'petal_width'; "
                                 "the model takes sepal_length (double)"),
    ("a,b,c,d\n1,2,3,4\n", CSV, "the request has 'a', 'b', 'c', 'd' instead"),
    ([["abc", 3.5, 1.4, 0.2]], JSON, "column 'sepal_length' holds strings (e.g. 'abc') but float64 is expected"),
    ([[True, 3.5, 1.4, 0.2]], JSON, "column 'sepal_length' holds booleans"),
])
def test_requests_are_checked_against_the_schema(body, headers, needle):
    error = error_of(DataframeInput().with_schema(IRIS_SCHEMA), body, headers)
    assert error.status == 400 and needle in error.message, error.message


def test_a_request_that_fits_gets_the_schemas_names_order_and_types():
    adapter = DataframeInput().with_schema(IRIS_SCHEMA)
    df = parse(adapter, [[5, 3, 1, 0]]).data  # ints into doubles: no value changes
    assert list(df.columns) == IRIS_SCHEMA.names and str(df.dtypes.iloc[0]) == "float64"
    df = parse(adapter, [{"petal_width": 0.2, "extra": "dropped", "sepal_width": 3.5, "petal_length": 1.4,
                          "sepal_length": 5.1}]).data
    assert df.to_dict("records") == [dict(zip(IRIS_SCHEMA.names, [5.1, 3.5, 1.4, 0.2]))]
    nan = parse(adapter, [[None, 3.5, 1.4, 0.2]]).data  # a missing double is NaN: the model decides
    assert nan.isna().sum().sum() == 1
    inf = parse(adapter, "[[1e999, 3.5, 1.4, 0.2]]").data
    assert inf.iloc[0, 0] == float("inf")


def test_mixed_types_are_checked_per_column():
    adapter = DataframeInput().with_schema(MIXED_SCHEMA)
    ok = parse(adapter, "age,income,city,member\n42,1.5,02139,True\n", CSV).data
    assert ok.to_dict("records") == [{"age": 42, "income": 1.5, "city": "02139", "member": True}]
    assert str(ok["age"].dtype) == "int64"
    assert "column 'age' holds non-integer values (e.g. 42.5)" in error_of(
        adapter, [{"age": 42.5, "income": 1, "city": "x", "member": False}]).message
    assert "column 'age' holds a missing value" in error_of(
        adapter, [{"age": None, "income": 1, "city": "x", "member": False}]).message
    assert "column 'city' holds int values (e.g. 7) but the model takes strings" in error_of(
        adapter, [{"age": 1, "income": 1, "city": 7, "member": False}]).message
    assert "column 'member' holds" in error_of(adapter, [{"age": 1, "income": 1, "city": "x", "member": 3}]).message


def test_unnamed_schema_takes_rows_by_position():
    adapter = DataframeInput().with_schema(UNNAMED_SCHEMA)
    df = parse(adapter, "a,b,c,d\n5.1,3.5,1.4,0.2\n", CSV).data
    assert list(df.columns) == [0, 1, 2, 3]  # as a model fitted on arrays was
    assert "rows have 3 values but the model takes 4 columns: 4 columns (double" in error_of(adapter, [[1, 2, 3]]).message


@pytest.mark.parametrize("bodies", [
    [[[1, 2.5]], [[3, 4]], [[5, 6], [7, 8]]],
    [[{"a": 1, "b": "x"}], [{"a": 2.5, "b": "y"}, {"a": 3, "b": None}]],
    [[{"a": 1, "b": 2}], [{"b": 3, "a": 4}]],  # other key order: falls back to frames
    [[[1, 2]], {"columns": [0, 1], "data": [[3, 4]]}, [[5, 6]]],
])
def test_batch_equals_concatenated_frames(bodies):
    """Rows kept as lists until the batch give the frame pandas would build per request."""
    adapter = DataframeInput()
    tasks = [adapter.from_http_request(req(b)) for b in bodies]
    expected = pd.concat([pd.DataFrame(b["data"], columns=b["columns"]) if isinstance(b, dict) else pd.DataFrame(b)
                          for b in bodies], ignore_index=True)
    if list(expected.columns) == ["a", "b"] and bodies[-1] == [{"b": 3, "a": 4}]:
        expected = expected[["a", "b"]]
    pd.testing.assert_frame_equal(adapter.batch(tasks), expected)
    assert [t.count for t in tasks] == [len(b["data"]) if isinstance(b, dict) else len(b) for b in bodies]


# -- CSV without a header row: never read its first row as column names ------------------------------


def test_headerless_csv_is_refused_when_no_columns_are_known():
    error = error_of(DataframeInput(), "5.1,3.5,1.4,0.2\n6.2,3.4,5.4,2.3\n", CSV)
    assert error.status == 400
    assert "first row (5.1,3.5,1.4,0.2) holds only values: send a header row" in error.message


@pytest.mark.parametrize("adapter", [DataframeInput().with_schema(IRIS_SCHEMA),
                                     DataframeInput().with_schema(UNNAMED_SCHEMA),
                                     DataframeInput(columns=["sepal_length", "sepal_width",
                                                             "petal_length", "petal_width"])],
                         ids=["named schema", "unnamed schema", "columns="])
def test_headerless_csv_keeps_its_first_row_when_the_columns_are_known(adapter):
    parsed = parse(adapter, "5.1,3.5,1.4,0.2\n6.2,3.4,5.4,2.3\n", CSV)
    assert parsed.count == 2
    assert parsed.data.values.tolist() == [[5.1, 3.5, 1.4, 0.2], [6.2, 3.4, 5.4, 2.3]]
    with_header = parse(adapter, "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n", CSV)
    assert with_header.count == 1


def test_numeric_column_names_are_a_header_when_they_are_the_known_names():
    parsed = parse(DataframeInput(columns=["2019", "2020"]), "2019,2020\n1,2\n", CSV)
    assert parsed.count == 1 and parsed.data.to_dict("records") == [{"2019": 1, "2020": 2}]


def test_headerless_csv_reads_string_columns_as_text_by_position():
    parsed = parse(DataframeInput().with_schema(MIXED_SCHEMA), "42,1.5,02139,True\n", CSV)
    assert parsed.data.to_dict("records") == [{"age": 42, "income": 1.5, "city": "02139", "member": True}]
