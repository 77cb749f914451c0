"""Command line for the guideline engine: read episode facts as JSON, print the decisions as JSON."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from services.pathway.domain.guideline import (
    CURRENT,
    DEFAULT_REGISTRY,
    EpisodeFacts,
    UnknownRuleVersion,
    compare,
    evaluate,
)

app = typer.Typer(help="KNGF low-back-pain guideline engine (decision support, no I/O besides this CLI).")

INVALID_INPUT = 2

Source = Annotated[str, typer.Argument(help="Path to a JSON file with the episode facts, or '-' for stdin.")]


@app.callback()
def main() -> None:
    """Decide on episode facts under a versioned KNGF rule set."""


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code=INVALID_INPUT)


def _read_facts(source: str) -> EpisodeFacts:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise _fail(f"cannot read {source}: {error.strerror or error}") from None
    try:
        return EpisodeFacts.model_validate_json(text)
    except ValidationError as error:
        lines = [
            f"  {'.'.join(str(part) for part in item['loc']) or '(root)'}: {item['msg']}" for item in error.errors()
        ]
        raise _fail("invalid episode facts:\n" + "\n".join(lines)) from None


@app.command("evaluate")
def evaluate_command(
    source: Source,
    version: Annotated[str, typer.Option("--version", help="Rule version id.")] = CURRENT,
) -> None:
    """Print every guideline decision for the episode as JSON."""
    facts = _read_facts(source)
    try:
        assessment = evaluate(facts, version=version)
    except UnknownRuleVersion as error:
        raise _fail(f"--version: {error}") from None
    typer.echo(assessment.model_dump_json(indent=2))


@app.command("compare")
def compare_command(
    source: Source,
    version_a: Annotated[str, typer.Option("--version-a", help="First rule version id.")] = CURRENT,
    version_b: Annotated[str, typer.Option("--version-b", help="Second rule version id.")] = CURRENT,
) -> None:
    """Print the decisions that differ between two rule versions as JSON."""
    facts = _read_facts(source)
    try:
        differences = compare(facts, version_a, version_b)
    except UnknownRuleVersion as error:
        option = "--version-a" if error.version == version_a else "--version-b"
        raise _fail(f"{option}: {error}") from None
    typer.echo(json.dumps([d.model_dump(mode="json") for d in differences], indent=2, ensure_ascii=False))


@app.command("versions")
def versions_command() -> None:
    """List the rule versions this engine knows."""
    for version in DEFAULT_REGISTRY.versions():
        typer.echo(version)
