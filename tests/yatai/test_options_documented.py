"""Meta-test: every option of ``bentoml yatai-service-start`` is in the README's table, with its default."""
from __future__ import annotations

import pathlib
import re

import click

from bentoml.cli.yatai_commands import yatai_service_start

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def _rows():
    section = re.search(r"^## Team repository\n(.*?)^## ", README.read_text(), re.M | re.S)
    assert section, "README.md has no '## Team repository' section"
    rows = [line.strip().strip("|").split("|") for line in section.group(1).splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row] for row in rows[2:]]


def test_every_option_is_in_the_readme_table():
    rows = _rows()
    documented = {token for row in rows for token in re.split(r"[`/, ]+", row[0]) if token}
    missing = []
    for param in yatai_service_start.params:
        if not isinstance(param, click.Option):
            continue
        for flag in param.opts + param.secondary_opts:
            if flag not in documented:
                missing.append(flag)
        row = next((r for r in rows if param.opts[0] in re.split(r"[`/, ]+", r[0])), None)
        if row is not None and isinstance(param.default, (int, float)) and not isinstance(param.default, bool):
            assert row[1] == f"{param.default:g}", (param.opts, row)
    assert not missing, f"README.md's yatai-service-start table lacks {missing}"
