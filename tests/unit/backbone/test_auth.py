"""Caller tokens: what is accepted, what is refused, and production's refusal of development secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from deploy.cli import app
from services.intake.keys.encryption import keyring_document
from services.intake.settings import IntakeSettings
from shared.auth import ALGORITHM, DEVELOPMENT_SECRET, InvalidToken, Role, issue_token, verify_token
from shared.settings import ServiceSettings

SECRET = "a-test-secret-that-is-long-enough-0123456789"


def test_a_token_carries_role_organisation_and_scope():
    caller = verify_token(SECRET, issue_token(SECRET, Role.SUBSCRIBER, "gp-his", "u1", scope="referrer:01234567"))
    assert (caller.role, caller.org, caller.user, caller.scope) == (
        Role.SUBSCRIBER,
        "gp-his",
        "u1",
        "referrer:01234567",
    )
    assert caller.acts_for(Role.SUBSCRIBER, "gp-his") and not caller.acts_for(Role.PRACTICE, "gp-his")


@pytest.mark.parametrize(
    "token",
    [
        issue_token("another-secret-that-is-long-enough-0123456789", Role.OPERATOR, "ops", "u"),
        issue_token(SECRET, Role.PRACTICE, "04123456", "u", now=datetime.now(UTC) - timedelta(hours=9)),
        jwt.encode(
            {
                "sub": "u",
                "role": "practice",
                "org": "x",
                "iss": "ruggengraat",
                "aud": "someone-else",
                "iat": datetime.now(UTC),
                "exp": datetime.now(UTC) + timedelta(hours=1),
            },
            SECRET,
            ALGORITHM,
        ),
        jwt.encode(
            {
                "sub": "u",
                "role": "emperor",
                "org": "x",
                "iss": "ruggengraat",
                "aud": "ruggengraat",
                "iat": datetime.now(UTC),
                "exp": datetime.now(UTC) + timedelta(hours=1),
            },
            SECRET,
            ALGORITHM,
        ),
        "eyJhbGciOiJub25lIn0.eyJyb2xlIjoib3BlcmF0b3IifQ.",  # alg "none", unsigned
        "not a token",
    ],
    ids=["wrong secret", "expired", "wrong audience", "unknown role", "alg none", "garbage"],
)
def test_tokens_that_are_not_ours_or_no_longer_valid_are_refused(token: str):
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)


def test_production_refuses_the_development_secrets(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RUGGENGRAAT_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/ruggengraat")
    with pytest.raises(ValidationError, match="jwt_secret"):
        ServiceSettings()
    monkeypatch.setenv("JWT_SECRET", SECRET)
    assert ServiceSettings().jwt_secret == SECRET
    with pytest.raises(ValidationError, match="pseudonym_secret"):
        IntakeSettings()
    monkeypatch.setenv("PSEUDONYM_SECRET", SECRET)
    with pytest.raises(ValidationError, match="key_encryption_keys"):
        IntakeSettings()
    monkeypatch.setenv("KEY_ENCRYPTION_KEYS", keyring_document({"2026-12": b"k" * 32}, "2026-12"))
    assert IntakeSettings().pseudonym_secret == SECRET
    assert IntakeSettings().key_encryption().current == "2026-12"


def test_the_token_command_issues_in_development_and_refuses_in_production(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("RUGGENGRAAT_ENV", raising=False)
    monkeypatch.delenv("JWT_SECRET", raising=False)
    issued = CliRunner().invoke(app, ["token", "--role", "practice", "--org", "04123456"])
    assert issued.exit_code == 0
    assert verify_token(DEVELOPMENT_SECRET, issued.output.strip()).org == "04123456"
    assert CliRunner().invoke(app, ["token", "--role", "emperor", "--org", "x"]).exit_code == 2
    monkeypatch.setenv("RUGGENGRAAT_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/ruggengraat")
    monkeypatch.setenv("JWT_SECRET", SECRET)
    assert CliRunner().invoke(app, ["token", "--role", "practice", "--org", "04123456"]).exit_code == 2


def test_a_token_verified_before_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch):
    issued = datetime.now(UTC)
    token = issue_token(SECRET, Role.PRACTICE, "04123456", "u", now=issued, ttl=timedelta(minutes=5))
    assert verify_token(SECRET, token).org == "04123456"
    assert verify_token(SECRET, token).org == "04123456"  # answered from the cache
    later = (issued + timedelta(minutes=6)).timestamp()
    monkeypatch.setattr("shared.auth.time.time", lambda: later)
    monkeypatch.setattr("jwt.api_jwt.datetime", _FrozenDatetime(later))
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)
    with pytest.raises(InvalidToken):
        verify_token("another-secret-that-is-long-enough-0123456789", token)  # a cached token needs its secret


class _FrozenDatetime:
    """Stands in for PyJWT's `datetime` so its expiry check sees `at` as now."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self, tz=None):
        return datetime.fromtimestamp(self.at, tz)

    def __getattr__(self, name):
        return getattr(datetime, name)
