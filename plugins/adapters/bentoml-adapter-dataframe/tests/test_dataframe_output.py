"""DataframeOutput (BentoML 0.10-0.13) holds to the output adapter contract and answers each orient."""
import json

import numpy as np
import pandas as pd
import pytest

from bentoml.adapters import InferenceTask, to_jsonable
from bentoml.testing import OutputAdapterContract
from bentoml_adapter_dataframe.output import OUTPUT_ORIENTS, DataframeOutput

FRAME = pd.DataFrame({"a": [1, 2], "at": pd.to_datetime(["2020-06-01", "2020-06-02"]), "x": [0.5, np.nan]},
                     index=[3, 4])


class TestDataframeOutput(OutputAdapterContract):
    adapter = DataframeOutput(output_orient="split")
    distribution = "bentoml-adapter-dataframe"
    good_shares = [FRAME, pd.Series([1.5, 2.5], name="score"), [1, 2], {"label": "setosa"}, np.array([0, 2])]

    def check_result(self, share, result):
        assert result.content_type == "application/json"
        body = json.loads(result.body)
        if isinstance(share, pd.Series):
            share = share.to_frame()
        if isinstance(share, pd.DataFrame):
            assert body == {"index": [3, 4] if share is FRAME else [0, 1], "columns": list(share.columns),
                            "data": to_jsonable(share.to_numpy().tolist())}
        else:
            assert body == to_jsonable(share)


@pytest.mark.parametrize("orient, expected", [
    ("records", [{"a": 1, "at": 1590969600000, "x": 0.5}, {"a": 2, "at": 1591056000000, "x": None}]),
    ("columns", {"a": {"3": 1, "4": 2}, "at": {"3": 1590969600000, "4": 1591056000000}, "x": {"3": 0.5, "4": None}}),
    ("index", {"3": {"a": 1, "at": 1590969600000, "x": 0.5}, "4": {"a": 2, "at": 1591056000000, "x": None}}),
    ("values", [[1, 1590969600000, 0.5], [2, 1591056000000, None]]),
])
def test_each_orient_is_what_pandas_to_json_gives(orient, expected):
    body = json.loads(DataframeOutput(output_orient=orient).to_result(FRAME, InferenceTask(data=None)).body)
    assert body == expected == json.loads(FRAME.to_json(orient=orient, date_format="epoch"))


def test_table_orient_is_pandas_table_schema():
    body = json.loads(DataframeOutput(output_orient="table").to_result(FRAME, InferenceTask(data=None)).body)
    assert [f["name"] for f in body["schema"]["fields"]] == ["index", "a", "at", "x"]
    assert [row["a"] for row in body["data"]] == [1, 2]


def test_every_orient_is_accepted_and_kept_in_config():
    assert [DataframeOutput(output_orient=o).config["output_orient"] for o in OUTPUT_ORIENTS] == list(OUTPUT_ORIENTS)
