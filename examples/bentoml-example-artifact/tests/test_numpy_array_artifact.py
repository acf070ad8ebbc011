"""The example plugin's own tests: the kernel's contract plus what is special to it."""
import numpy as np
import pytest

from bentoml.exceptions import InvalidArgument
from bentoml.testing import ArtifactContract
from bentoml_example_artifact import NumpyArrayArtifact


class TestNumpyArrayArtifact(ArtifactContract):
    artifact_class = NumpyArrayArtifact
    distribution = "bentoml-example-artifact"
    framework_module = "numpy"
    expected_type = "numpy.ndarray"

    def make_model(self):
        return np.arange(12, dtype=np.float32).reshape(4, 3)

    def sample_input(self):
        return np.ones((2, 4), dtype=np.float32)

    def predict(self, model, x):
        return x @ model

    def make_artifact(self, name="model"):
        return NumpyArrayArtifact(name, mmap=False)  # the contract compares exact types


def test_loads_memory_mapped_and_read_only(tmp_path):
    NumpyArrayArtifact("w").pack([[1.5, 2.0], [3.0, 4.0]]).save(str(tmp_path))
    loaded = NumpyArrayArtifact("w").load(str(tmp_path)).get()
    assert isinstance(loaded, np.memmap)
    assert loaded.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    with pytest.raises(ValueError):
        loaded[0, 0] = 9  # shared pages: read-only


def test_object_arrays_are_refused():
    with pytest.raises(InvalidArgument, match="pickle"):
        NumpyArrayArtifact("w").pack(np.array([{"a": 1}], dtype=object))
