"""The spec's "Model Management" and "Retrieving BentoServices": the repository from the CLI.

This module has its own repository (it deletes bundles): IrisClassifier saved
twice and one TextService (PickleArtifact + JsonInput) saved between them.
"""
from __future__ import annotations

import json
import os
import pathlib
import platform
import re
import textwrap

import importlib_metadata
import pytest
import yaml

SETOSA_JSON = "[[5.1, 3.5, 1.4, 0.2]]"

TEXT_SERVICE = textwrap.dedent('''\
    import bentoml
    from bentoml.adapters import JsonInput
    from bentoml.artifact import PickleArtifact


    @bentoml.artifacts([PickleArtifact('clf')])
    class TextService(bentoml.BentoService):

        @bentoml.api(input=JsonInput())
        def predict(self, docs):
            return [self.artifacts.clf.get(doc, "?") for doc in docs]
    ''')


@pytest.fixture(scope="module")
def repo_home(tmp_path_factory):
    """Overrides the session repository for the tests of this module."""
    return tmp_path_factory.mktemp("model_management_home")


@pytest.fixture(scope="module")
def text_service(tmp_path_factory, import_dir):
    directory = tmp_path_factory.mktemp("text_service_src")
    (directory / "text_service.py").write_text(TEXT_SERVICE)
    module = import_dir(directory, "text_service")
    yield module.TextService
    import sys

    sys.modules.pop("text_service", None)


@pytest.fixture(scope="module")
def repo(repo_home, home_context, IrisClassifier, iris_clf, text_service):
    """Saves, in order: IrisClassifier (old), TextService, IrisClassifier (new)."""
    with home_context(repo_home):
        iris_old = IrisClassifier().pack("model", iris_clf)
        old_path = iris_old.save()
        text = text_service().pack("clf", {"hello": "greeting"})
        text_path = text.save()
        iris_new = IrisClassifier().pack("model", iris_clf)
        new_path = iris_new.save()
    return {
        "iris_old": (f"IrisClassifier:{iris_old.version}", old_path),
        "text": (f"TextService:{text.version}", text_path),
        "iris_new": (f"IrisClassifier:{iris_new.version}", new_path),
    }


