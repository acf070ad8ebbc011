"""BentoService and its decorators; save_to_dir / load_from_dir with a tiny in-test artifact."""
import os
import re
import subprocess
import sys
import textwrap
import zipfile

import pytest
import yaml

import bentoml
from bentoml.exceptions import ArtifactNotPacked, BundleError, InvalidArgument, NotFound

VERSION_RE = re.compile(r"^\d{14}_[0-9A-F]{6}$")


# -- @env ----------------------------------------------------------------------------------------


def test_env_requirements_file_missing_names_the_path(service_module, tmp_path):
    with pytest.raises(InvalidArgument) as err:
        service_module('''
            @bentoml.env(requirements_txt_file="nope/requirements.txt")
            class S(bentoml.BentoService):
                pass
        ''', prefix="envmissing")
    message = str(err.value)
    assert "requirements_txt_file" in message
    # the path is resolved against the service module's directory, and named in full
    assert re.search(re.escape(str(tmp_path)) + r".*src_envmissing_\w+/nope/requirements\.txt", message)


def test_env_requirements_file_relative_to_the_module(service_module):
    module = service_module('''
        @bentoml.env(requirements_txt_file="reqs.txt")
        class S(bentoml.BentoService):
            pass
    ''', files={"reqs.txt": "requests>=2\n"}, prefix="envreqs")
    env = module.S._bento_env
    assert env.requirements_txt_file == os.path.join(os.path.dirname(module.__file__), "reqs.txt")


def test_env_setup_sh_inline(service_module):
    module = service_module('''
        @bentoml.env(setup_sh="apt-get install -y libgomp1")
        class S(bentoml.BentoService):
            pass
    ''')
    assert module.S._bento_env.setup_sh == "apt-get install -y libgomp1\n"


def test_env_setup_sh_multiline_inline(service_module):
    module = service_module('''
        @bentoml.env(setup_sh="#!/bin/bash\\necho one\\necho two\\n")
        class S(bentoml.BentoService):
            pass
    ''')
    assert module.S._bento_env.setup_sh == "#!/bin/bash\necho one\necho two\n"


def test_env_setup_sh_path_relative_to_the_module(service_module):
    module = service_module('''
        @bentoml.env(setup_sh="scripts_setup.sh")
        class S(bentoml.BentoService):
            pass
    ''', files={"scripts_setup.sh": "#!/bin/sh\necho from-file\n"})
    assert module.S._bento_env.setup_sh == "#!/bin/sh\necho from-file\n"


def test_env_setup_sh_missing_file_names_the_path(service_module, tmp_path):
    with pytest.raises(InvalidArgument, match=r"setup_sh.*missing_setup\.sh does not exist") as err:
        service_module('''
            @bentoml.env(setup_sh="missing_setup.sh")
            class S(bentoml.BentoService):
                pass
        ''')
    assert str(tmp_path) in str(err.value)


@pytest.mark.parametrize("kwargs", [{"pip_dependencies": "numpy"}, {"conda_channels": [1]},
                                    {"pip_packages": "pandas"}])
def test_env_lists_must_be_lists_of_strings(kwargs):
    with pytest.raises(InvalidArgument, match="list of strings"):
        bentoml.env(**kwargs)(type("S", (bentoml.BentoService,), {}))


def test_env_pip_packages_is_an_alias(service_module):
    module = service_module('''
        @bentoml.env(pip_dependencies=["a==1"], pip_packages=["b==2"])
        class S(bentoml.BentoService):
            pass
    ''')
    assert module.S._bento_env.pip_dependencies == ["a==1", "b==2"]


# -- @artifacts and pack ---------------------------------------------------------------------------


def test_artifacts_must_be_instances_and_unique(tiny):
    with pytest.raises(InvalidArgument, match="artifact instances"):
        bentoml.artifacts([tiny.TextArtifact])
    with pytest.raises(InvalidArgument, match="declares model more than once"):
        bentoml.artifacts([tiny.TextArtifact("model"), tiny.TextArtifact("model")])
    for bad in ("my-model", "model\n"):  # a trailing newline passes a `$`-anchored match
        with pytest.raises(InvalidArgument, match="Python identifier"):
            tiny.TextArtifact(bad)


