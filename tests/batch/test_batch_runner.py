"""``bentoml.batch.BatchRunner`` in-process: the shape the Spark plugin and other callers rely on."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import bentoml
from bentoml.adapters import DataframeInput, ImageInput, InferenceResult, JsonInput, OutputAdapter, to_jsonable
from bentoml.batch import BatchFailed, BatchRunner
from bentoml.exceptions import BadInput, BentoMLException, InvalidArgument


class Calls(bentoml.BentoService):
    """Records the batches its APIs receive."""

    seen: list = []

    @bentoml.api(input=DataframeInput(input_dtypes={"x": "float64"}))
    def scale(self, df):
        Calls.seen.append(df)
        if (df["x"] > 1e6).any():
            raise RuntimeError("too big")
        return (df["x"] * 10).tolist()

    @bentoml.api(input=JsonInput())
    def records(self, docs):
        Calls.seen.append(docs)
        return [{"keys": sorted(d), "x": d["x"]} for d in docs]

    @bentoml.api(input=ImageInput())
    def image(self, images):
        return [0 for _ in images]


@pytest.fixture
def service():
    Calls.seen = []
    return Calls()


def test_run_frame_keeps_order_and_index_and_passes_the_adapters_dtypes(service):
    frame = pd.DataFrame({"x": [3, 1, 2]}, index=[10, 11, 12])
    out = BatchRunner(service, "scale").run_frame(frame)
    assert out["result"].tolist() == [30.0, 10.0, 20.0]
    assert list(out.index) == [10, 11, 12]
    assert str(Calls.seen[0]["x"].dtype) == "float64"  # DataframeInput's input_dtypes applied
    assert len(Calls.seen) == 1  # the chunk was one batch


def test_json_input_gets_one_document_per_row(service):
    out = BatchRunner(service, "records").run_frame(pd.DataFrame({"x": [1, 2], "y": ["a", None]}))
    assert Calls.seen == [[{"x": 1, "y": "a"}, {"x": 2, "y": None}]]
    assert out.to_dict("list") == {"keys": [["x", "y"], ["x", "y"]], "x": [1, 2]}


def test_run_chunks_cuts_to_chunk_size_and_counts_rows_across_chunks(service):
    chunks = [pd.DataFrame({"x": range(0, 7)}), pd.DataFrame({"x": range(7, 10)})]
    out = pd.concat(BatchRunner(service, "scale", chunk_size=3).run_chunks(chunks))
    assert out["result"].tolist() == [x * 10.0 for x in range(10)]
    assert [len(b) for b in Calls.seen] == [3, 3, 1, 3]
    bad = [pd.DataFrame({"x": ["1", "2"]}), pd.DataFrame({"x": ["3", "four", "5"]})]
    with pytest.raises(BadInput, match=r"^row 4: DataframeInput: column 'x' cannot be converted to float64"):
        list(BatchRunner(service, "scale", chunk_size=3).run_chunks(bad))


def test_first_row_numbers_rows_in_errors(service):
    frame = pd.DataFrame({"x": ["1", "oops"]})
    with pytest.raises(BadInput, match=r"^row 102: "):
        BatchRunner(service, "scale").run_frame(frame, first_row=100)
    with pytest.raises(BatchFailed, match=r"^rows 51-52: API 'scale' failed: RuntimeError: too big"):
        BatchRunner(service, "scale").run_frame(pd.DataFrame({"x": [1, 2e6]}), first_row=50)


def test_adapters_without_rows_and_bad_chunk_sizes_are_refused(service):
    with pytest.raises(InvalidArgument, match="takes ImageInput"):
        BatchRunner(service, "image")
    with pytest.raises(InvalidArgument, match="chunk_size"):
        BatchRunner(service, "scale", chunk_size=0)


class Arrays(bentoml.BentoService):
    """Returns what ``shape`` (a class attribute, set per test) makes of each batch of numbers."""

    shape = staticmethod(lambda x: x)

    @bentoml.api(input=DataframeInput())
    def table(self, df):
        return Arrays.shape(df["x"].to_numpy())

    @bentoml.api(input=JsonInput())
    def documents(self, docs):
        return Arrays.shape(np.array([d["x"] for d in docs]))


SHAPES = {
    "int": lambda x: x.astype(np.int64),
    "float32": lambda x: (x / 3).astype(np.float32),
    "bool": lambda x: x > 1,
    "2-D": lambda x: np.stack([x, x * 2], axis=1),
    "NaN": lambda x: np.where(x > 1, np.nan, x / 2),
    "uint8": lambda x: x.astype(np.uint8),
}


@pytest.mark.parametrize("api", ["table", "documents"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_returned_arrays_give_the_table_their_json_gives(api, shape):
    """A numeric array skips the JSON text (OutputAdapter.to_values): the table must not change."""
    frame = pd.DataFrame({"x": [0, 1, 2, 3]}, index=[5, 6, 7, 8])
    Arrays.shape = staticmethod(SHAPES[shape])
    runner = BatchRunner(Arrays(), api)
    got = runner.run_frame(frame)
    Arrays.shape = staticmethod(lambda x: json.loads(json.dumps(to_jsonable(SHAPES[shape](x)))))  # the JSON way
    want = runner.run_frame(frame)
    pd.testing.assert_frame_equal(got, want)
    assert list(got.index) == [5, 6, 7, 8]


class Warns(bentoml.BentoService):
    @bentoml.api(input=DataframeInput())
    def predict(self, df):
        warnings.warn("X has feature names, but the model was fitted without", UserWarning)
        return df["x"].tolist()


def test_a_warning_of_the_api_is_shown_once_per_runner_not_once_per_chunk():
    runner = BatchRunner(Warns(), "predict", chunk_size=2)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")  # what scikit-learn's catch_warnings on every predict amounts to
        list(runner.run_chunks([pd.DataFrame({"x": range(7)})]))
        list(runner.run_chunks([pd.DataFrame({"x": range(3)})]))  # a second partition on Spark
    assert [str(w.message) for w in shown] == ["X has feature names, but the model was fitted without"]


class Text(OutputAdapter):
    """A 0.x-style custom output adapter answering plain text."""

    def to_result(self, share, task):
        return InferenceResult(200, str(share).encode(), "text/plain")


class Texts(bentoml.BentoService):
    @bentoml.api(input=DataframeInput(), output=Text())
    def shout(self, df):
        return df["x"].tolist()


def test_an_answer_that_is_not_json_stops_the_job_by_name_without_a_traceback(caplog):
    with pytest.raises(BentoMLException, match=r"^Text answers text/plain; a batch job writes JSON results"):
        BatchRunner(Texts(), "shout").run_frame(pd.DataFrame({"x": [1, 2]}))
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # not logged as the API failing
