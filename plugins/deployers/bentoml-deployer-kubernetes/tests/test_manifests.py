"""The manifests: valid against Kubernetes' schemas, and what the server needs to run there."""
import copy
import math

import kubernetes_validate
import pytest

from bentoml.bundle.config import BundleConfig
from bentoml.exceptions import InvalidArgument
from bentoml.server.config import SERVER_OPTIONS, ServerConfig
from bentoml.server.metrics import MULTIPROC_ENV
from bentoml.server.routes import LIVEZ, READYZ
from bentoml_deployer_kubernetes.manifests import manifests
from bentoml_deployer_kubernetes.names import check_name, check_namespace, kubernetes_name
from bentoml_deployer_kubernetes.quantities import check_quantity
from bentoml_deployer_kubernetes.settings import Settings

KUBERNETES_VERSION = "1.37"
ENV = {option.name: option.env for option in SERVER_OPTIONS}


def _objects(bundle, **options):
    settings = Settings(**{"name": "contract-alpha", "image": "example/alpha:1", **options})
    return manifests(settings, BundleConfig.load(str(bundle)))


def _container(deployment):
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return container


def _env(container):
    return {item["name"]: item["value"] for item in container["env"]}


def test_default_manifests_are_a_valid_deployment_and_service(bundle, validate_objects):
    objects = _objects(bundle)
    validate_objects(objects)
    deployment, service = objects
    assert (deployment["kind"], service["kind"]) == ("Deployment", "Service")
    assert deployment["spec"]["replicas"] == 1
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector == service["spec"]["selector"] == {"app.kubernetes.io/name": "contract-alpha"}
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert _container(deployment)["image"] == "example/alpha:1"
    assert "namespace" not in deployment["metadata"]


def test_probes_are_the_servers_routes_on_its_port(bundle):
    deployment, service = _objects(bundle, server={"port": 8080})
    container = _container(deployment)
    [port] = container["ports"]
    assert port["containerPort"] == 8080 and _env(container)[ENV["port"]] == "8080"
    assert container["livenessProbe"]["httpGet"] == {"path": LIVEZ.path, "port": port["name"]}
    assert container["startupProbe"]["httpGet"] == {"path": LIVEZ.path, "port": port["name"]}
    assert container["readinessProbe"]["httpGet"] == {"path": READYZ.path, "port": port["name"]}
    assert service["spec"]["ports"] == [{"name": port["name"], "port": 8080, "targetPort": port["name"],
                                         "protocol": "TCP"}]


def test_grace_period_outlasts_the_servers_drain(bundle):
    default = ServerConfig()
    [deployment, _] = _objects(bundle)
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > default.drain_grace + default.timeout
    [deployment, _] = _objects(bundle, server={"timeout": 120.5, "drain_grace": 10.0})
    container = _container(deployment)
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > 130.5
    assert _env(container)[ENV["timeout"]] == "120.5" and _env(container)[ENV["drain_grace"]] == "10"


def test_micro_batching_variables(bundle):
    [deployment, _] = _objects(bundle)
    env = _env(_container(deployment))
    assert env[ENV["enable_microbatch"]] == "true"
    # not given: the API's own mb_max_batch_size/mb_max_latency stay in charge
    assert ENV["mb_max_batch_size"] not in env and ENV["mb_max_latency"] not in env
    [deployment, _] = _objects(bundle, server={"mb_max_batch_size": 32, "mb_max_latency": 250.0, "workers": 4})
    env = _env(_container(deployment))
    assert (env[ENV["mb_max_batch_size"]], env[ENV["mb_max_latency"]], env[ENV["workers"]]) == ("32", "250", "4")
    # the server reads them back as given
    options = {o.env: o for o in SERVER_OPTIONS}
    assert options[ENV["mb_max_latency"]].parse(env[ENV["mb_max_latency"]]) == 250.0
    [deployment, _] = _objects(bundle, server={"enable_microbatch": False})
    assert _env(_container(deployment))[ENV["enable_microbatch"]] == "false"


def test_prometheus_directory_is_an_empty_dir_under_the_temporary_directory(bundle):
    [deployment, _] = _objects(bundle)
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    [volume] = pod["volumes"]
    assert volume["emptyDir"] == {}
    [mount] = container["volumeMounts"]
    # the master makes its MULTIPROC_ENV directory with tempfile, under TMPDIR
    assert mount["name"] == volume["name"] and _env(container)["TMPDIR"] == mount["mountPath"]
    assert MULTIPROC_ENV not in _env(container)


def test_a_range_adds_an_autoscaler_that_owns_the_replicas(bundle, validate_objects):
    objects = _objects(bundle, min_replicas=2, max_replicas=5, cpu="500m", memory="512Mi")
    validate_objects(objects)
    deployment, _, hpa = objects
    assert hpa["kind"] == "HorizontalPodAutoscaler" and hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": "contract-alpha"}
    assert "replicas" not in deployment["spec"]
    assert _container(deployment)["resources"] == {"requests": {"cpu": "500m", "memory": "512Mi"}}


def test_replicas_and_namespace(bundle, validate_objects):
    objects = _objects(bundle, replicas=3, namespace="models")
    validate_objects(objects)
    assert objects[0]["spec"]["replicas"] == 3
    assert {o["metadata"]["namespace"] for o in objects} == {"models"}
    assert _objects(bundle, replicas=0)[0]["spec"]["replicas"] == 0