def test_api_names_are_identifiers_without_a_trailing_newline(tiny):
    from bentoml.service.inference_api import make_api_spec

    with pytest.raises(InvalidArgument, match="Python identifier"):
        make_api_spec(lambda items: items, tiny.EchoInput(), None, "predict\n", None, None)


def test_pack_unknown_artifact_lists_the_declared_ones(greeter_module):
    svc = greeter_module.Greeter()
    with pytest.raises(InvalidArgument) as err:
        svc.pack("model", "hello")
    assert "'model'" in str(err.value) and "declared: greeting" in str(err.value)


def test_pack_without_declared_artifacts(tiny):
    class Bare(bentoml.BentoService):
        pass

    with pytest.raises(InvalidArgument, match="declared: none"):
        Bare().pack("model", 1)


def test_pack_wrong_type_is_refused_by_the_artifact(greeter_module):
    svc = greeter_module.Greeter()
    with pytest.raises(InvalidArgument, match="packs a str, got int"):
        svc.pack("greeting", 42)
    assert not svc.artifacts["greeting"].is_packed


def test_using_an_unpacked_artifact_names_it(greeter_module):
    svc = greeter_module.Greeter()
    with pytest.raises(ArtifactNotPacked, match=r"'greeting'.*pack\('greeting', model\)"):
        svc.greet(["x"])


def test_instances_do_not_share_packed_models(greeter_module):
    a, b = greeter_module.Greeter(), greeter_module.Greeter()
    a.pack("greeting", "Hi")
    assert not b.artifacts["greeting"].is_packed
    assert a.greet(["Bo"]) == ["Hi, Bo"]
    with pytest.raises(NotFound, match="declared: greeting"):
        a.artifacts["nope"]
    with pytest.raises(AttributeError, match="declared: greeting"):
        a.artifacts.nope  # noqa: B018


# -- saving --------------------------------------------------------------------------------------


def test_save_with_an_unpacked_artifact_names_it_and_writes_nothing(greeter_module, tmp_path):
    target = tmp_path / "bundle"
    with pytest.raises(ArtifactNotPacked, match="greeting"):
        greeter_module.Greeter().save_to_dir(str(target))
    assert not target.exists()
    assert not [p for p in os.listdir(tmp_path) if "partial" in p]


