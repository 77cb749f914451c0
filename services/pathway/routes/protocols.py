"""The network's protocol: adopt a version with its effective date, read the one in force and the history (HTTP ↔
`handlers.adopt_protocol`, `handlers.protocol_history`; the rules in `domain.protocol`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.pathway import access
from services.pathway.domain.protocol import GUIDELINE_PROTOCOL, Protocol, ProtocolValues, Refused, in_force
from services.pathway.handlers import Adoption, adopt_protocol, protocol_history
from services.pathway.store import PathwayStore
from shared.auth import Caller, allow
from shared.http import DomainRejected
from shared.service import RuntimeDep

router = APIRouter(prefix="/v1/network/protocols", tags=["network protocol"])


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


def _view(adoption: Adoption) -> ProtocolVersion:
    protocol = adoption.adopted.protocol
    return ProtocolVersion(
        version=protocol.version,
        guideline_version=protocol.guideline_version,
        title=protocol.title,
        values=protocol.values,
        effective_from=adoption.adopted.effective_from,
        adopted_at=adoption.adopted_at,
        adopted_by=adoption.adopted_by,
    )


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
    return _view(adoption)


@router.get("", operation_id="read_protocols", response_model=Protocols)
async def read(runtime: RuntimeDep, caller: Annotated[Caller, allow(*access.PROTOCOL_READERS)]) -> Protocols:
    """The protocol in force today and every version adopted."""
    history = await protocol_history(PathwayStore(runtime.pool, runtime.store))
    today = runtime.clock.now().date()
    current = in_force([a.adopted for a in history], today)
    matching = [a for a in history if a.adopted.protocol is current]
    if matching:
        in_force_view = _view(matching[-1])
    else:
        in_force_view = ProtocolVersion(
            version=GUIDELINE_PROTOCOL.version,
            guideline_version=GUIDELINE_PROTOCOL.guideline_version,
            title=GUIDELINE_PROTOCOL.title,
            values=GUIDELINE_PROTOCOL.values,
            effective_from=None,
            adopted_at=None,
            adopted_by=None,
        )
    return Protocols(in_force=in_force_view, adopted=[_view(a) for a in history])
