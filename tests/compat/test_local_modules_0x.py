"""0.x services whose API functions import their own local modules at call time.

The spec ("Saving BentoService"): save "saves all the local python code
dependencies", and a Bento runs the same every way it is run.  The project is
written the way 0.x users wrote theirs: a service file next to a package of its
own (``my_lib``), and a ``local_dependencies`` folder that the service file
appends to ``sys.path``, as 0.x's example gallery does::

    sys.path.append(os.path.join(os.path.dirname(__file__), "local_dependencies"))

The API functions import from both only when they are called (``from my_lib.post
import label`` inside ``predict``, and within it a relative ``from .tables import
NAMES``), long after the bundle was loaded.  Each way of running the Bento is a
fresh process: ``bentoml.load``, ``bentoml run``, ``bentoml serve``,
``serve-gunicorn --workers 2`` (forked workers) and the pip-installed package
(``import NAME; NAME.load()`` and the ``NAME run`` command).
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
from typing import Dict

import pytest

from bentoml.testing.server import Server
from bentoml.testing.venvs import run_checked as _run
from bentoml.testing.venvs import venv_with

pytestmark = pytest.mark.slow

SERVICE = textwrap.dedent('''\
    """A 0.x-style service with local modules."""
    import os
    import sys

    sys.path.append(os.path.join(os.path.dirname(__file__), "local_dependencies"))

    import bentoml
    from bentoml.adapters import JsonInput

    from scaling import scale  # local_dependencies/scaling.py, imported at load time


    class LazyLocalService(bentoml.BentoService):

        @bentoml.api(input=JsonInput())
        def predict(self, docs):
            from my_lib.post import label  # imported when the API is first called
            return [label(scale(doc["x"])) for doc in docs]

        @bentoml.api(input=JsonInput())
        def shout(self, docs):
            import loud  # local_dependencies/loud.py, imported when first called
            return [loud.shout(doc["word"]) for doc in docs]

        @bentoml.api(input=JsonInput())
        def whoami(self, docs):
            from my_lib.post import label
            return [{"pid": os.getpid(), "label": label(2)} for _ in docs]
    ''')

PROJECT = {
    "lazy_service.py": SERVICE,
    "my_lib/__init__.py": "",
    "my_lib/post.py": textwrap.dedent('''\
        def label(x):
            from .tables import NAMES  # a relative import, at call time
            return NAMES.get(x, "many")
        '''),
    "my_lib/tables.py": 'NAMES = {2: "two", 4: "four"}\n',
    "local_dependencies/scaling.py": "def scale(x):\n    return 2 * x\n",
    "local_dependencies/loud.py": 'def shout(word):\n    return word.upper() + "!"\n',
    "save.py": textwrap.dedent('''\
        import sys
        from lazy_service import LazyLocalService
        print(LazyLocalService().save_to_dir(sys.argv[1]))
        '''),
}

#: What the caller's working directory holds under the bundle's module names: never the bundle's.
DECOYS = {
    "my_lib/__init__.py": "",
    "my_lib/post.py": 'def label(x):\n    return "decoy"\n',
    "loud.py": 'def shout(word):\n    return "decoy"\n',
}


def _write(root: pathlib.Path, files: Dict[str, str]) -> pathlib.Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _env(home: pathlib.Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENTOML_")}
    env["BENTOML_HOME"] = str(home)
    return env


def _save(project: pathlib.Path, target: pathlib.Path, home: pathlib.Path) -> pathlib.Path:
    """Save the project's service as its user does: ``python save.py`` in the project folder."""
    _run([sys.executable, "save.py", target], cwd=project, env=_env(home))
    return target


@pytest.fixture(scope="module")
def lazy_home(tmp_path_factory) -> pathlib.Path:
    return tmp_path_factory.mktemp("lazy_home")


@pytest.fixture(scope="module")
def lazy_bundle(tmp_path_factory, lazy_home) -> pathlib.Path:
    project = _write(tmp_path_factory.mktemp("lazy_project"), PROJECT)
    return _save(project, tmp_path_factory.mktemp("lazy_bundles") / "LazyLocalService", lazy_home)


@pytest.fixture
def decoy_cwd(tmp_path) -> pathlib.Path:
    """A working directory whose own ``my_lib`` and ``loud`` shadow the bundle's on sys.path."""
    return _write(tmp_path / "caller", DECOYS)


