"""Who may reach what of notifications: pure decisions of the caller and the resource, no I/O.

- A subscriber reaches only its own subscriptions, their deliveries and its escalations: another's answer
  404, like one that does not exist. SQL narrows by the subscriber `subscriber_of` decides.
- A subscription covers only episodes within the scope of the subscriber's credentials.
- An operator reads every subscription's dead letters, read only, without the events, sees every
  subscription's backlog and breaker, and pauses and resumes any subscription (the reason names the operator).

The routes use them through one dependency (`routes.dependencies`).
"""

from __future__ import annotations

from services.notifications.domain.filters import Filter, parse_scope, within_scope
from shared.auth import Caller, Role

SUBSCRIBERS = (Role.SUBSCRIBER,)
"""The roles that manage subscriptions and read their deliveries and escalations."""

OPERATORS = (Role.OPERATOR,)
"""The roles that read every subscription's dead letters and backlog, and pause and resume any subscription."""


def subscriber_of(caller: Caller) -> str:
    """Whose subscriptions, deliveries and escalations the caller reaches: its own organisation's."""
    return caller.org


def subscription_filter(caller: Caller, requested: Filter | None) -> Filter | None:
    """The episodes a new subscription of the caller covers: those it asks for, by default those of its
    credentials' scope; None when that is outside the scope (or it has none)."""
    wanted = requested if requested is not None else parse_scope(caller.scope)
    return wanted if wanted is not None and within_scope(wanted, caller.scope) else None
