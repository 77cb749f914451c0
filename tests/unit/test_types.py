"""The production code type-checks: mypy with the project's configuration (`[tool.mypy]` in pyproject.toml),
strict for `shared/` and every service's `domain/`, the default checks elsewhere. The cache is the default
`.mypy_cache/` at the root (ignored by git): a cold run takes about half a minute, a warm one a few seconds."""

from collections import Counter
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]


def test_the_production_code_type_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the configuration names its files relative to the root
    report, errors, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    failing = Counter(line.split(":", 1)[0] for line in report.splitlines() if ": error:" in line)
    by_file = "\n".join(f"  {path}: {count}" for path, count in sorted(failing.items()))
    assert status == 0, f"mypy finds errors in:\n{by_file}\n\n{report}{errors}"
