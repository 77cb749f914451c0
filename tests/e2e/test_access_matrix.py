"""Every route of every service × every role: the right ones get through, the others get 403, nobody
without a token gets anything, and nothing answers 5xx."""

from __future__ import annotations

import importlib
import re
import uuid

import httpx
import pytest

from deploy.local import SERVICES, dev_headers
from shared.auth import Role
from tests.e2e.access import OPEN_PAGES, OPEN_ROUTES, Expect, Matrix
from tests.e2e.conftest import running_system

pytestmark = pytest.mark.e2e

SAMPLE_ORG = {
    Role.PRACTICE: "04000001",
    Role.REFERRER: "01000001",
    Role.NETWORK: "network-test",
    Role.SUBSCRIBER: "subscriber-test",
    Role.OPERATOR: "ops",
    Role.SERVICE: "test-service",
}


def matrix_of(service: str) -> Matrix:
    return importlib.import_module(f"tests.e2e.access.{service}").MATRIX


def published_routes(openapi: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in openapi["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


async def test_every_route_admits_exactly_the_roles_in_the_matrix(fresh_database, infrastructure, tmp_path):
    failures: list[str] = []
    with running_system(fresh_database, infrastructure.bootstrap, tmp_path) as system:
        async with httpx.AsyncClient(timeout=30) as client:
            for service in SERVICES:
                base = system.url(service)
                openapi = (await client.get(f"{base}/openapi.json")).json()
                routes = published_routes(openapi) - OPEN_ROUTES
                matrix = matrix_of(service)
                missing, extra = routes - set(matrix), set(matrix) - routes
                assert not missing, f"{service}: routes without an access expectation: {sorted(missing)}"
                assert not extra, f"{service}: expectations for routes that do not exist: {sorted(extra)}"
                for (method, path), expectations in sorted(matrix.items()):
                    assert set(expectations) == set(Role), f"{service} {method} {path}: every role needs an entry"
                    url = f"{base}{concrete(path)}"
                    anonymous = await client.request(method, url, json={})
                    if anonymous.status_code != 401:
                        failures.append(f"{service} {method} {path} without token: {anonymous.status_code}")
                    forged = await client.request(method, url, json={}, headers={"authorization": "Bearer " + "x" * 40})
                    if forged.status_code != 401:
                        failures.append(f"{service} {method} {path} forged token: {forged.status_code}")
                    for role, expect in expectations.items():
                        response = await client.request(
                            method, url, json={}, headers=dev_headers(role.value, SAMPLE_ORG[role])
                        )
                        status = response.status_code
                        if status >= 500:
                            failures.append(f"{service} {method} {path} as {role.value}: {status}")
                        elif expect is Expect.DENY and status != 403:
                            failures.append(f"{service} {method} {path} as {role.value}: {status}, expected 403")
                        elif expect is Expect.ALLOW and status in (401, 403):
                            failures.append(f"{service} {method} {path} as {role.value}: {status}, expected access")
                for route in OPEN_ROUTES | OPEN_PAGES:
                    assert (await client.request(route[0], f"{base}{route[1]}")).status_code < 500
            page = await client.get(f"{system.url('reporting')}/network")
            assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert failures == []
