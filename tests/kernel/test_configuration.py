"""``bentoml.configuration`` and ``bentoml config``: the file, the environment, the keys.

Every test gets its own ``$BENTOML_HOME`` (the ``bentoml_home`` fixture, which
also drops ``BENTOML__*`` variables of the developer's environment).
"""
from __future__ import annotations

import multiprocessing
import os
import stat
import subprocess
import sys

import pytest
from click.testing import CliRunner

from bentoml import configuration
from bentoml.cli import cli
from bentoml.configuration.keys import KEYS, parse_size, validate_url
from bentoml.exceptions import ConfigurationError, InvalidArgument

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.fixture(autouse=True)
def _home(bentoml_home):
    yield bentoml_home


def _cfg(home) -> str:
    path = home / "bentoml.cfg"
    return path.read_text() if path.exists() else ""


def _config(*args: str):
    result = CliRunner().invoke(cli, ["config", *args])
    assert "Traceback" not in result.output + result.stderr
    return result


# -- values: environment > file > default ----------------------------------------------------------

def test_defaults_when_nothing_is_configured(bentoml_home):
    assert configuration.config_value("yatai_service.url") is None
    assert configuration.yatai_service_url() is None
    assert configuration.config_value("cache.max_size") == "10GiB"
    assert configuration.cache_max_bytes() == 10 << 30
    assert configuration.effective_config() == {
        "yatai_service.url": (None, "default"), "yatai_service.ca_bundle": (None, "default"),
        "yatai_service.token": (None, "default"), "cache.max_size": ("10GiB", "default")}
    assert not bentoml_home.exists()  # reading creates nothing


def test_the_file_then_the_environment(bentoml_home, monkeypatch):
    configuration.set_config_values({"yatai_service.url": "127.0.0.1:50051", "cache.max_size": "500MB"})
    assert "[yatai_service]\nurl = http://127.0.0.1:50051\n" in _cfg(bentoml_home)
    assert configuration.yatai_service_url() == "http://127.0.0.1:50051"
    assert configuration.cache_max_bytes() == 500 * 10 ** 6
    monkeypatch.setenv("BENTOML__YATAI_SERVICE__URL", "https://yatai.example.com:8443/")
    assert configuration.yatai_service_url() == "https://yatai.example.com:8443"
    assert configuration.effective_config()["yatai_service.url"] == ("https://yatai.example.com:8443", "env")
    assert configuration.effective_config()["cache.max_size"] == ("500MB", "file")
    monkeypatch.setenv("BENTOML__YATAI_SERVICE__URL", "")  # empty: "not set", over the file
    assert configuration.yatai_service_url() is None
    assert configuration.effective_config()["yatai_service.url"] == (None, "env")


def test_an_environment_override_does_not_read_a_broken_file(bentoml_home, monkeypatch):
    bentoml_home.mkdir()
    (bentoml_home / "bentoml.cfg").write_text("not ini\n")
    monkeypatch.setenv("BENTOML__YATAI_SERVICE__URL", "10.0.0.1:80")
    assert configuration.yatai_service_url() == "http://10.0.0.1:80"


def test_an_invalid_configured_value_names_where_it_was_set(bentoml_home, monkeypatch):
    bentoml_home.mkdir()
    (bentoml_home / "bentoml.cfg").write_text("[yatai_service]\nurl = ftp://x\ntoken = a b\n")
    with pytest.raises(ConfigurationError, match=r"yatai_service.url = 'ftp://x' \(in .*bentoml.cfg\) "
                                                 r"is invalid: .*scheme must be http or https"):
        configuration.yatai_service_url()
    with pytest.raises(ConfigurationError) as err:
        configuration.config_value("yatai_service.token")
    assert "a b" not in str(err.value) and "********" in str(err.value)  # the token is not echoed
    monkeypatch.setenv("BENTOML__CACHE__MAX_SIZE", "lots")
    with pytest.raises(ConfigurationError, match=r"\(from \$BENTOML__CACHE__MAX_SIZE\).*not a size"):
        configuration.cache_max_bytes()


