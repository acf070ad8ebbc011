"""Meta-tests: every server option (a :class:`ServerConfig` field) is documented in the
README's table with its flag, environment variable and default, and ``--help`` of both
serve commands shows the default and variable generated from the same field."""
from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

from bentoml.server.config import ENVIRONMENT, SERVER_OPTIONS, ServerConfig

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def _serving_table() -> list:
    """The rows (lists of cells) of the table in the README's "Serving" section."""
    text = README.read_text()
    section = re.search(r"^## Serving\n(.*?)^## ", text, re.M | re.S)
    assert section, "README.md has no '## Serving' section"
    rows = [line.strip().strip("|").split("|") for line in section.group(1).splitlines()
            if line.startswith("|")]
    return [[cell.strip() for cell in row] for row in rows[2:]]  # past the header and its rule


def test_every_option_is_in_the_readme_table():
    rows = _serving_table()
    problems = []
    for option in SERVER_OPTIONS:
        row = next((r for r in rows if f"`{option.flag}`" in r[0].split(" ")), None)
        if row is None:
            problems.append(f"{option.name}: no row for `{option.flag}`")
            continue
        flag, env, default = row[0], row[1], row[2]
        if option.off_flag and f"`{option.off_flag}`" not in flag:
            problems.append(f"{option.name}: `{option.off_flag}` missing from {flag!r}")
        if env != f"`{option.env}`":
            problems.append(f"{option.name}: environment variable is {env!r}, not `{option.env}`")
        if default != option.shown_default:
            problems.append(f"{option.name}: default is {default!r}, not {option.shown_default!r}")
    assert not problems, "README.md's server option table is out of date:\n" + "\n".join(problems)
    assert len(rows) == len(SERVER_OPTIONS), [r[0] for r in rows]


def test_every_field_is_an_option_with_an_environment_variable():
    import attrs

    assert [option.name for option in SERVER_OPTIONS] == [f.name for f in attrs.fields(ServerConfig)]
    assert sorted(field for field, _parse in ENVIRONMENT.values()) == sorted(o.name for o in SERVER_OPTIONS)
    assert all(option.env.startswith("BENTOML_") for option in SERVER_OPTIONS)


@pytest.mark.parametrize("command", ["serve", "serve-gunicorn"])
def test_help_shows_each_generated_default(command):
    # A real process, as a user runs it (the CLI configures logging for its process).
    out = subprocess.run([sys.executable, "-m", "bentoml", command, "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    shown = " ".join(out.stdout.split())  # help text is wrapped
    for option in SERVER_OPTIONS:
        assert option.flag in shown, option.name
        assert f"[env {option.env}; default {option.shown_default}]" in shown, (option.name, shown)
    assert ("-w, --workers" in shown) == (command == "serve-gunicorn")
    assert ("--production" in shown) == (command == "serve")
