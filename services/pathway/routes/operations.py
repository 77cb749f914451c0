"""Per practice, what needs attention: open escalations and overdue evaluations, as counts for the operator's
page (HTTP ↔ `handlers.attention_by_practice`; operators only, `access.OPERATORS`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from services.pathway import access
from services.pathway.handlers import attention_by_practice
from services.pathway.store import PathwayStore
from shared.auth import Caller, allow
from shared.service import RuntimeDep
from shared.status_routes import PracticeAttention

router = APIRouter(prefix="/v1/operations", tags=["operations"])


@router.get("/practices", operation_id="list_practice_attention", response_model=list[PracticeAttention])
async def list_practice_attention(
    runtime: RuntimeDep, caller: Annotated[Caller, allow(*access.OPERATORS)]
) -> list[PracticeAttention]:
    """Every practice with open escalations or overdue evaluations, by AGB code."""
    rows = await attention_by_practice(PathwayStore(runtime.pool, runtime.store))
    return [PracticeAttention(**dict(row)) for row in rows]