def test_unknown_keys_suggest_the_nearest_one():
    with pytest.raises(InvalidArgument, match="unknown configuration key 'yatai_servce.url'; "
                                              "did you mean 'yatai_service.url'"):
        configuration.config_value("yatai_servce.url")
    with pytest.raises(InvalidArgument, match="known keys: yatai_service.url, "):
        configuration.set_config_values({"core.debug": "true"})
    assert configuration.config_value("YATAI_SERVICE.URL") is None  # configparser's keys ignore case


def test_unknown_environment_keys_are_reported(monkeypatch):
    monkeypatch.setenv("BENTOML__YATAI_SERVICE__URI", "x")
    monkeypatch.setenv("BENTOML__APISERVER__DEFAULT_PORT", "5000")  # a 0.x key
    found = configuration.unknown_environment_keys()
    assert found[0].startswith("BENTOML__APISERVER__DEFAULT_PORT: names the unknown key 'apiserver.default_port'")
    assert found[1] == ("BENTOML__YATAI_SERVICE__URI: names the unknown key 'yatai_service.uri'; "
                        "did you mean 'yatai_service.url'?")


# -- validators --------------------------------------------------------------------------------

@pytest.mark.parametrize("given, url", [
    ("127.0.0.1:50051", "http://127.0.0.1:50051"), ("yatai:50051", "http://yatai:50051"),
    ("  yatai.example.com:80 ", "http://yatai.example.com:80"), ("[::1]:50051", "http://[::1]:50051"),
    ("http://127.0.0.1:50051", "http://127.0.0.1:50051"), ("HTTPS://yatai.example.com/", "https://yatai.example.com"),
    ("https://proxy.example.com/team/yatai/", "https://proxy.example.com/team/yatai"),
    ("http://[::1]:8080", "http://[::1]:8080"),
])
def test_server_addresses(given, url):
    assert validate_url(given) == url


@pytest.mark.parametrize("given, says", [
    ("", "empty"), ("localhost", "give HOST:PORT"), (":50051", "give HOST:PORT"),
    ("127.0.0.1:0", "port '0'"), ("127.0.0.1:99999", "port '99999'"), ("127.0.0.1:http", "port 'http'"),
    ("grpc://127.0.0.1:50051", "scheme must be http or https, not 'grpc'"), ("ftp://x:1", "not 'ftp'"),
    ("https://user:pw@yatai.example.com", "set yatai_service.token"),
    ("http://x.example.com/?a=1", "query or fragment"), ("http://:8080", "names no host"),
    ("http://x:70000", "port is not a number"), ("bad host:80", "not a host name"),
    ("http://bad_host!:80", "not a host name"), ("http://a b:80", "space"),
])
def test_bad_server_addresses(given, says):
    with pytest.raises(InvalidArgument, match=says) as err:
        validate_url(given)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text, size", [
    ("4096", 4096), ("10GiB", 10 << 30), ("500MB", 500 * 10 ** 6), ("1.5 GB", 1500 * 10 ** 6),
    ("2g", 2 << 30), ("0", 0), ("512 KiB", 512 << 10), ("1TB", 10 ** 12), ("7b", 7),
])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "-1GB", "10 parsecs", "1e9", "GB"])
def test_bad_sizes(text):
    with pytest.raises(InvalidArgument, match="is not a size"):
        parse_size(text)


