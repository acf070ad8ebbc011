"""Every test run gets a ``$BENTOML_HOME`` of its own, never the developer's ``~/bentoml``.

Tests that serve a bundle directory or run the CLI without naming a home would
otherwise open ``~/bentoml/storage.db``: whatever another program, an earlier
run or a newer schema left there would make them fail, and they would leave
bundles behind in it.  Tests that need a home of their own still set one (the
``bentoml_home`` fixture, the e2e ``repo_home``); this is the default under them.
Environment overrides of the configuration (``BENTOML__*``) and the cache
directory are dropped for the same reason.
"""
import os
import shutil
import tempfile

_run_home = None


def pytest_configure(config):
    global _run_home
    _run_home = tempfile.mkdtemp(prefix="bentoml-test-home-")
    os.environ["BENTOML_HOME"] = _run_home
    for var in [v for v in os.environ if v.startswith("BENTOML__") or v in ("BENTOML_CACHE_DIR", "BENTOML_YATAI_TOKEN")]:
        del os.environ[var]


def pytest_unconfigure(config):
    if _run_home is not None:
        shutil.rmtree(_run_home, ignore_errors=True)
