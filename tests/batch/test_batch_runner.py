"""``bentoml.batch.BatchRunner`` in-process: the shape the Spark plugin and other callers rely on."""
from __future__ import annotations

import pandas as pd
import pytest

import bentoml
from bentoml.adapters import DataframeInput, ImageInput, JsonInput
from bentoml.batch import BatchFailed, BatchRunner
from bentoml.exceptions import BadInput, InvalidArgument


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
