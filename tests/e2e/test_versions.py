"""Versions side by side: two versions of one service in one process, bundles moved to
another directory, and ``NAME:latest`` as the newest by save order.
"""
from __future__ import annotations

import json
import pathlib
import shutil
import sys
import textwrap

import pytest

import bentoml

SETOSA_JSON = "[[5.1, 3.5, 1.4, 0.2]]"

# One service, two versions of its code: a local helper module of the same name
# (`labels`) with different contents, and a different model packed into each.
VERSIONED_SERVICE = textwrap.dedent('''\
    import bentoml
    from bentoml.adapters import DataframeInput
    from bentoml.artifact import SklearnModelArtifact

    import labels


    @bentoml.artifacts([SklearnModelArtifact('model')])
    class VersionedIris(bentoml.BentoService):

        @bentoml.api(input=DataframeInput())
        def predict(self, df):
            return [labels.LABELS[int(i)] for i in self.artifacts.model.predict(df)]
    ''')

LABELS_V1 = 'LABELS = ["setosa", "versicolor", "virginica"]\n'
LABELS_V2 = 'LABELS = ["v2-setosa", "v2-versicolor", "v2-virginica"]\n'


def test_two_versions_loaded_in_one_process(write_service, bentoml_home, iris, iris_clf, cli_many):
    from sklearn.dummy import DummyClassifier

    constant = DummyClassifier(strategy="constant", constant=2).fit(iris.data, iris.target)
    v1_module = write_service(VERSIONED_SERVICE, "versioned_iris", files={"labels.py": LABELS_V1})
    v1 = v1_module.VersionedIris().pack("model", iris_clf)
    v1.save()
    v2_module = write_service(VERSIONED_SERVICE, "versioned_iris", files={"labels.py": LABELS_V2})
    v2 = v2_module.VersionedIris().pack("model", constant)
    v2.save()
    assert v1.version != v2.version
    for name in ("versioned_iris", "labels"):
        sys.modules.pop(name, None)

    rows = iris.data[[0, 50, 100]]
    first = bentoml.load(f"VersionedIris:{v1.version}")
    second = bentoml.load("VersionedIris:latest")
    assert second.version == v2.version
    assert type(first) is not type(second)
    assert first.predict(rows) == ["setosa", "versicolor", "virginica"]
    assert second.predict(rows) == ["v2-virginica"] * 3
    # Loading the second did not change the first (its module, helper and model are its own).
    assert first.predict(rows) == ["setosa", "versicolor", "virginica"]
    # ...nor did loading leave either version's modules importable by name.
    assert "versioned_iris" not in sys.modules and "labels" not in sys.modules
    # A third load of v1 after both is still v1.
    assert bentoml.load(f"VersionedIris:{v1.version}").predict(rows[:1]) == ["setosa"]

    old, latest = cli_many([("run", f"VersionedIris:{v1.version}", "predict", f"--input={SETOSA_JSON}"),
                            ("run", "VersionedIris:latest", "predict", f"--input={SETOSA_JSON}")])
    assert old.stdout == '["setosa"]\n'
    assert latest.stdout == '["v2-virginica"]\n'


def test_bundle_copied_to_another_directory_loads(IrisClassifier, iris, iris_clf, saved_path, tmp_path, cli):
    # A bundle written by save_to_dir, moved elsewhere (the original removed).
    original = IrisClassifier().pack("model", iris_clf).save_to_dir(str(tmp_path / "original"))
    moved = tmp_path / "elsewhere" / "moved_bundle"
    shutil.copytree(original, moved)
    shutil.rmtree(original)
    loaded = bentoml.load(str(moved))
    assert list(loaded.predict(iris.data)) == list(iris_clf.predict(iris.data))
    assert cli("run", str(moved), "predict", f"--input={SETOSA_JSON}").stdout == "[0]\n"

    # A copy of a repository bundle loads as well, independent of the repository.
    copy = tmp_path / "repo_copy"
    shutil.copytree(saved_path, copy)
    from_copy = bentoml.load(str(copy))
    assert from_copy.version == pathlib.Path(saved_path).name
    assert list(from_copy.predict(iris.data[:5])) == [0] * 5


def test_latest_is_newest_by_save_order(IrisClassifier, iris_clf, bentoml_home, cli):
    svc = IrisClassifier().pack("model", iris_clf)
    # Same second, and the later save sorts first by text: latest is still the later save.
    svc.save(version="20200101000000_FFFFFF")
    svc.save(version="20200101000000_000000")
    assert bentoml.load("IrisClassifier:latest").version == "20200101000000_000000"
    # An older-looking timestamp saved last is still the latest.
    svc.save(version="20190101000000_AAAAAA")
    assert bentoml.load("IrisClassifier").version == "20190101000000_AAAAAA"

    # Saves in quick succession with generated versions (often within one second, where
    # the random suffix, not the time, decides their text order).
    generated = []
    for _ in range(3):
        saved = IrisClassifier().pack("model", iris_clf)
        saved.save()
        generated.append(saved.version)
        assert bentoml.load("IrisClassifier:latest").version == generated[-1]
    assert len(set(generated)) == 3

    newest = generated[-1]
    doc = json.loads(cli("get", "IrisClassifier:latest", "-q").stdout)
    assert doc["version"] == newest
    listed = json.loads(cli("list", "-o", "json").stdout)
    assert [d["version"] for d in listed] == list(reversed(
        ["20200101000000_FFFFFF", "20200101000000_000000", "20190101000000_AAAAAA"] + generated))


def test_explicit_version_cannot_be_saved_twice(IrisClassifier, iris_clf, bentoml_home):
    svc = IrisClassifier().pack("model", iris_clf)
    svc.save(version="1.0")
    from bentoml.exceptions import RepositoryError

    with pytest.raises(RepositoryError, match="already exists"):
        svc.save(version="1.0")
    assert bentoml.load("IrisClassifier:1.0").version == "1.0"
