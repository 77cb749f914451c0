"""The command line: JSON facts in (file or stdin), assessment JSON out, exit 2 on invalid input."""

import json
from pathlib import Path

from typer.testing import CliRunner

from services.pathway.domain.guideline.facts import EXAMPLE_ACUTE_NORMAL, EXAMPLE_CHRONIC_DEVIATING
from services.pathway.guideline_cli import app

runner = CliRunner()


def test_evaluate_reads_a_file_and_prints_the_assessment(tmp_path: Path) -> None:
    source = tmp_path / "facts.json"
    source.write_text(json.dumps(EXAMPLE_CHRONIC_DEVIATING), encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(source)])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["duration"]["duration_class"] == "chronic"
    assert body["referrer_contact"]["required"] is True


def test_evaluate_reads_stdin_with_a_dash_and_an_explicit_version() -> None:
    result = runner.invoke(app, ["evaluate", "-", "--version", "kngf-lrp-2003"], input=json.dumps(EXAMPLE_ACUTE_NORMAL))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["course"]["beloop"] == "normaal"


def test_invalid_facts_exit_2_and_name_the_field() -> None:
    bad = {**EXAMPLE_ACUTE_NORMAL, "onset_date": "2030-01-01"}
    result = runner.invoke(app, ["evaluate", "-"], input=json.dumps(bad))
    assert result.exit_code == 2
    assert "onset_date: onset_date lies after decision_date" in result.stderr


def test_malformed_json_exits_2() -> None:
    result = runner.invoke(app, ["evaluate", "-"], input="{not json")
    assert result.exit_code == 2
    assert "invalid episode facts" in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(tmp_path / "absent.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_unknown_version_exits_2_naming_the_option() -> None:
    result = runner.invoke(app, ["evaluate", "-", "--version", "kngf-lrp-1999"], input=json.dumps(EXAMPLE_ACUTE_NORMAL))
    assert result.exit_code == 2
    assert "--version" in result.stderr and "kngf-lrp-1999" in result.stderr


def test_compare_prints_an_empty_list_for_one_version() -> None:
    result = runner.invoke(app, ["compare", "-"], input=json.dumps(EXAMPLE_ACUTE_NORMAL))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_versions_lists_the_known_rule_versions() -> None:
    result = runner.invoke(app, ["versions"])
    assert result.exit_code == 0
    assert result.stdout.split() == ["kngf-lrp-2003"]