def test_ca_bundle_must_be_a_readable_pem_file(tmp_path, monkeypatch):
    (tmp_path / "ca.pem").write_text(PEM)
    (tmp_path / "notes.txt").write_text("hello")
    monkeypatch.chdir(tmp_path)
    configuration.set_config_values({"yatai_service.ca_bundle": "ca.pem"})
    assert configuration.config_value("yatai_service.ca_bundle") == str(tmp_path / "ca.pem")  # stored absolute
    with pytest.raises(InvalidArgument, match="yatai_service.ca_bundle: cannot read the CA bundle .*missing.pem"):
        configuration.set_config_values({"yatai_service.ca_bundle": "missing.pem"})
    with pytest.raises(InvalidArgument, match="notes.txt is not a PEM file"):
        configuration.set_config_values({"yatai_service.ca_bundle": "notes.txt"})
    os.remove(tmp_path / "ca.pem")  # removed after it was set: reading says so, naming the key
    with pytest.raises(ConfigurationError, match="yatai_service.ca_bundle = .* is invalid: cannot read"):
        configuration.config_value("yatai_service.ca_bundle")


# -- the file ----------------------------------------------------------------------------------

def test_set_is_all_or_nothing(bentoml_home):
    configuration.set_config_values({"cache.max_size": "1GB"})
    before = _cfg(bentoml_home)
    with pytest.raises(InvalidArgument, match="yatai_service.url: 'nope' is not a server address"):
        configuration.set_config_values({"cache.max_size": "2GB", "yatai_service.url": "nope"})
    with pytest.raises(InvalidArgument, match="the value is empty; to remove the key use `bentoml config unset"):
        configuration.set_config_values({"cache.max_size": " "})
    assert _cfg(bentoml_home) == before


def test_other_sections_of_a_0x_file_are_kept(bentoml_home):
    bentoml_home.mkdir()
    (bentoml_home / "bentoml.cfg").write_text(
        "[core]\nusage_tracking = false\n\n[apiserver]\ndefault_port = 5000\n[yatai_service]\nurl =\n")
    assert configuration.yatai_service_url() is None  # 0.x wrote an empty url for "local"
    configuration.set_config_values({"yatai_service.url": "127.0.0.1:50051"})
    text = _cfg(bentoml_home)
    assert "usage_tracking = false" in text and "default_port = 5000" in text
    assert configuration.yatai_service_url() == "http://127.0.0.1:50051"


def test_unset_and_reset(bentoml_home):
    configuration.set_config_values({"yatai_service.url": "h:1", "yatai_service.token": "t0k%en"})
    assert configuration.config_value("yatai_service.token") == "t0k%en"  # no interpolation
    configuration.unset_config_value("yatai_service.url")
    configuration.unset_config_value("yatai_service.url")  # not there any more: nothing happens
    assert configuration.yatai_service_url() is None
    assert _cfg(bentoml_home) == "[yatai_service]\ntoken = t0k%en\n\n"
    configuration.unset_config_value("yatai_service.token")
    assert not (bentoml_home / "bentoml.cfg").exists()  # no key left: no file
    configuration.set_config_values({"cache.max_size": "1GB"})
    assert configuration.reset_config() is True
    assert configuration.reset_config() is False
    assert configuration.config_value("cache.max_size") == "10GiB"


def test_the_file_is_owner_only_and_replaced_whole(bentoml_home):
    configuration.set_config_values({"yatai_service.token": "secret"})
    path = bentoml_home / "bentoml.cfg"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    inode = os.stat(path).st_ino
    configuration.set_config_values({"yatai_service.url": "h:1"})
    assert os.stat(path).st_ino != inode  # a new file renamed over the old: readers see one or the other
    assert sorted(os.listdir(bentoml_home)) == ["bentoml.cfg", "bentoml.cfg.lock"]  # no temporary left