def test_service_in_main_is_refused_with_a_clear_error(tmp_path):
    code = textwrap.dedent(f"""
        import bentoml

        class InMain(bentoml.BentoService):
            pass

        InMain().save_to_dir({str(tmp_path / "out")!r})
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "InvalidArgument" in out.stderr and "__main__" in out.stderr
    assert "own Python file" in out.stderr
    assert not (tmp_path / "out").exists()


def test_save_to_a_non_empty_directory_is_refused(greeter_module, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    svc = greeter_module.Greeter().pack("greeting", "Hi")
    with pytest.raises(BundleError, match="not an empty directory"):
        svc.save_to_dir(str(tmp_path / "full"))
    assert os.listdir(tmp_path / "full") == ["keep.txt"]


@pytest.mark.parametrize("version", ["../evil", "a/b", "..", ".hidden", "x/../../y"])
def test_save_to_dir_rejects_path_like_versions(greeter_module, tmp_path, version):
    svc = greeter_module.Greeter().pack("greeting", "Hi")
    with pytest.raises(InvalidArgument, match="invalid version"):
        svc.save_to_dir(str(tmp_path / "b"), version=version)
    assert not (tmp_path / "b").exists()


def test_round_trip(greeter_module, tmp_path, empty_plugin_registry):
    svc = greeter_module.Greeter().pack("greeting", "Hello")
    path = svc.save_to_dir(str(tmp_path / "bundle"))
    assert path == str(tmp_path / "bundle")
    assert VERSION_RE.match(svc.version)

    names = set(os.listdir(path))
    assert {"bentoml.yml", "requirements.txt", "environment.yml", "setup.py", "Dockerfile",
            "docker-entrypoint.sh", "Greeter", "wheels"} <= names
    config = yaml.safe_load(open(os.path.join(path, "bentoml.yml")))
    assert config["schema_version"] == 1 and list(config)[0] == "schema_version"
    assert config["name"] == "Greeter" and config["version"] == svc.version
    [artifact] = config["artifacts"]
    assert artifact == {"name": "greeting", "artifact_type": "TextArtifact",
                        "provider": {"distribution": "local", "version": None}}
    [api] = config["apis"]
    assert (api["name"], api["input_type"], api["output_type"]) == ("greet", "EchoInput", "JsonOutput")
    assert api["input_provider"]["distribution"] == "local"
    assert api["output_provider"]["distribution"] == "bentoml"
    assert api["doc"] == "Greets each name." and api["mb_max_batch_size"] == 8
    assert "requests>=2" in config["env"]["pip_requirements"]
    assert config["service"]["module"] == greeter_module.__name__
    assert os.path.isfile(os.path.join(path, "Greeter", "artifacts", "greeting", "text.txt"))
    assert any(w["distribution"] == "bentoml" for w in config["wheels"])
    assert os.access(os.path.join(path, "docker-entrypoint.sh"), os.X_OK)
    # the kernel's wheel is repacked from the installed (here: editable) kernel
    [kernel_wheel] = [w["filename"] for w in config["wheels"] if w["distribution"] == "bentoml"]
    with zipfile.ZipFile(os.path.join(path, "wheels", kernel_wheel)) as wheel:
        files = set(wheel.namelist())
    assert {"bentoml/__init__.py", "bentoml/service/__init__.py", "bentoml/hookspecs.py"} <= files
    assert any(f.endswith(".dist-info/METADATA") for f in files)
    assert not [f for f in files if f.endswith(".pyc")]

    loaded = bentoml.load_from_dir(path)
    assert type(loaded) is not type(svc)  # the bundle's own copy of the module
    assert loaded.version == svc.version and loaded.name == "Greeter"
    assert loaded.artifacts.greeting == "Hello"
    assert loaded.greet(["Ann"]) == ["Hello, Ann"]
    api = loaded.get_inference_api("greet")
    [result] = api.handle_batch([api.input_adapter.from_cli_input('"Bob"')])
    assert (result.status, result.body) == (200, b'"Hello, Bob"')
    # the bundle's module did not stay imported under the service's name
    assert sys.modules[greeter_module.__name__] is greeter_module

    # bentoml.load takes a path too
    assert bentoml.load(path).artifacts.greeting == "Hello"


def test_save_explicit_version_and_load_two_versions_side_by_side(greeter_module, tmp_path):
    one = greeter_module.Greeter().pack("greeting", "One").save_to_dir(str(tmp_path / "1"), version="v1")
    two = greeter_module.Greeter().pack("greeting", "Two").save_to_dir(str(tmp_path / "2"), version="v2")
    a, b = bentoml.load_from_dir(one), bentoml.load_from_dir(two)
    assert (a.version, b.version) == ("v1", "v2")
    assert (a.greet(["x"]), b.greet(["x"])) == (["One, x"], ["Two, x"])


def test_load_from_dir_of_a_non_bundle(tmp_path):
    with pytest.raises(BundleError, match="is not a bundle directory"):
        bentoml.load_from_dir(str(tmp_path / "missing"))
    with pytest.raises(BundleError, match="is not a bundle: it has no bentoml.yml"):
        bentoml.load_from_dir(str(tmp_path))
    (tmp_path / "f").write_text("x")
    with pytest.raises(BundleError, match="is not a bundle directory"):
        bentoml.load(str(tmp_path / "f"))


def test_load_names_a_missing_provider_distribution(greeter_module, tmp_path):
    path = greeter_module.Greeter().pack("greeting", "Hi").save_to_dir(str(tmp_path / "bundle"))
    config_path = os.path.join(path, "bentoml.yml")
    config = yaml.safe_load(open(config_path))
    config["artifacts"][0]["provider"] = {"distribution": "bentoml-notinstalled", "version": "1.0"}
    with open(config_path, "w") as f:
        yaml.safe_dump(config, f)
    with pytest.raises(bentoml.exceptions.MissingPlugin) as err:
        bentoml.load_from_dir(path)
    assert err.value.distribution == "bentoml-notinstalled"
    assert "artifact greeting (TextArtifact)" in str(err.value)
