"""The network's protocol: adopt a version with its effective date, read the one in force and the history (HTTP ↔
`handlers.adopt_protocol`, `handlers.protocol_history`; the rules in `domain.protocol`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from importlib import resources
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from services.pathway import access
from services.pathway.domain.protocol import GUIDELINE_PROTOCOL, Protocol, ProtocolValues, Refused
from services.pathway.domain.what_if import EpisodeDifference, Escalation, figures_by_practice, network_total
from services.pathway.handlers import adopt_protocol, protocol_history, what_if
from services.pathway.store import PathwayStore
from services.pathway.store.protocols import Adoption
from shared.auth import Caller, allow
from shared.http import DomainRejected
from shared.pages import static_page_router
from shared.service import RuntimeDep

router = APIRouter(prefix="/v1/network/protocols", tags=["network protocol"])
# The page for the network and its practices (Dutch): the protocol in force, its history, a draft tried on history.
page_router = static_page_router(
    "/network/protocol",
    resources.files("services.pathway") / "documents" / "protocol",
    "protocol.html",
    ("protocol.js", "protocol.css"),
    "network protocol",
)


class Adopt(BaseModel):
    protocol: Protocol = Field(description="The version, its guideline version and its values.")
    effective_from: date = Field(description="The first day its decisions follow it; after today.")


class ProtocolVersion(BaseModel):
    version: str
    guideline_version: str
    title: str
    values: ProtocolValues
    effective_from: date | None = Field(description="null for the guideline as written (before any adoption).")
    adopted_at: datetime | None
    adopted_by: str | None


class Protocols(BaseModel):
    in_force: ProtocolVersion = Field(description="The protocol today's decisions follow.")
    adopted: list[ProtocolVersion] = Field(description="Every version adopted, in the order adopted.")


def _view(protocol: Protocol, adoption: Adoption | None = None) -> ProtocolVersion:
    """A protocol version as answered: `adoption` says from when and by whom (none for the guideline as written)."""
    return ProtocolVersion(
        version=protocol.version,
        guideline_version=protocol.guideline_version,
        title=protocol.title,
        values=protocol.values,
        effective_from=adoption.adopted.effective_from if adoption else None,
        adopted_at=adoption.adopted_at if adoption else None,
        adopted_by=adoption.adopted_by if adoption else None,
    )


def _adopted(adoption: Adoption) -> ProtocolVersion:
    return _view(adoption.adopted.protocol, adoption)


@router.post("", operation_id="adopt_protocol", status_code=201, response_model=ProtocolVersion)
async def adopt(
    body: Adopt, runtime: RuntimeDep, caller: Annotated[Caller, allow(*access.PROTOCOL_ADOPTERS)]
) -> ProtocolVersion:
    """Adopt a protocol version from `effective_from` on. 422 with the field and the reason for a value outside
    the guideline's room, an effective date not after today, a version adopted before or an unknown guideline."""
    try:
        adoption = await adopt_protocol(
            PathwayStore(runtime.pool, runtime.store), caller, body.protocol, body.effective_from, runtime.clock
        )
    except Refused as refused:
        raise DomainRejected(refused.reason, refused.field) from None
    return _adopted(adoption)


@router.get("", operation_id="read_protocols", response_model=Protocols)
async def read(runtime: RuntimeDep, caller: Annotated[Caller, allow(*access.PROTOCOL_READERS)]) -> Protocols:
    """The protocol in force today and every version adopted."""
    history = await protocol_history(PathwayStore(runtime.pool, runtime.store), runtime.clock)
    current = _adopted(history.in_force) if history.in_force else _view(GUIDELINE_PROTOCOL)
    return Protocols(in_force=current, adopted=[_adopted(a) for a in history.adopted])


# ---- what if: a draft tried on the network's history ---------------------------------------------------------

MAX_MONTHS = 24