@pytest.mark.parametrize("content, says", [
    ("[yatai_service]\nurl = h:1\ngarbage line\n", r"bentoml.cfg, line 3: cannot parse 'garbage line'"),
    ("url = h:1\n", r"bentoml.cfg, line 1: 'url = h:1' comes before any \[section\] header"),
    ("[a]\nx = 1\n[a]\n", r"bentoml.cfg, line 3: section 'a' already exists"),
    ("[a]\nx = 1\nx = 2\n", r"bentoml.cfg, line 3: option 'x' in section 'a' already exists"),
    (b"\xff\xfe[a]", r"bentoml.cfg is not UTF-8 text"),
])
def test_a_corrupt_file_is_named_with_its_line(bentoml_home, content, says):
    bentoml_home.mkdir()
    path = bentoml_home / "bentoml.cfg"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConfigurationError, match=says) as err:
        configuration.config_value("cache.max_size")
    assert "\n" not in str(err.value) and "bentoml config reset" in str(err.value)
    with pytest.raises(ConfigurationError, match=says):  # a writer does not overwrite what it cannot read
        configuration.set_config_values({"cache.max_size": "1GB"})
    result = _config("view")
    assert result.exit_code == 1 and str(path) in result.stderr and result.stderr.count("\n") == 1


def test_a_read_only_home_says_so(bentoml_home):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    bentoml_home.mkdir()
    os.chmod(bentoml_home, 0o500)
    try:
        with pytest.raises(ConfigurationError, match="cannot write .*bentoml.cfg: Permission denied"):
            configuration.set_config_values({"cache.max_size": "1GB"})
        assert configuration.config_value("cache.max_size") == "10GiB"  # reading still works
    finally:
        os.chmod(bentoml_home, 0o700)


def _set_many(key: str, values: list, home: str) -> None:
    os.environ["BENTOML_HOME"] = home
    for value in values:
        configuration.set_config_values({key: value})


def test_concurrent_sets_never_lose_each_other(bentoml_home, tmp_path):
    """Four processes rewrite the file 25 times each, each its own key: every last value survives."""
    (tmp_path / "ca.pem").write_text(PEM)
    work = {"yatai_service.url": [f"h:{i + 1}" for i in range(25)],
            "yatai_service.token": [f"token{i}" for i in range(25)],
            "cache.max_size": [f"{i}MB" for i in range(25)],
            "yatai_service.ca_bundle": [str(tmp_path / "ca.pem")] * 25}
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_set_many, args=(key, values, str(bentoml_home))) for key, values in work.items()]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert configuration.effective_config() == {
        "yatai_service.url": ("http://h:25", "file"), "yatai_service.token": ("token24", "file"),
        "cache.max_size": ("24MB", "file"), "yatai_service.ca_bundle": (str(tmp_path / "ca.pem"), "file")}


