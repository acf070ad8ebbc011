import pytest

from bentoml.exceptions import InvalidArgument
from bentoml.testing import ArtifactContract
from bentoml_pickle import PickleArtifact


class Scaler:
    """A model class defined in a test module: cloudpickle stores it by value when needed."""

    def __init__(self, factor):
        self.factor = factor

    def predict(self, xs):
        return [x * self.factor for x in xs]

    def __eq__(self, other):
        return type(other) is type(self) and other.factor == self.factor


class TestPickleArtifact(ArtifactContract):
    artifact_class = PickleArtifact
    distribution = "bentoml-pickle"
    framework_module = "cloudpickle"

    def make_model(self):
        return Scaler(3)

    def sample_input(self):
        return [1, 2, 3]

    def predict(self, model, x):
        return model.predict(x)

    def wrong_object(self):
        pytest.skip("PickleArtifact packs any object; unpicklable ones fail at save")


def test_seed_import_path_resolves(plugin_registry):
    from bentoml.artifact import PickleArtifact as resolved

    assert resolved is PickleArtifact


def test_lambda_and_closure_round_trip(tmp_path):
    offset = 10
    PickleArtifact("fn").pack(lambda x: x + offset).save(str(tmp_path))
    assert PickleArtifact("fn").load(str(tmp_path)).get()(1) == 11


def test_plain_data_round_trip(tmp_path):
    table = {"a": [1, 2.5, None], "b": ("x", b"\x00")}
    PickleArtifact("table", pickle_extension=".pickle").pack(table).save(str(tmp_path))
    assert (tmp_path / "table" / "table.pickle").is_file()
    assert PickleArtifact("table", pickle_extension=".pickle").load(str(tmp_path)).get() == table


def test_unpicklable_object_fails_at_save_naming_the_artifact(tmp_path):
    import threading

    artifact = PickleArtifact("lock").pack(threading.Lock())
    with pytest.raises(InvalidArgument, match="'lock' cannot pickle"):
        artifact.save(str(tmp_path))