class WhatIfRequest(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    draft: Protocol = Field(description="The protocol to try; adopting it is a separate step.")
    period_from: date = Field(alias="from", description="First day of the first month of referral looked at.")
    period_to: date = Field(alias="to", description="First day of the month after the last one looked at.")

    @field_validator("period_from", "period_to")
    @classmethod
    def _first_of_month(cls, day: date) -> date:
        if day.day != 1:
            raise ValueError("must be the first day of a month: the network's figures are per practice per month")
        return day

    @model_validator(mode="after")
    def _period(self) -> WhatIfRequest:
        months = (self.period_to.year - self.period_from.year) * 12 + self.period_to.month - self.period_from.month
        if not 1 <= months <= MAX_MONTHS:
            raise PydanticCustomError("period", f"to: must lie 1 to {MAX_MONTHS} months after from")
        return self


class Figures(BaseModel):
    """Counts of episodes, each a multiple of 5 (controlled rounding per practice and month, as the dashboard)."""

    episodes: int = Field(description="Episodes referred in the period, re-decided.")
    episodes_changed: int = Field(description="Of which the draft changes anything.")
    escalations_added: int = Field(description="Escalations to the referrer the draft adds.")
    escalations_removed: int = Field(description="Escalations it takes away.")
    episodes_with_evaluations_moved: int
    plans_changed: int = Field(description="Episodes whose last proposed treatment plan differs.")
    overdue_before: int = Field(description="Episodes with an evaluation gone overdue, as decided.")
    overdue_after: int = Field(description="The same under the draft.")


class PracticeFigures(Figures):
    practice_agb: str


class EscalationChange(BaseModel):
    reason: str
    explanation_nl: str


class EvaluationMove(BaseModel):
    evaluation_number: int
    due_before: datetime | None = Field(description="null: not planned as decided.")
    due_after: datetime | None = Field(description="null: not planned under the draft.")


class EpisodeChange(BaseModel):
    """One of the practice's own episodes the draft would change (pseudonymous id)."""

    episode_id: str
    referred_on: date
    escalations_added: list[EscalationChange]
    escalations_removed: list[EscalationChange]
    evaluations_moved: list[EvaluationMove]
    plan_changed: bool
    overdue_before: list[int] = Field(description="Evaluations (by number) gone overdue, as decided.")
    overdue_after: list[int] = Field(description="The same under the draft.")


class WhatIfAnswer(BaseModel):
    draft: str
    period_from: date
    period_to: date
    total: Figures = Field(description="The sum of the published practice figures.")
    practices: list[PracticeFigures] = Field(description="Per practice (a practice asking: its own only).")
    episodes: list[EpisodeChange] = Field(description="A practice asking: its own episodes that would differ.")


@router.post("/what-if", operation_id="what_if_protocol", response_model=WhatIfAnswer)
async def try_draft(
    body: WhatIfRequest, runtime: RuntimeDep, caller: Annotated[Caller, allow(*access.PROTOCOL_READERS)]
) -> WhatIfAnswer:
    """What a draft protocol would have changed for the episodes referred in the period, re-decided from the facts
    as recorded: the network sees counts per practice, a practice its own counts and its own episodes."""
    try:
        result = await what_if(
            PathwayStore(runtime.pool, runtime.store),
            runtime.database_address(),
            caller,
            body.draft,
            datetime.combine(body.period_from, time(), tzinfo=UTC),
            datetime.combine(body.period_to, time(), tzinfo=UTC),
            runtime.clock,
        )
    except Refused as refused:
        raise DomainRejected(refused.reason, refused.field) from None
    by_practice = figures_by_practice(result.counts)
    return WhatIfAnswer(
        draft=body.draft.version,
        period_from=body.period_from,
        period_to=body.period_to,
        total=Figures(**network_total(by_practice)),
        practices=[PracticeFigures(practice_agb=agb, **figures) for agb, figures in by_practice.items()],
        episodes=[_change(d) for d in result.differences],  # a practice's own (the handler lists no other's)
    )


def _change(difference: EpisodeDifference) -> EpisodeChange:
    return EpisodeChange(
        episode_id=difference.episode_id,
        referred_on=difference.referred_on,
        escalations_added=[_escalation(e) for e in difference.escalations_added],
        escalations_removed=[_escalation(e) for e in difference.escalations_removed],
        evaluations_moved=[
            EvaluationMove(evaluation_number=m.number, due_before=m.due_before, due_after=m.due_after)
            for m in difference.evaluations_moved
        ],
        plan_changed=difference.plan_changed,
        overdue_before=sorted(difference.overdue_before),
        overdue_after=sorted(difference.overdue_after),
    )


def _escalation(escalation: Escalation) -> EscalationChange:
    return EscalationChange(reason=escalation.reason, explanation_nl=escalation.explanation_nl)
