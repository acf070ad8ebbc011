"""JsonOutput and numpy arrays: a batch job gets numeric ones as they are (``to_values``), the rest as their JSON."""
import json

import pytest

from bentoml.adapters import InferenceTask, JsonOutput, to_jsonable
from bentoml.testing import OutputAdapterContract

np = pytest.importorskip("numpy")  # the kernel's own tests run without numpy too

NUMERIC_ARRAYS = [np.array([0, 2, 1]), np.array([0.1, 2.5], dtype=np.float32), np.array([[1, 2], [3, 4]], np.int8),
                  np.array([True, False]), np.array([7, 9], dtype=np.uint64), np.zeros((0,), np.float64)]
#: arrays whose JSON is not plain numbers of their dtype: these take the JSON text's way
OTHER_ARRAYS = [np.array([1.0, np.nan]), np.array([np.inf]), np.array([2**63 + 5], dtype=np.uint64),
                np.array(["a", "b"]), np.zeros((2, 2, 2)), np.float64(1.5), np.ma.masked_array([1, 2])]


class TestJsonOutputOnArrays(OutputAdapterContract):
    """The output adapter contract (``to_values`` included) over numpy shares."""

    adapter = JsonOutput()
    distribution = "bentoml"
    good_shares = [*NUMERIC_ARRAYS, *OTHER_ARRAYS]

    def check_result(self, share, result):
        assert result.content_type == "application/json"
        assert json.loads(result.body) == to_jsonable(share)

    def test_entry_point_is_installed(self):
        pytest.skip("the kernel registers JsonOutput itself, without an entry point")


@pytest.mark.parametrize("share", NUMERIC_ARRAYS, ids=lambda a: f"{a.dtype}-{a.ndim}d")
def test_a_numeric_array_reaches_a_batch_job_without_json_text(share):
    values = JsonOutput().to_values(share, InferenceTask(data=None))
    assert isinstance(values, np.ndarray) and values.shape == share.shape


@pytest.mark.parametrize("share", OTHER_ARRAYS, ids=lambda a: f"{type(a).__name__}-{a.dtype}")
def test_other_arrays_reach_a_batch_job_as_their_json(share):
    values = JsonOutput().to_values(share, InferenceTask(data=None))
    assert not isinstance(values, np.ndarray)
    assert values == json.loads(JsonOutput().to_result(share, InferenceTask(data=None)).body)
