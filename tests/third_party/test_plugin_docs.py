"""docs/plugins.md shows the example plugin's files exactly as they are in the repository."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugins.md"
BLOCK = re.compile(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)```\n", re.S)


def test_every_file_block_matches_the_repository():
    blocks = BLOCK.findall(DOC.read_text())
    assert {path for path, _ in blocks} >= {
        "examples/bentoml-example-artifact/pyproject.toml",
        "examples/bentoml-example-artifact/bentoml_example_artifact/__init__.py",
        "examples/bentoml-example-deployer/bentoml_example_deployer/__init__.py",
    }
    for path, text in blocks:
        assert (ROOT / path).read_text() == text, f"docs/plugins.md is out of date for {path}"


def test_no_placeholder_is_left():
    assert "PLACEHOLDER" not in DOC.read_text()
