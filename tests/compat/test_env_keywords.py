"""The ``@bentoml.env`` keywords of BentoML 0.9-0.13, with their effect on the bundle.

From the 0.13 API reference of ``bentoml.env`` (``infer_pip_packages``,
``pip_index_url``, ``pip_extra_index_url``, ``pip_trusted_host``,
``conda_env_yml_file``, ``conda_overwrite_channels``, ``zipimport_archives``)
and the 0.9.0 release notes (``@env(infer_pip_packages=True)``).
"""
from __future__ import annotations

import importlib.metadata
import pathlib
import sys
import zipfile

import pytest
import yaml

from bentoml.exceptions import BundleError, InvalidArgument

SERVICE = '''\
    import yaml  # a third-party import that only infer_pip_packages pins

    import bentoml
    from bentoml.adapters import JsonInput


    @bentoml.env({env})
    class EnvService(bentoml.BentoService):
        @bentoml.api(input=JsonInput())
        def echo(self, docs):
            return docs
    '''


def _save(write_service, tmp_path, env: str, files=None, module="env_keywords_service") -> pathlib.Path:
    service = write_service(SERVICE.format(env=env), module, files)
    return pathlib.Path(service.EnvService().save_to_dir(str(tmp_path / "bundle")))


def _config(bundle: pathlib.Path) -> dict:
    return yaml.safe_load((bundle / "bentoml.yml").read_text())


def test_infer_pip_packages_pins_what_the_service_imports(write_service, tmp_path):
    pin = f"PyYAML=={importlib.metadata.version('PyYAML')}"
    inferred = _save(write_service, tmp_path / "a", "infer_pip_packages=True")
    assert pin in (inferred / "requirements.txt").read_text().splitlines()
    assert pin in _config(inferred)["env"]["pip_requirements"]
    plain = _save(write_service, tmp_path / "b", "pip_packages=['requests']")
    assert pin not in (plain / "requirements.txt").read_text().splitlines()


def test_index_options_go_into_requirements_txt_which_the_dockerfile_installs(write_service, tmp_path):
    bundle = _save(write_service, tmp_path, "pip_index_url='https://pypi.example.com/simple', "
                                             "pip_extra_index_url='https://extra.example.com/simple', "
                                             "pip_trusted_host='pypi.example.com'")
    lines = (bundle / "requirements.txt").read_text().splitlines()
    options = [line for line in lines if line.startswith("--") and not line.startswith("--find-links")]
    assert options == ["--index-url https://pypi.example.com/simple",
                       "--extra-index-url https://extra.example.com/simple",
                       "--trusted-host pypi.example.com"]
    assert lines.index(options[-1]) < min(i for i, line in enumerate(lines) if "==" in line)
    assert "pip install --no-cache-dir -r requirements.txt" in (bundle / "Dockerfile").read_text()
    assert "--index-url" not in (bundle / "setup.py").read_text()  # not a setup.py option: see the README
    assert "pip install --index-url https://pypi.example.com/simple" in (bundle / "README.md").read_text()
    env = _config(bundle)["env"]
    assert (env["pip_index_url"], env["pip_extra_index_urls"], env["pip_trusted_hosts"]) == (
        "https://pypi.example.com/simple", ["https://extra.example.com/simple"], ["pypi.example.com"])


def test_several_extra_indexes_and_hosts_may_be_given_as_lists(write_service, tmp_path):
    bundle = _save(write_service, tmp_path, "pip_extra_index_url=['https://a.example/simple', 'https://b.example/simple'], "
                                             "pip_trusted_host=['a.example', 'b.example:8080']")
    text = (bundle / "requirements.txt").read_text()
    assert "--extra-index-url https://a.example/simple\n--extra-index-url https://b.example/simple\n" in text
    assert "--trusted-host a.example\n--trusted-host b.example:8080\n" in text