def test_save_carries_the_modules_reached_through_an_appended_sys_path_entry(lazy_bundle):
    src = lazy_bundle / "LazyLocalService" / "src"
    # Copied to the path its name gives: the bundle's importer finds it by that name.
    assert (src / "scaling.py").read_text() == PROJECT["local_dependencies/scaling.py"]
    assert (src / "loud.py").read_text() == PROJECT["local_dependencies/loud.py"]
    assert (src / "my_lib" / "tables.py").is_file() and (src / "my_lib" / "post.py").is_file()
    config = json.loads(_run([sys.executable, "-c", "import json, sys, yaml; "
                              "print(json.dumps(yaml.safe_load(open(sys.argv[1]))))",
                              lazy_bundle / "bentoml.yml"]).stdout)
    assert {"scaling", "loud", "my_lib", "my_lib.post", "my_lib.tables", "lazy_service"} <= set(
        config["service"]["local_modules"])
    # Neither the interpreter's nor the kernel's own code counts as the project's.
    assert not [m for m in config["service"]["local_modules"] if m.split(".")[0] in ("bentoml", "os", "sys")]


def test_bentoml_load_in_a_fresh_process(lazy_bundle, lazy_home, decoy_cwd):
    code = ("import bentoml, json, sys; svc = bentoml.load(sys.argv[1]); "
            "print(json.dumps([svc.predict([{'x': 1}, {'x': 2}, {'x': 5}]), svc.shout([{'word': 'hi'}])]))")
    out = _run([sys.executable, "-c", code, lazy_bundle], cwd=decoy_cwd, env=_env(lazy_home)).stdout
    assert json.loads(out) == [["two", "four", "many"], ["HI!"]]


#: The same package, without the sys.path entry: what 0.8's "No module named ..." hit alone.
PACKAGE_ONLY = {
    "plain_service.py": textwrap.dedent('''\
        import bentoml
        from bentoml.adapters import JsonInput


        class PlainLocalService(bentoml.BentoService):

            @bentoml.api(input=JsonInput())
            def predict(self, docs):
                from my_lib.post import label
                return [label(doc["x"]) for doc in docs]
        '''),
    "save.py": PROJECT["save.py"].replace("lazy_service import LazyLocalService", "plain_service import "
                                          "PlainLocalService").replace("LazyLocalService()", "PlainLocalService()"),
    **{rel: text for rel, text in PROJECT.items() if rel.startswith("my_lib/")},
}


@pytest.mark.parametrize("cwd", ["elsewhere", "decoy"])
def test_call_time_import_of_the_bundle_package(tmp_path, lazy_home, decoy_cwd, cwd):
    bundle = _save(_write(tmp_path / "project", PACKAGE_ONLY), tmp_path / "bundle", lazy_home)
    where = decoy_cwd if cwd == "decoy" else tmp_path
    code = "import bentoml, json, sys; print(json.dumps(bentoml.load(sys.argv[1]).predict([{'x': 4}])))"
    assert json.loads(_run([sys.executable, "-c", code, bundle], cwd=where, env=_env(lazy_home)).stdout) == ["four"]
    out = _run([sys.executable, "-m", "bentoml", "run", bundle, "predict", "--input", '{"x": 2}'],
               cwd=where, env=_env(lazy_home)).stdout
    assert json.loads(out) == "two"


def test_first_calls_from_many_threads_at_once(lazy_bundle, lazy_home, decoy_cwd):
    code = textwrap.dedent('''\
        import json, sys, threading
        import bentoml
        svc = bentoml.load(sys.argv[1])
        start, answers = threading.Barrier(16), []
        def call(i):
            start.wait()
            answers.append(svc.shout([{"word": "t"}]) if i % 2 else svc.predict([{"x": 2}]))
        threads = [threading.Thread(target=call, args=(i,)) for i in range(16)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(json.dumps(sorted(json.dumps(a) for a in answers)))
        ''')
    out = _run([sys.executable, "-c", code, lazy_bundle], cwd=decoy_cwd, env=_env(lazy_home)).stdout
    assert json.loads(out) == sorted(8 * ['["T!"]'] + 8 * ['["four"]'])


