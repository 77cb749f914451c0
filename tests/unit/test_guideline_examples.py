"""The example facts files the README uses run through the command line as the README shows them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from deploy import cli
from deploy.local import ROOT

EXAMPLES = ROOT / "examples" / "guideline"


def test_the_readme_uses_every_example():
    readme = (ROOT / "README.md").read_text()
    names = sorted(path.name for path in EXAMPLES.glob("*.json"))
    assert names == ["acute-normal.json", "chronic-deviating.json"]
    for name in names:
        assert f"examples/guideline/{name}" in readme


@pytest.mark.parametrize(
    ("name", "duration_class", "beloop"),
    [("acute-normal.json", "acute", "normaal"), ("chronic-deviating.json", "chronic", "afwijkend")],
)
def test_evaluate_decides_on_each_example(name, duration_class, beloop):
    result = CliRunner().invoke(cli.app, ["guideline", "evaluate", str(EXAMPLES / name)])
    assert result.exit_code == 0, result.output
    decided = json.loads(result.stdout)
    assert decided["duration"]["duration_class"] == duration_class
    assert decided["course"]["beloop"] == beloop


def test_compare_runs_on_an_example():
    result = CliRunner().invoke(cli.app, ["guideline", "compare", str(EXAMPLES / "chronic-deviating.json")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []  # one rule version so far: nothing differs