@pytest.mark.parametrize("env,message", [
    ("pip_index_url='https://x.example/simple\\n--trusted-host evil'", "pip_index_url=...) must be a URL"),
    ("pip_index_url='pypi.example.com'", "pip_index_url=...) must be a URL"),
    ("pip_extra_index_url=['https://x.example/ simple']", "pip_extra_index_url=...) must be a URL"),
    ("pip_trusted_host='host; rm -rf /'", "pip_trusted_host=...) must be a host name"),
    ("conda_overwrite_channels=True", "needs conda_channels"),
])
def test_values_that_would_break_the_generated_files_are_refused(write_service, tmp_path, env, message):
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)")):
        _save(write_service, tmp_path, env)


CONDA_ENV = '''\
    name: my-laptop-env
    prefix: /home/someone/miniconda3/envs/my-laptop-env
    channels:
      - conda-forge
    dependencies:
      - python=3.11
      - libgomp
      - pip:
          - requests
    '''


def test_conda_env_yml_file_is_the_base_of_environment_yml(write_service, tmp_path):
    bundle = _save(write_service, tmp_path, "conda_env_yml_file='env/conda.yml', conda_dependencies=['openblas']",
                   files={"env/conda.yml": CONDA_ENV})
    env = yaml.safe_load((bundle / "environment.yml").read_text())
    assert env["name"] == "bentoml-EnvService" and "prefix" not in env
    assert env["channels"] == ["conda-forge", "defaults"]
    assert env["dependencies"] == ["pip", "openblas", "python=3.11", "libgomp", {"pip": ["requests"]}]
    assert _config(bundle)["env"]["conda_env_yml"]["channels"] == ["conda-forge"]


def test_conda_channels_replace_the_files_and_overwrite_drops_the_defaults(write_service, tmp_path):
    bundle = _save(write_service, tmp_path, "conda_env_yml_file='conda.yml', conda_channels=['bioconda'], "
                                             "conda_overwrite_channels=True", files={"conda.yml": CONDA_ENV})
    env = yaml.safe_load((bundle / "environment.yml").read_text())
    assert env["channels"] == ["bioconda", "nodefaults"]
    assert _config(bundle)["env"]["conda_override_channels"] is True


def test_conda_override_channels_is_the_013_spelling(write_service, tmp_path):
    bundle = _save(write_service, tmp_path, "conda_channels=['conda-forge'], conda_override_channels=True")
    assert yaml.safe_load((bundle / "environment.yml").read_text())["channels"] == ["conda-forge", "nodefaults"]


@pytest.mark.parametrize("content,message", [
    (None, "does not exist"),
    ("channels: [a\n", "is not valid YAML"),
    ("- just\n- a list\n", "must hold a mapping"),
    ("dependencies:\n  - {conda: [x]}\n", "dependencies must be a list"),
])
def test_a_bad_conda_env_yml_file_is_named(write_service, tmp_path, content, message):
    files = {"conda.yml": content} if content is not None else {}
    with pytest.raises(InvalidArgument, match=message):
        _save(write_service, tmp_path, "conda_env_yml_file='conda.yml'", files=files)


# -- zipimport_archives ------------------------------------------------------------------------
ZIP_SERVICE = '''\
    import os
    import sys

    # As 0.x services did: the archive sits next to the module while it is developed.
    sys.path.append(os.path.join(os.path.dirname(__file__), "tools.zip"))
    from zipped_tools import double

    import bentoml
    from bentoml.adapters import JsonInput


    @bentoml.env(zipimport_archives=["tools.zip"])
    class ZipService(bentoml.BentoService):
        @bentoml.api(input=JsonInput())
        def compute(self, docs):
            import tripler  # a module of the archive, imported at call time

            return [tripler.triple(double(x)) for x in docs]
    '''


def _tools_zip() -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("zipped_tools/__init__.py", "def double(x):\n    return 2 * x\n")
        archive.writestr("tripler.py", "def triple(x):\n    return 3 * x\n")
    return buffer.getvalue()


