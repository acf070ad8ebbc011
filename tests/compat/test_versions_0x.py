"""BentoML 0.8's ``@bentoml.ver(major, minor)``, ``BentoService.set_version``, ``svc.env`` and
``bentoml.configure_logging``.

From the 0.8 API reference: "'Patch' is provided (or auto generated) when calling
BentoService#save, while 'Major' and 'Minor' can be defined with '@ver'", with
its example ``@ver(major=1, minor=4)`` + ``svc.set_version("2019-08.iteration20")``
giving version ``1.4.2019-08.iteration20``.
"""
from __future__ import annotations

import json
import re

import pytest

import bentoml
from bentoml.bundle.templates import pep440_version
from bentoml.exceptions import InvalidArgument, RepositoryError

GENERATED = r"\d{14}_[0-9A-F]{6}"

SERVICE = '''\
    import bentoml
    from bentoml.adapters import JsonInput


    @bentoml.ver(major=1, minor=4)
    @bentoml.env(pip_packages=["requests"])
    class MyMLService(bentoml.BentoService):
        @bentoml.api(input=JsonInput())
        def echo(self, docs):
            return docs


    class Unversioned(bentoml.BentoService):
        @bentoml.api(input=JsonInput())
        def echo(self, docs):
            return docs
    '''


@pytest.fixture
def services(write_service):
    return write_service(SERVICE, "versioned_service")


def test_ver_makes_the_generated_version_its_patch(services, python):
    svc = services.MyMLService()
    assert svc.version is None
    svc.save()
    assert re.fullmatch(rf"1\.4\.{GENERATED}", svc.version), svc.version
    got = json.loads(python("-m", "bentoml", "get", "MyMLService:latest").stdout)
    assert got["version"] == svc.version


def test_set_version_with_ver_is_known_before_save_and_saved_as_is(services):
    svc = services.MyMLService()
    assert svc.set_version("2019-08.iteration20") == "1.4.2019-08.iteration20"
    assert svc.version == "1.4.2019-08.iteration20"
    svc.save()
    assert bentoml.load("MyMLService:1.4.2019-08.iteration20").version == "1.4.2019-08.iteration20"


def test_set_version_without_a_string_generates_one_now(services):
    svc = services.Unversioned()
    version = svc.set_version()
    assert re.fullmatch(GENERATED, version) and svc.version == version
    svc.save()
    assert bentoml.load("Unversioned:latest").version == version


def test_save_version_is_the_patch_as_in_0_8(services):
    svc = services.MyMLService()
    svc.save(version="7")
    assert svc.version == "1.4.7"
    with pytest.raises(RepositoryError, match="MyMLService:1.4.7 already exists"):
        services.MyMLService().save(version="7")


def test_latest_is_the_last_saved_not_the_highest_string(services):
    first, second = services.MyMLService(), services.MyMLService()
    first.set_version("b")
    second.set_version("a")
    first.save()
    second.save()
    assert bentoml.load("MyMLService:latest").version == "1.4.a"
    assert bentoml.load("MyMLService").version == "1.4.a"


@pytest.mark.parametrize("bad", ["latest", "../x", "a/b", "", "-x"])
def test_set_version_validates_like_every_version(services, bad):
    with pytest.raises(InvalidArgument, match="invalid version"):
        services.Unversioned().set_version(bad)


@pytest.mark.parametrize("major,minor", [(-1, 0), ("1", 2), (1, 2.5), (True, 0)])
def test_ver_takes_non_negative_ints(major, minor):
    with pytest.raises(InvalidArgument, match=r"@ver\("):
        bentoml.ver(major, minor)


def test_the_installed_package_version_orders_as_the_bundle_versions():
    from packaging.version import Version

    assert pep440_version("1.4.20200121114004_360ECB") == "1.4.20200121114004+360ecb"
    assert Version(pep440_version("1.4.20200121114004_360ECB")) < Version(pep440_version("1.5.20190101000000_AAAAAA"))


def test_svc_env_is_what_env_declared(services):
    env = services.MyMLService().env
    assert env.pip_dependencies == ["requests"] and env.auto_pip_dependencies is False


# -- bentoml.configure_logging ---------------------------------------------------------------------
LOGGING_SCRIPT = '''\
import logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stdout)  # the application's own logging
import bentoml
bentoml.configure_logging({level})
logging.getLogger("bentoml.example").debug("a debug line")
logging.getLogger("bentoml.example").info("an info line")
logging.getLogger("bentoml.example").warning("a warning line")
'''


@pytest.mark.parametrize("level,shown", [
    ("'DEBUG'", ["a debug line", "an info line", "a warning line"]),
    ("logging.DEBUG", ["a debug line", "an info line", "a warning line"]),
    ("", ["an info line", "a warning line"]),
    ("logging_level='warning'", ["a warning line"]),
])
def test_configure_logging_writes_bentoml_logs_to_stderr_from_the_level(python, level, shown):
    proc = python("-c", LOGGING_SCRIPT.format(level=level))
    lines = [line for line in proc.stderr.splitlines() if "bentoml.example" in line]
    assert [line.split(": ", 1)[1] for line in lines] == shown
    assert "bentoml.example" not in proc.stdout  # once, not also through the application's handler


def test_configure_logging_refuses_an_unknown_level():
    with pytest.raises(InvalidArgument, match="logging_level must be a logging level"):
        bentoml.configure_logging("LOUD")