def test_a_module_missing_from_the_bundle_is_never_taken_from_elsewhere(lazy_bundle, lazy_home, decoy_cwd,
                                                                        tmp_path):
    bundle = tmp_path / "tampered"
    shutil.copytree(lazy_bundle, bundle)
    (bundle / "LazyLocalService" / "src" / "loud.py").unlink()
    proc = subprocess.run([sys.executable, "-m", "bentoml", "run", bundle, "shout", "--input", '{"word": "x"}'],
                          cwd=decoy_cwd, env=_env(lazy_home), capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "decoy" not in proc.stdout
    # The API's failure (its traceback goes to the log, as any user code error's) ends in one line:
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: API 'shout' failed: ModuleNotFoundError: No module named 'loud' in the "
                           "bundle's source folder"), proc.stderr


def test_bentoml_run(lazy_bundle, lazy_home, decoy_cwd):
    for api, given, expected in (("predict", '{"x": 2}', "four"), ("shout", '{"word": "run"}', "RUN!")):
        out = _run([sys.executable, "-m", "bentoml", "run", lazy_bundle, api, "--input", given],
                   cwd=decoy_cwd, env=_env(lazy_home)).stdout
        assert json.loads(out) == expected


@pytest.mark.parametrize("command", [["serve"], ["serve-gunicorn", "--workers", "2", "--enable-microbatch"]],
                         ids=["serve", "serve-gunicorn-2-workers"])
def test_served(lazy_bundle, lazy_home, decoy_cwd, command):
    server = Server([command[0], str(lazy_bundle), "--port", "0", *command[1:]],
                    env={"BENTOML_HOME": str(lazy_home)}, cwd=str(decoy_cwd))
    try:
        pids = set()
        for _ in range(40):  # until both workers answered (each imports on its first call)
            reply = server.post("/whoami", {})
            assert reply.status == 200, (reply, server.log)
            assert reply.json()["label"] == "two"
            pids.add(reply.json()["pid"])
            if len(pids) == (2 if "--workers" in command else 1):
                break
        assert len(pids) == (2 if "--workers" in command else 1), pids
        assert server.post("/predict", {"x": 2}).json() == "four"
        assert server.post("/shout", {"word": "served"}).json() == "SERVED!"
    finally:
        server.stop()


def test_two_versions_side_by_side_each_import_their_own_modules(tmp_path, lazy_home, decoy_cwd):
    project = _write(tmp_path / "project", PROJECT)
    one = _save(project, tmp_path / "one", lazy_home)
    (project / "my_lib" / "tables.py").write_text('NAMES = {2: "zwei", 4: "vier"}\n')
    two = _save(project, tmp_path / "two", lazy_home)
    # Both loaded before either imports my_lib; the caller's own my_lib stays its own.
    code = textwrap.dedent('''\
        import json, sys
        import bentoml
        import my_lib.post
        mine = sys.modules["my_lib.post"]
        one, two = bentoml.load(sys.argv[1]), bentoml.load(sys.argv[2])
        answers = [two.predict([{"x": 1}]), one.predict([{"x": 1}]), two.predict([{"x": 2}])]
        assert sys.modules["my_lib.post"] is mine and mine.label(1) == "decoy"
        assert "my_lib.tables" not in sys.modules and "scaling" not in sys.modules
        print(json.dumps(answers))
        ''')
    out = _run([sys.executable, "-c", code, one, two], cwd=decoy_cwd, env=_env(lazy_home)).stdout
    assert json.loads(out) == [["zwei"], ["two"], ["vier"]]


def test_pip_installed_package(lazy_bundle, tmp_path, decoy_cwd):
    venv = tmp_path / "venv"
    venv_with(lazy_bundle, venv)
    try:
        env = _env(tmp_path / "home")
        code = ("import json, LazyLocalService; svc = LazyLocalService.load(); "
                "print(json.dumps([svc.predict([{'x': 2}]), svc.shout([{'word': 'pip'}])]))")
        out = _run([venv / "bin" / "python", "-c", code], cwd=decoy_cwd, env=env).stdout
        assert json.loads(out) == [["four"], ["PIP!"]]
        out = _run([venv / "bin" / "LazyLocalService", "run", "shout", '--input={"word": "cli"}'],
                   cwd=decoy_cwd, env=env).stdout
        assert json.loads(out) == "CLI!"
    finally:
        shutil.rmtree(venv, ignore_errors=True)
