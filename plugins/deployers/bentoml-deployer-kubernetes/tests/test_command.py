"""``bentoml deploy kubernetes`` through the real CLI in a subprocess."""
import json
import os

import pytest
import yaml

from bentoml.testing.services import PLAIN_SERVICES, service_module

IMAGE = ["--image", "registry.example/alpha:1"]


def _one_line_usage_error(done, *needles):
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stdout == ""
    [error] = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    for needle in needles:
        assert needle in error, done.stderr


def test_yaml_to_stdout_is_valid(bundle, run_bentoml, parse_documents, validate_objects):
    done = run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE, "--replicas", "3", "--namespace", "models")
    assert done.returncode == 0, done.stderr
    objects = parse_documents(done.stdout)
    validate_objects(objects)
    assert [o["kind"] for o in objects] == ["Deployment", "Service"]
    assert objects[0]["spec"]["replicas"] == 3 and objects[0]["metadata"]["namespace"] == "models"
    assert done.stdout.startswith("---\n")


def test_the_spec_name_is_made_valid_and_said_so(spec_bundle, run_bentoml, parse_documents, validate_objects):
    done = run_bentoml("deploy", "kubernetes", str(spec_bundle), *IMAGE)
    assert done.returncode == 0, done.stderr
    objects = parse_documents(done.stdout)
    validate_objects(objects)
    assert {o["metadata"]["name"] for o in objects} == {"iris-classifier"}
    assert "iris_classifier is named iris-classifier in Kubernetes" in done.stderr


def test_json_is_a_kubectl_list(bundle, run_bentoml, validate_objects):
    done = run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE, "-o", "json", "--max-replicas", "4",
                       "--cpu", "250m", "--memory", "256Mi", "--mb-max-batch-size", "16")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert (listed["apiVersion"], listed["kind"]) == ("v1", "List")
    validate_objects(listed["items"])
    assert [o["kind"] for o in listed["items"]] == ["Deployment", "Service", "HorizontalPodAutoscaler"]
    [container] = listed["items"][0]["spec"]["template"]["spec"]["containers"]
    assert {"name": "BENTOML_MB_MAX_BATCH_SIZE", "value": "16"} in container["env"]


def test_writes_into_a_directory_or_a_file(bundle, tmp_path, run_bentoml, parse_documents, validate_objects):
    done = run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE, "--to", f"{tmp_path}/k8s/")
    assert done.returncode == 0, done.stderr
    written = tmp_path / "k8s" / "contract-alpha.yaml"
    assert done.stdout.strip() == str(written)
    validate_objects(parse_documents(written.read_text()))
    target = tmp_path / "out" / "alpha.json"
    done = run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE, "-o", "json", "--to", str(target))
    assert done.returncode == 0, done.stderr
    validate_objects(json.loads(target.read_text())["items"])
    existing = tmp_path / "existing"
    existing.mkdir()
    done = run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE, "--name", "alpha", "--to", str(existing))
    assert done.returncode == 0 and (existing / "alpha.yaml").is_file(), done.stderr


def test_a_bento_by_name_from_the_repository(bentoml_home, tmp_path, run_bentoml, parse_documents):
    with service_module(PLAIN_SERVICES, "k8s_by_name", tmp_path / "services") as loaded:
        loaded.ContractBeta().save(version="20260101000000_ABCDEF")
    done = run_bentoml("deploy", "kubernetes", "ContractBeta:latest", *IMAGE)
    assert done.returncode == 0, done.stderr
    deployment = parse_documents(done.stdout)[0]
    assert deployment["metadata"]["name"] == "contract-beta"
    assert deployment["metadata"]["labels"]["app.kubernetes.io/version"] == "20260101000000_ABCDEF"


@pytest.mark.parametrize("args, needles", [
    (["--name", "iris_classifier"], ["'iris_classifier' is not a valid Kubernetes name", "use 'iris-classifier'"]),
    (["--namespace", "Team_A"], ["--namespace 'Team_A'"]),
    (["--min-replicas", "5", "--max-replicas", "2", "--cpu", "1"], ["--min-replicas 5 is more than --max-replicas 2"]),
    (["--replicas", "-1"], ["--replicas", "-1"]),
    (["--max-replicas", "3"], ["give --cpu too"]),
    (["--cpu", "lots"], ["--cpu 'lots' is not a Kubernetes quantity"]),
    (["--memory", "1GB"], ["--memory '1GB' is not a Kubernetes quantity"]),
    (["--port", "0"], ["--port must be a port number"]),
    (["--mb-max-latency", "0"], ["--mb-max-latency"]),
    (["-o", "xml"], ["'xml' is not one of 'yaml', 'json'"]),
])
def test_bad_input_is_a_one_line_usage_error(bundle, run_bentoml, args, needles):
    _one_line_usage_error(run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE, *args), *needles)


def test_image_is_required(bundle, run_bentoml):
    _one_line_usage_error(run_bentoml("deploy", "kubernetes", str(bundle)), "--image")


def test_a_bento_that_is_not_there(tmp_path, bentoml_home, run_bentoml):
    done = run_bentoml("deploy", "kubernetes", "NoSuchBento:latest", *IMAGE)
    assert done.returncode == 1 and "NoSuchBento" in done.stderr and "Traceback" not in done.stderr


