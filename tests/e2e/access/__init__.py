"""The role × route access matrix, one module per service. Every route a service publishes must be listed
with an expectation for every role; the matrix test fails on a route without an entry and on an entry
without a route."""

from __future__ import annotations

from enum import Enum

from shared.auth import Role


class Expect(Enum):
    ALLOW = "allow"  # past the access check: anything but 401, 403 and 5xx
    DENY = "deny"  # 403


Route = tuple[str, str]  # (HTTP method, path template as in the service's OpenAPI document)
Matrix = dict[Route, dict[Role, Expect]]

#: Routes open without a token: probes and metrics for the platform, with no clinical content.
OPEN_ROUTES: set[Route] = {("GET", "/health"), ("GET", "/ready")}
#: Open and not in OpenAPI: pages that hold no data (they fetch it with the user's token).
OPEN_PAGES: set[Route] = {("GET", "/network"), ("GET", "/operations"), ("GET", "/network/protocol")}


def only(*roles: Role) -> dict[Role, Expect]:
    return {role: Expect.ALLOW if role in roles else Expect.DENY for role in Role}