def test_cache_dir(bentoml_home, monkeypatch, tmp_path):
    assert configuration.cache_dir() == str(bentoml_home / "cache")
    monkeypatch.setenv("BENTOML_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert configuration.cache_dir() == str(tmp_path / "elsewhere")


# -- the CLI -----------------------------------------------------------------------------------

def test_cli_set_get_view_unset(bentoml_home):
    result = _config("set", "yatai_service.url=127.0.0.1:50051", "yatai_service.token=s3cr=t")
    assert (result.exit_code, result.output) == (0, "")
    assert _config("get", "yatai_service.url").stdout == "http://127.0.0.1:50051\n"
    assert _config("get", "yatai_service.token").stdout == "s3cr=t\n"  # asked for by name: shown
    assert _config("view").stdout == "[yatai_service]\nurl = http://127.0.0.1:50051\ntoken = ********\n"
    assert _config("unset", "yatai_service.url", "yatai_service.token").exit_code == 0
    result = _config("get", "yatai_service.url")
    assert (result.exit_code, result.stderr) == (1, "Error: yatai_service.url is not set\n")
    assert _config("get", "cache.max_size").stdout == "10GiB\n"
    result = _config("view")
    assert result.stdout == "" and "holds no settings" in result.stderr


@pytest.mark.parametrize("args, says", [
    (["set", "yatai_service.url"], "'yatai_service.url' is not KEY=VALUE"),
    (["set", "=1"], "'=1' is not KEY=VALUE"),
    (["set", "yatai_servce.url=h:1"], "did you mean 'yatai_service.url'?"),
    (["set", "yatai_service.url=h:1", "yatai_service.url=h:2"], "yatai_service.url is given twice"),
    (["set", "yatai_service.url=grpc://h:1"], "scheme must be http or https"),
    (["set", "cache.max_size="], "the value is empty"),
    (["get", "cache.maxsize"], "did you mean 'cache.max_size'?"),
    (["unset", "yatai_service.url", "nope.nope"], "unknown configuration key 'nope.nope'"),
    (["set"], "Missing argument"),
])
def test_cli_usage_errors_exit_2(bentoml_home, args, says):
    result = _config(*args)
    assert result.exit_code == 2, result.output
    assert says in result.stderr and result.stdout == ""
    assert not (bentoml_home / "bentoml.cfg").exists()  # nothing half-applied


def test_cli_view_effective(bentoml_home, monkeypatch):
    _config("set", "yatai_service.token=abc", "cache.max_size=1GB")
    monkeypatch.setenv("BENTOML__YATAI_SERVICE__URL", "h:1")
    monkeypatch.setenv("BENTOML__YATAI_SERVICE__URI", "typo")
    result = _config("view-effective")
    assert result.exit_code == 0
    out = result.stdout
    assert "[yatai_service]\n" in out and "url = http://h:1\n" in out and "(from $BENTOML__YATAI_SERVICE__URL)" in out
    assert "token = ********" in out and "abc" not in out
    assert "# ca_bundle is not set" in out and "max_size = 1GB" in out
    assert "ignoring BENTOML__YATAI_SERVICE__URI: names the unknown key 'yatai_service.uri'; did you mean" in result.stderr
    import json
    data = json.loads(_config("view-effective", "-o", "json").stdout)
    assert data["yatai_service.url"] == {"value": "http://h:1", "source": "env", "doc": KEYS["yatai_service.url"].doc}
    assert data["yatai_service.token"]["value"] == "********"
    result = _config("set", "yatai_service.url=h:2")
    assert "note: $BENTOML__YATAI_SERVICE__URL is set and wins" in result.stderr


def test_cli_reset(bentoml_home):
    _config("set", "cache.max_size=1GB")
    result = _config("reset")
    assert result.exit_code == 0 and "Removed" in result.stderr
    assert not (bentoml_home / "bentoml.cfg").exists()
    assert "nothing to reset" in _config("reset").stderr


def test_the_command_as_a_user_runs_it(bentoml_home):
    """A real process: ``bentoml config set`` then ``get``, with the spec's example line."""
    env = {**os.environ, "BENTOML_HOME": str(bentoml_home)}
    run = [sys.executable, "-m", "bentoml", "config"]
    done = subprocess.run(run + ["set", "yatai_service.url=127.0.0.1:50051"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    got = subprocess.run(run + ["get", "yatai_service.url"], env=env, capture_output=True, text=True)
    assert got.stdout == "http://127.0.0.1:50051\n"


def test_bentoml_yatai_token_is_the_tokens_short_variable(bentoml_home, monkeypatch):
    """Issue 14's ``BENTOML_YATAI_TOKEN``: read after 0.x's ``BENTOML__YATAI_SERVICE__TOKEN``."""
    from bentoml import configuration

    monkeypatch.setenv("BENTOML_YATAI_TOKEN", "short-var-token")
    assert configuration.config_value("yatai_service.token") == "short-var-token"
    monkeypatch.setenv("BENTOML__YATAI_SERVICE__TOKEN", "long-var-token")
    assert configuration.config_value("yatai_service.token") == "long-var-token"
    monkeypatch.delenv("BENTOML__YATAI_SERVICE__TOKEN")
    monkeypatch.setenv("BENTOML_YATAI_TOKEN", "has space")
    with pytest.raises(Exception, match=r"from \$BENTOML_YATAI_TOKEN"):
        configuration.config_value("yatai_service.token")