def test_apply_runs_kubectl_apply_with_the_manifests(bundle, run_bentoml, fake_kubectl, parse_documents):
    path, argv, stdin = fake_kubectl(says="deployment.apps/contract-alpha created")
    done = run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE, "--apply", env={"PATH": path})
    assert done.returncode == 0, done.stderr
    assert json.loads(argv.read_text()) == ["apply", "-f", "-"]
    applied = parse_documents(stdin.read_text())
    assert [o["kind"] for o in applied] == ["Deployment", "Service"]
    printed = run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE)
    assert applied == parse_documents(printed.stdout)  # what apply gets is what is printed without it
    assert done.stdout == "deployment.apps/contract-alpha created\n"


def test_apply_also_writes_the_file_asked_for(bundle, tmp_path, run_bentoml, fake_kubectl):
    path, _argv, stdin = fake_kubectl()
    done = run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE, "--apply", "--to", f"{tmp_path}/m/",
                       env={"PATH": path})
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load_all(stdin.read_text()) and (tmp_path / "m" / "contract-alpha.yaml").is_file()
    assert done.stdout.splitlines()[0] == str(tmp_path / "m" / "contract-alpha.yaml")


def test_a_failing_kubectl_is_reported(bundle, run_bentoml, fake_kubectl):
    path, _argv, _stdin = fake_kubectl(exit_code=1, says="error: no context is set")
    done = run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE, "--apply", env={"PATH": path})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "kubectl apply failed (exit 1): error: no context is set" in done.stderr


def test_apply_without_kubectl_says_so(bundle, tmp_path, run_bentoml):
    empty = tmp_path / "no-kubectl"
    empty.mkdir()
    done = run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE, "--apply", env={"PATH": str(empty)})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "kubectl was not found on PATH" in done.stderr
    assert os.listdir(empty) == []


def test_help_shows_the_server_options_with_their_variables(run_bentoml):
    shown = run_bentoml("deploy", "kubernetes", "--help")
    assert shown.returncode == 0
    for flag, env in (("--mb-max-batch-size", "BENTOML_MB_MAX_BATCH_SIZE"), ("--drain-grace", "BENTOML_DRAIN_GRACE"),
                      ("--enable-microbatch", "BENTOML_ENABLE_MICROBATCH")):
        assert flag in shown.stdout and env in shown.stdout


IRIS_WITHOUT_MODEL = '''\
import bentoml


class IrisClassifier(bentoml.BentoService):
    """Named as the spec's service; the manifests need no model."""
'''


def _readme_commands():
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parents[4] / "README.md").read_text()
    section = re.search(r"^## Kubernetes\n(.*?)^## ", readme, re.M | re.S).group(1)
    block = "\n".join(line[4:] for line in section.splitlines() if line.startswith("    "))
    return [line for line in block.replace("\\\n", " ").splitlines() if line.startswith("bentoml deploy")]


def test_the_readme_commands_work_as_written(bentoml_home, tmp_path, monkeypatch, run_bentoml, fake_kubectl,
                                             parse_documents, validate_objects):
    """Each ``bentoml deploy kubernetes`` line of the README's Kubernetes section, as written."""
    import shlex

    with service_module(IRIS_WITHOUT_MODEL, "k8s_readme_iris", tmp_path / "services") as loaded:
        loaded.IrisClassifier().save()
    path, argv, _stdin = fake_kubectl(says="deployment.apps/iris-classifier created")
    commands = _readme_commands()
    assert len(commands) == 3
    monkeypatch.chdir(tmp_path)  # the README's relative paths (iris.yaml, k8s/)
    for command in commands:
        words = shlex.split(command)
        redirect = words.index(">") if ">" in words else None
        done = run_bentoml(*words[1:redirect], env={"PATH": path})
        assert done.returncode == 0, (command, done.stderr)
        if redirect is not None:  # `> iris.yaml`: what stdout has
            validate_objects(parse_documents(done.stdout))
        elif "--to" in words:
            objects = parse_documents((tmp_path / "k8s" / "iris-classifier.yaml").read_text())
            validate_objects(objects)
            assert [o["kind"] for o in objects][-1] == "HorizontalPodAutoscaler"
        else:
            assert json.loads(argv.read_text()) == ["apply", "-f", "-"]


def test_server_options_reach_the_pods(bundle, run_bentoml, parse_documents):
    done = run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE, "--disable-microbatch", "--timeout", "100",
                       "--drain-grace", "10", "--workers", "2")
    assert done.returncode == 0, done.stderr
    pod = parse_documents(done.stdout)[0]["spec"]["template"]["spec"]
    env = {item["name"]: item["value"] for item in pod["containers"][0]["env"]}
    assert (env["BENTOML_ENABLE_MICROBATCH"], env["BENTOML_TIMEOUT"], env["BENTOML_DRAIN_GRACE"],
            env["BENTOML_WORKERS"]) == ("false", "100", "10", "2")
    assert pod["terminationGracePeriodSeconds"] == 115
    default = run_bentoml("deploy", "kubernetes", str(bundle), *IMAGE)
    pod = parse_documents(default.stdout)[0]["spec"]["template"]["spec"]
    assert {"name": "BENTOML_ENABLE_MICROBATCH", "value": "true"} in pod["containers"][0]["env"]
