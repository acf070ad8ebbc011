"""``ArtifactContract``: the round trip every artifact plugin promises."""
from __future__ import annotations

import pathlib
from typing import Any, ClassVar, Optional, Tuple

import importlib_metadata
import pytest

from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import ArtifactNotPacked, InvalidArgument
from bentoml.testing.contracts.plugin import PluginContract


class ArtifactContract(PluginContract):
    """Tests for an artifact plugin.

    Set ``artifact_class``, ``distribution`` and ``framework_module``; implement
    ``make_model``, ``sample_input`` and ``predict``.  Override ``wrong_object``
    (and set ``expected_type``, a word the error must contain) or make it call
    ``pytest.skip`` when the artifact packs anything.
    """

    kind = "artifacts"
    hook = "register_artifacts"
    artifact_class: ClassVar[type]
    #: Text that the InvalidArgument for a wrong object must contain, e.g. "BaseEstimator".
    expected_type: ClassVar[Optional[str]] = None

    def make_model(self) -> Any:
        raise NotImplementedError

    def sample_input(self) -> Any:
        raise NotImplementedError

    def predict(self, model: Any, x: Any) -> Any:
        raise NotImplementedError

    def wrong_object(self) -> Any:
        """An object the artifact must refuse to pack."""
        return object()

    def make_artifact(self, name: str = "model") -> BentoServiceArtifact:
        return self.artifact_class(name)

    def assert_same_predictions(self, expected: Any, actual: Any) -> None:
        if hasattr(expected, "tolist"):
            expected, actual = expected.tolist(), actual.tolist()
        assert actual == expected

    def registered(self, tmp_path: pathlib.Path) -> Tuple[str, type]:
        return self.artifact_class.__name__, self.artifact_class

    def test_save_load_round_trip(self, tmp_path: pathlib.Path) -> None:
        """pack -> save -> load into a fresh declaration gives the same type and predictions."""
        model = self.make_model()
        self.make_artifact().pack(model).save(str(tmp_path))
        assert any((tmp_path / "model").iterdir()), "save wrote no files"
        loaded = self.make_artifact().load(str(tmp_path)).get()
        assert type(loaded) is type(model)
        x = self.sample_input()
        self.assert_same_predictions(self.predict(model, x), self.predict(loaded, x))

    def test_pack_wrong_object_names_expected_type(self) -> None:
        """Packing an unsuitable object raises InvalidArgument naming what was expected."""
        wrong = self.wrong_object()
        with pytest.raises(InvalidArgument) as info:
            self.make_artifact().pack(wrong)
        if self.expected_type:
            assert self.expected_type in str(info.value)

    def test_use_before_pack_raises(self, tmp_path: pathlib.Path) -> None:
        """``get()`` and ``save()`` before ``pack()`` raise ArtifactNotPacked."""
        artifact = self.make_artifact()
        with pytest.raises(ArtifactNotPacked):
            artifact.get()
        with pytest.raises(ArtifactNotPacked):
            artifact.save(str(tmp_path))

    def test_requirement_imports_are_installed(self) -> None:
        """Each name in ``requirement_imports`` maps to an installed distribution."""
        assert self.artifact_class.requirement_imports, "an artifact declares what a bundle must pin"
        known = importlib_metadata.packages_distributions()
        missing = [m for m in self.artifact_class.requirement_imports if m not in known]
        assert not missing, f"no installed distribution provides {missing}"