@pytest.fixture
def restore_sys_path():
    saved = list(sys.path)
    yield
    sys.path[:] = saved
    for name in ("zipped_tools", "tripler"):
        sys.modules.pop(name, None)


def test_zipimport_archives_travel_with_the_bundle_and_load_in_a_fresh_process(
        write_service, tmp_path, python, restore_sys_path):
    module = write_service(ZIP_SERVICE, "zip_service", files={"tools.zip": _tools_zip()})
    svc = module.ZipService()
    assert svc.compute([1]) == [6]
    svc.save()
    bundle = pathlib.Path(python("-m", "bentoml", "get", "ZipService:latest", "--print-location", "-q").stdout.strip())
    assert zipfile.is_zipfile(bundle / "ZipService" / "zipimports" / "tools.zip")
    assert _config(bundle)["env"]["zipimport_archives"] == ["tools.zip"]
    assert python("-m", "bentoml", "run", "ZipService:latest", "compute", "--input", "5").stdout.strip() == "30"
    code = "import bentoml; print(bentoml.load('ZipService:latest').compute([7]))"
    assert python("-c", code).stdout.strip() == "[42]"


@pytest.mark.parametrize("files,value,message", [
    ({}, "['missing.zip']", "is not a zip archive"),
    ({"notes.zip": "just text"}, "['notes.zip']", "is not a zip archive"),
    ({"a/lib.zip": b"", "b/lib.zip": b""}, "['a/lib.zip', 'b/lib.zip']", "have the same file name"),
    ({"my lib.zip": b""}, "['my lib.zip']", "rename"),
])
def test_bad_zipimport_archives_are_named(write_service, tmp_path, files, value, message):
    files = {name: (_tools_zip() if content == b"" else content) for name, content in files.items()}
    with pytest.raises(InvalidArgument, match=message):
        _save(write_service, tmp_path, f"zipimport_archives={value}", files=files)


def test_a_tampered_archive_name_in_bentoml_yml_is_refused(write_service, tmp_path):
    import bentoml

    bundle = _save(write_service, tmp_path, "zipimport_archives=['tools.zip']", files={"tools.zip": _tools_zip()})
    config = bundle / "bentoml.yml"
    config.write_text(config.read_text().replace("- tools.zip", "- ../../../outside.zip"))
    with pytest.raises(BundleError, match="zipimport_archives '../../../outside.zip' is not a file name"):
        bentoml.load_from_dir(str(bundle))


def test_a_bundle_whose_env_named_files_loads_without_them(write_service, tmp_path, python):
    """The files @env reads (requirements_txt_file, setup_sh, conda_env_yml_file) stay next to the
    user's module; the bundle's copy of the module loads without them."""
    write_service('''\
        import bentoml
        from bentoml.adapters import JsonInput


        @bentoml.env(requirements_txt_file="requirements.txt", setup_sh="setup.sh",
                     conda_env_yml_file="environment.yml")
        class FilesService(bentoml.BentoService):
            @bentoml.api(input=JsonInput())
            def echo(self, docs):
                return docs
        ''', "files_service", files={"requirements.txt": "requests\n", "setup.sh": "echo set up\n",
                                     "environment.yml": CONDA_ENV}).FilesService().save()
    assert python("-m", "bentoml", "run", "FilesService:latest", "echo", "--input", '{"a": 1}').stdout.strip() \
        == '{"a": 1}'


@pytest.mark.parametrize("keyword, suggestion", [
    ("pip_dependency", "did you mean 'pip_dependencies'?"),
    ("infer_pip_package", "did you mean 'infer_pip_packages'?"),
    # BentoML 0.5's keyword, gone by 0.8: named by what it is called now, not by spelling
    ("conda_pip_dependencies", "did you mean 'pip_dependencies'?"),
])
def test_an_unknown_env_keyword_names_the_one_meant(keyword, suggestion):
    import bentoml

    with pytest.raises(InvalidArgument, match=f"@env\\(\\) got an unexpected option '{keyword}'; {suggestion}"):
        bentoml.env(**{keyword: ["pandas"]})