def test_the_validator_rejects_what_is_broken(bundle):
    """The schema check is live: each broken copy of a valid manifest fails it."""
    deployment, service = _objects(bundle)
    breakages = [
        lambda d: d["spec"].__setitem__("replicas", "three"),
        lambda d: d["spec"]["template"]["spec"].pop("containers"),
        lambda d: _container(d)["livenessProbe"]["httpGet"].__setitem__("path", 5),
        lambda d: d["spec"]["template"]["spec"].__setitem__("terminationGracePeriod", 60),  # a typo (strict)
    ]
    for breakage in breakages:
        broken = copy.deepcopy(deployment)
        breakage(broken)
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    broken = copy.deepcopy(service)
    broken["spec"]["ports"][0]["port"] = "http"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_spec_example_passes_the_schema_but_not_the_name_check(validate_objects):
    """Schemas do not check DNS-1123 names: the spec's iris_classifier passes them, the
    API server would refuse it, and so does check_name."""
    spec_example = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "iris_classifier"},
                    "spec": {"selector": {"matchLabels": {"app": "iris_classifier"}}, "replicas": 3,
                             "template": {"metadata": {"labels": {"app": "iris_classifier"}},
                                          "spec": {"containers": [{
                                              "name": "iris_classifier_bento_service",
                                              "image": "user/iris_classifier_bento_service:latest",
                                              "ports": [{"containerPort": 5000}]}]}}}}
    validate_objects([spec_example])
    with pytest.raises(InvalidArgument, match="'iris_classifier' is not a valid Kubernetes name.*'iris-classifier'"):
        check_name(spec_example["metadata"]["name"])


def test_spec_named_bundle_gets_a_valid_name(spec_bundle, validate_objects):
    from bentoml_deployer_kubernetes import KubernetesDeployer

    settings, objects = KubernetesDeployer().objects(str(spec_bundle), image="user/iris:1")
    validate_objects(objects)
    assert settings.name == "iris-classifier"
    assert {o["metadata"]["name"] for o in objects} == {"iris-classifier"}
    assert _container(objects[0])["name"] == "iris-classifier"
    assert objects[0]["metadata"]["annotations"]["bentoml.org/bento"] == "iris_classifier:1"


@pytest.mark.parametrize("given, made", [
    ("IrisClassifier", "iris-classifier"), ("iris_classifier", "iris-classifier"), ("XGBModel", "xgb-model"),
    ("my__Svc2", "my-svc2"), ("_private", "private"), ("2fast", "bento-2fast"), ("A" * 80, "a" * 63)])
def test_kubernetes_name(given, made):
    assert kubernetes_name(given) == made
    assert check_name(made) == made


@pytest.mark.parametrize("bad", ["iris_classifier", "Iris", "-iris", "iris-", "9lives", "a" * 64, "", "iris.v1"])
def test_bad_names_are_refused(bad):
    with pytest.raises(InvalidArgument, match="not a valid Kubernetes name"):
        check_name(bad)


def test_namespaces():
    assert check_namespace("team-1") == "team-1" and check_namespace("1st") == "1st"
    for bad in ("Team", "team_1", "-team", "a" * 64):
        with pytest.raises(InvalidArgument, match="not a valid Kubernetes namespace"):
            check_namespace(bad)


@pytest.mark.parametrize("good", ["500m", "2", "0.5", ".5", "1.5Gi", "512Mi", "1e3", "1E-2", "100k", "1G"])
def test_quantities(good):
    assert check_quantity(good, "--cpu") == good


@pytest.mark.parametrize("bad", ["half", "1GB", "512mi", "-1", "1.2.3", "0", "0m", "", "1 Gi", "Mi"])
def test_bad_quantities_are_refused(bad):
    with pytest.raises(InvalidArgument, match="--memory"):
        check_quantity(bad, "--memory")


@pytest.mark.parametrize("options, message", [
    ({"replicas": -1}, "--replicas must be 0 or more"),
    ({"min_replicas": 5, "max_replicas": 2, "cpu": "1"}, "--min-replicas 5 is more than --max-replicas 2"),
    ({"min_replicas": 0, "max_replicas": 2, "cpu": "1"}, "--min-replicas must be 1 or more"),
    ({"min_replicas": 2}, "--min-replicas needs --max-replicas"),
    ({"max_replicas": 3}, "give --cpu too"),
    ({"replicas": 2, "max_replicas": 3, "cpu": "1"}, "give one or the other"),
    ({"max_replicas": 3, "cpu": "1", "cpu_utilization": 0}, "--cpu-utilization must be from 1 to 100"),
    ({"cpu": "lots"}, "--cpu 'lots' is not a Kubernetes quantity"),
    ({"memory": "1GB"}, "--memory '1GB' is not a Kubernetes quantity"),
    ({"name": "iris_classifier"}, "use 'iris-classifier'"),
    ({"namespace": "Models"}, "--namespace 'Models'"),
    ({"image": "has space:1"}, "--image"),
    ({"server": {"port": 0}}, "--port must be a port number"),
    ({"server": {"mb_max_batch_size": 0}}, "--mb-max-batch-size must be"),
    ({"server": {"threads": 4}}, "not a server setting a deployment takes: threads"),
    ({"service_type": "Ingress"}, "--service-type"),
])
def test_bad_settings_say_what_is_wrong(options, message):
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(")):
        Settings(**{"name": "contract-alpha", "image": "example/alpha:1", **options})


def test_grace_is_whole_seconds_above_timeout_and_grace():
    settings = Settings(name="a", image="i", server={"timeout": 0.4, "drain_grace": 0.0})
    assert settings.termination_grace_seconds() == math.ceil(0.4) + 5


def test_label_values():
    from bentoml_deployer_kubernetes.names import label_value

    assert label_value("20260101000000_ABCDEF") == "20260101000000_ABCDEF"
    assert label_value("_v 1+local_") == "v-1-local"
    assert len(label_value("1" * 80)) == 63