def table(stdout: str):
    """Rows of a CLI table, cells split on runs of 2+ spaces (cells hold single spaces)."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


def tags_of(stdout: str):
    return [row[0] for row in table(stdout)[1:]]


# == bentoml list ==================================================================
def test_list_table(repo, cli):
    rows = table(cli("list").stdout)
    assert rows[0] == ["BENTO_SERVICE", "AGE", "APIS", "ARTIFACTS"]
    assert [r[0] for r in rows[1:]] == [repo["iris_new"][0], repo["text"][0], repo["iris_old"][0]]
    by_tag = {r[0]: r for r in rows[1:]}
    assert by_tag[repo["iris_new"][0]][2:] == ["predict<DataframeInput>", "model<SklearnModelArtifact>"]
    assert by_tag[repo["text"][0]][2:] == ["predict<JsonInput>", "clf<PickleArtifact>"]
    for row in rows[1:]:
        assert re.fullmatch(r"\d+ (second|minute)s?( and \d+ seconds?)?", row[1]), row


def test_list_output_formats(repo, cli_many):
    as_json, as_yaml, wide = cli_many([("list", "-o", "json"), ("list", "-o", "yaml"), ("list", "-o", "wide")])
    docs = json.loads(as_json.stdout)
    assert [f"{d['name']}:{d['version']}" for d in docs] == [
        repo["iris_new"][0], repo["text"][0], repo["iris_old"][0]]
    assert docs[0]["uri"] == {"type": "LOCAL", "uri": repo["iris_new"][1]}
    assert yaml.safe_load(as_yaml.stdout) == docs
    rows = table(wide.stdout)
    assert rows[0][:4] == ["BENTO_SERVICE", "AGE", "APIS", "ARTIFACTS"]
    assert "URI" in rows[0] and "CREATED_AT" in rows[0]
    uri_col = rows[0].index("URI")
    assert [r[uri_col] for r in rows[1:]] == [repo["iris_new"][1], repo["text"][1], repo["iris_old"][1]]


def test_list_limit_and_order_by(repo, cli_many):
    limited, by_name, by_name_asc, oldest_first = cli_many([
        ("list", "--limit", "2"), ("list", "--order-by", "name"),
        ("list", "--order-by", "name", "--asc"), ("list", "--order-by", "created_at", "--asc")])
    new, text, old = repo["iris_new"][0], repo["text"][0], repo["iris_old"][0]
    assert tags_of(limited.stdout) == [new, text]
    assert tags_of(by_name.stdout) == [text, new, old]
    assert [t.split(":")[0] for t in tags_of(by_name_asc.stdout)] == [
        "IrisClassifier", "IrisClassifier", "TextService"]
    assert tags_of(oldest_first.stdout) == [old, text, new]


# == bentoml get ===================================================================
def test_get_name_lists_versions(repo, cli):
    rows = table(cli("get", "IrisClassifier").stdout)
    assert rows[0] == ["BENTO_SERVICE", "CREATED_AT", "APIS", "ARTIFACTS"]
    assert [r[0] for r in rows[1:]] == [repo["iris_new"][0], repo["iris_old"][0]]
    for row in rows[1:]:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row[1]), row
        assert row[2:] == ["predict<DataframeInput>", "model<SklearnModelArtifact>"]


def test_get_latest_quiet_json_is_the_specs_document(repo, cli_many):
    latest, explicit = cli_many([("get", "IrisClassifier:latest", "-q"), ("get", repo["iris_new"][0])])
    doc = json.loads(latest.stdout)  # nothing but the JSON on stdout
    tag, path = repo["iris_new"]
    # saved_path=$(bentoml get IrisClassifier:latest -q | jq -r ".uri.uri")
    assert doc["uri"]["uri"] == path
    assert doc["uri"]["type"] == "LOCAL"
    assert (pathlib.Path(doc["uri"]["uri"]) / "Dockerfile").is_file()  # docker build $saved_path
    assert json.loads(explicit.stdout) == doc
    name, version = tag.split(":")
    assert (doc["name"], doc["version"]) == (name, version)
    meta = doc["bentoServiceMetadata"]
    assert (meta["name"], meta["version"]) == (name, version)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z", meta["createdAt"])
    env = meta["env"]
    conda = yaml.safe_load(env["condaEnv"])
    assert conda["name"] == "bentoml-IrisClassifier"
    assert f"python={platform.python_version()}" in conda["dependencies"]
    assert env["pythonVersion"] == platform.python_version()
    pip_lines = env["pipDependencies"].split("\n")
    assert "bentoml==2.0.0.dev0" in pip_lines
    assert f"scikit-learn=={importlib_metadata.version('scikit-learn')}" in pip_lines
    assert meta["artifacts"] == [{"name": "model", "artifactType": "SklearnModelArtifact"}]
    [api] = meta["apis"]
    assert (api["name"], api["InputType"], api["docs"]) == ("predict", "DataframeInput", "BentoService API")
    assert api["inputConfig"]["is_batch_input"] is True


# == bentoml delete ================================================================
def test_delete_one_version(repo, IrisClassifier, iris_clf, cli, cli_many):
    extra = IrisClassifier().pack("model", iris_clf)
    path = extra.save()
    tag = f"IrisClassifier:{extra.version}"
    assert tags_of(cli("list").stdout)[0] == tag
    proc = cli("delete", tag, "-y")
    assert tag in proc.stderr
    assert not os.path.exists(path)
    listed, gone, latest = cli_many([("list",), ("get", tag), ("get", "IrisClassifier:latest", "-q")], ok=None)
    assert tag not in listed.stdout and repo["iris_new"][0] in listed.stdout
    assert gone.returncode != 0 and gone.stdout == "" and extra.version in gone.stderr
    assert json.loads(latest.stdout)["version"] == repo["iris_new"][0].split(":")[1]


def test_delete_needs_a_version_and_an_existing_bundle(repo, cli_many):
    bare, missing = cli_many([("delete", "IrisClassifier", "-y"), ("delete", "IrisClassifier:nope", "-y")],
                             ok=False)
    assert bare.stdout == "" and "IrisClassifier:VERSION" in bare.stderr
    assert missing.stdout == "" and "IrisClassifier:nope" in missing.stderr
    assert len(tags_of_list(repo)) == 3


def tags_of_list(repo):
    from bentoml.repository import get_repository

    return [r.tag for r in get_repository().list()]


# == bentoml retrieve ================================================================
def _tree(root: pathlib.Path):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_retrieve_latest_into_home_relative_dir(repo, tmp_path, cli):
    fake_home = tmp_path / "home"
    fake_home.mkdir()
    # bentoml retrieve ModelServe --target_dir=~/bentoml_bundle/   (bare NAME = latest)
    proc = cli("retrieve", "IrisClassifier", "--target_dir=~/bentoml_bundle/", env={"HOME": str(fake_home)})
    target = fake_home / "bentoml_bundle"
    assert proc.stdout.strip() == str(target)
    assert _tree(target) == _tree(pathlib.Path(repo["iris_new"][1]))
    assert yaml.safe_load((target / "bentoml.yml").read_text())["version"] == repo["iris_new"][0].split(":")[1]
    assert cli("run", str(target), "predict", f"--input={SETOSA_JSON}").stdout == "[0]\n"


def test_retrieve_refuses_a_non_empty_directory(repo, tmp_path, cli):
    target = tmp_path / "occupied"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    proc = cli("retrieve", repo["text"][0], f"--target_dir={target}", ok=False)
    assert proc.stdout == ""
    assert "not empty" in proc.stderr and str(target) in proc.stderr
    assert _tree(target) == {"keep.txt": b"mine"}


# == info, open-api-spec, plugins ======================================================
def test_info_and_open_api_spec(repo, cli_many):
    info, spec_out = cli_many([("info", "IrisClassifier:latest"), ("open-api-spec", "IrisClassifier:latest")])
    meta = json.loads(info.stdout)
    assert (meta["name"], meta["version"]) == tuple(repo["iris_new"][0].split(":"))
    assert [a["name"] for a in meta["apis"]] == ["predict"]
    spec = json.loads(spec_out.stdout)
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "IrisClassifier"
    assert spec["info"]["version"] == meta["version"]
    post = spec["paths"]["/predict"]["post"]
    content = post["requestBody"]["content"]
    # DataframeInput() of a model packed without input_example: no schema, so no made-up example
    assert "schema" in content["application/json"] and "example" not in content["application/json"]
    assert "text/csv" in content
    assert "200" in post["responses"] and "400" in post["responses"]
    for path, ops in spec["paths"].items():  # every operation is a valid OpenAPI operation
        assert path.startswith("/")
        for method, op in ops.items():
            assert method in ("get", "post") and op["responses"], (path, method)


def test_plugins_lists_installed_distributions(cli_many):
    out, as_json = cli_many([("plugins",), ("plugins", "-o", "json")])
    rows = table(out.stdout)
    assert rows[0][:2] == ["DISTRIBUTION", "VERSION"]
    listed = {r[0]: r[1] for r in rows[1:]}
    expected = {ep.dist.name: ep.dist.version for ep in importlib_metadata.entry_points(group="bentoml")}
    expected["bentoml"] = importlib_metadata.version("bentoml")
    for dist in ("bentoml-sklearn", "bentoml-pickle", "bentoml-adapter-dataframe",
                 "bentoml-adapter-json", "bentoml-storage-local"):
        assert dist in expected, f"{dist} is not installed in this environment"
    for dist, version in expected.items():
        assert listed.get(dist) == version, (dist, out.stdout)
    data = json.loads(as_json.stdout)
    assert data["failed"] == []
    assert {p["distribution"]: p["version"] for p in data["plugins"]} == expected
    sklearn = next(p for p in data["plugins"] if p["distribution"] == "bentoml-sklearn")
    assert sklearn["registers"] == {"artifacts": ["SklearnModelArtifact"]}


# == errors ==========================================================================
def test_errors_go_to_stderr_with_nonzero_exit(repo, cli_many):
    calls = [("get", "Nope:1"), ("get", "Nope"), ("get", "IrisClassifier:0000"),
             ("retrieve", "Nope", "--target_dir=/nonexistent/never"), ("info", "Nope:1"),
             ("run", "Nope:latest", "predict", f"--input={SETOSA_JSON}"), ("get", "../etc")]
    for args, proc in zip(calls, cli_many(calls, ok=False)):
        assert proc.returncode == 1, (args, proc.stderr)
        assert proc.stdout == "", args
        assert "Error" in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
    assert not os.path.exists("/nonexistent/never")
