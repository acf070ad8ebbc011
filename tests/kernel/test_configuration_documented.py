"""Meta-tests: every configuration key is in the README's table (environment variable and
default from the same row of ``KEYS``), and every ``bentoml config`` command is shown there."""
from __future__ import annotations

import pathlib
import re

from bentoml.cli.config_commands import config
from bentoml.configuration.keys import KEYS

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def _section() -> str:
    found = re.search(r"^## Configuration\n(.*?)^## ", README.read_text(), re.M | re.S)
    assert found, "README.md has no '## Configuration' section"
    return found.group(1)


def _rows() -> list:
    rows = [line.strip().strip("|").split("|") for line in _section().splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row] for row in rows[2:]]  # past the header and its rule


def test_every_key_is_in_the_readme_table():
    rows = {row[0]: row for row in _rows()}
    problems = []
    for name, spec in KEYS.items():
        row = rows.get(f"`{name}`")
        if row is None:
            problems.append(f"{name}: no row")
            continue
        variables = ", ".join(f"`{var}`" for var in (spec.env_var, *spec.env_aliases))
        if row[1] != variables:
            problems.append(f"{name}: environment variables {row[1]!r}, not {variables}")
        if row[2] != (spec.default or "(unset)"):
            problems.append(f"{name}: default {row[2]!r}, not {spec.default or '(unset)'!r}")
    assert not problems, "README.md's configuration table is out of date:\n" + "\n".join(problems)
    assert len(rows) == len(KEYS), sorted(rows)


def test_every_config_command_is_shown():
    section = _section()
    missing = [name for name in config.commands if f"bentoml config {name}" not in section]
    assert not missing, f"README.md's Configuration section does not show: {missing}"


def test_every_key_has_a_one_line_doc():
    for name, spec in KEYS.items():
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", name), name
        assert spec.doc and "\n" not in spec.doc, name
