"""Who is calling: signed JWTs (PyJWT, HS256) carrying a role and the organisation the caller acts for.

Roles and what their `org` claim holds:
- practice    — the AGB code of the physiotherapy practice; reads and writes its own episodes
- referrer    — the AGB code of the GP (verwijzer); reads the episodes they referred, sends referrals
- network     — the regional network's id; aggregates only, never an episode
- subscriber  — the subscriber id; only its own subscriptions and deliveries
- operator    — runs the system: health, dead letters, retention lists; no clinical content
- service     — another Ruggengraat service (service-to-service calls)
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

ISSUER = "ruggengraat"
AUDIENCE = "ruggengraat"
ALGORITHM = "HS256"
DEVELOPMENT_SECRET = "development-only-secret-never-use-in-production-0123456789"


class Role(StrEnum):
    PRACTICE = "practice"
    REFERRER = "referrer"
    NETWORK = "network"
    SUBSCRIBER = "subscriber"
    OPERATOR = "operator"
    SERVICE = "service"


@dataclass(frozen=True)
class Caller:
    user: str
    role: Role
    org: str
    client: str | None = None
    #: For subscribers: what they may see, "practice:<AGB>" or "referrer:<AGB>"; None for other roles.
    scope: str | None = None

    def acts_for(self, role: Role, org: str | None) -> bool:
        return self.role is role and org is not None and self.org == org


def issue_token(
    secret: str,
    role: Role,
    org: str,
    user: str,
    *,
    scope: str | None = None,
    now: datetime | None = None,
    ttl: timedelta = timedelta(hours=8),
) -> str:
    issued = now or datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user,
        "role": role.value,
        "org": org,
        "iat": issued,
        "exp": issued + ttl,
        "jti": str(uuid.uuid4()),
    }
    if scope is not None:
        claims["scope"] = scope
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class InvalidToken(Exception):
    pass


def verify_token(secret: str, token: str) -> Caller:
    """The caller a token names, once its signature and claims check out. A token verified before is
    answered from a bounded cache until it expires: a GP or practice system sends the same token with every
    request, and checking the HMAC and the claims each time costs more than the rest of the request."""
    cached = _verified.get((secret, token))
    if cached is not None and cached[1] > time.time():
        return cached[0]
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
        scope = claims.get("scope")
        caller = Caller(
            user=str(claims["sub"]), role=Role(claims["role"]), org=str(claims["org"]), scope=scope and str(scope)
        )
    except (jwt.PyJWTError, KeyError, ValueError) as error:
        raise InvalidToken(str(error)) from error
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[(secret, token)] = (caller, float(claims["exp"]))
    return caller


_VERIFIED_MAX = 10_000
_verified: dict[tuple[str, str], tuple[Caller, float]] = {}


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, reason, headers={"WWW-Authenticate": "Bearer"})


# Declares the scheme in each service's OpenAPI (the docs page's Authorize button); the 401 is ours.
BEARER = HTTPBearer(
    bearerFormat="JWT",
    description="A JWT (HS256) with the caller's `role` and `org`; `./ruggengraat token` prints one in development.",
    auto_error=False,
)


async def current_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]
) -> Caller:
    if credentials is None or not credentials.credentials.strip():
        raise _unauthorized("a bearer token is required")
    try:
        caller = verify_token(request.app.state.jwt_secret, credentials.credentials.strip())
    except InvalidToken as error:
        raise _unauthorized(f"invalid token: {error}") from error
    client = request.client.host if request.client else None
    caller = Caller(caller.user, caller.role, caller.org, client, caller.scope)
    request.state.caller = caller
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


def allow(*roles: Role) -> Any:  # what fastapi.Depends returns
    """A dependency admitting only the given roles (403 for the others, 401 without a valid token)."""

    async def check(caller: CallerDep) -> Caller:
        if caller.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {caller.role.value} may not use this route")
        return caller

    check.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
    return Depends(check)


def service_headers(secret: str, service: str) -> dict[str, str]:
    """What one Ruggengraat service sends when it calls another."""
    token = issue_token(secret, Role.SERVICE, service, f"service:{service}", ttl=timedelta(minutes=5))
    return {"authorization": f"Bearer {token}"}
