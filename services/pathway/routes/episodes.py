"""Pathway read routes: an episode's timeline and its planned evaluations (HTTP ↔ `handlers.read_episode`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.pathway.domain.evaluation_schedule import EVALUATION_DUE, EVALUATION_OVERDUE
from services.pathway.handlers import read_episode
from services.pathway.routes.dependencies import ReaderDep
from shared.access import episode_not_found

router = APIRouter(prefix="/v1/episodes", tags=["episodes"])


class TimelineEntry(BaseModel):
    source: Literal["intake", "pathway"] = Field(
        description="intake: a fact recorded at the practice (details stay at intake); pathway: a decision."
    )
    event_id: uuid.UUID
    type: str
    time: datetime
    version: int
    guideline_version: str | None
    data: dict[str, Any] = Field(
        default_factory=dict, description="A decision with its reason and guideline section; empty for facts."
    )


class EpisodeState(BaseModel):
    beloop: str | None
    duration_class: str | None
    classified_on: date | None
    plan_components: list[str]
    flagged_modalities: list[str]
    next_evaluation_number: int | None
    next_evaluation_due: datetime | None
    evaluations_due: int
    evaluations_completed: int
    evaluations_overdue: int
    escalations: list[dict[str, Any]]
    consults: list[str]


class PlannedEvaluation(BaseModel):
    timer_id: uuid.UUID
    evaluation_number: int
    due_at: datetime
    fired: bool
    overdue: bool = Field(description="It fell due and was not recorded within the grace period.")


class PathwayEpisode(BaseModel):
    episode_id: uuid.UUID
    state: EpisodeState | None = Field(description="The current view; null until the guideline decided anything.")
    timeline: list[TimelineEntry]
    evaluations: list[PlannedEvaluation]


@router.get("/{episode_id}", operation_id="get_pathway_episode", response_model=PathwayEpisode)
async def get_episode(episode_id: uuid.UUID, reader: ReaderDep) -> PathwayEpisode:
    """The pathway's view of an episode: every decision it recorded and the evaluations it planned."""
    record = await read_episode(reader.store, reader.caller, episode_id, reader.clock)
    if record is None:
        raise episode_not_found(episode_id)
    view, facts, events, planned = record.view, record.facts, record.events, record.planned
    # An evaluation's overdue check is a timer of its own; here it only marks the evaluation it belongs to.
    overdue = {t.sequence for t in planned if t.kind == EVALUATION_OVERDUE and t.fired_at is not None}
    state = None
    if view is not None:
        state = EpisodeState(**{k: view[k] for k in EpisodeState.model_fields})
    timeline = [
        TimelineEntry(
            source="intake",
            event_id=f["event_id"],
            type=f["event_type"],
            time=f["occurred_at"],
            version=f["stream_version"],
            guideline_version=None,
        )
        for f in facts
    ] + [
        TimelineEntry(
            source="pathway",
            event_id=e.event_id,
            type=e.event_type,
            time=e.occurred_at,
            version=e.stream_version,
            guideline_version=e.guideline_version,
            data=e.envelope().data,
        )
        for e in events
    ]
    timeline.sort(key=lambda entry: (entry.time, entry.source == "pathway"))
    return PathwayEpisode(
        episode_id=episode_id,
        state=state,
        timeline=timeline,
        evaluations=[
            PlannedEvaluation(
                timer_id=t.timer_id,
                evaluation_number=t.sequence,
                due_at=t.due_at,
                fired=t.fired_at is not None,
                overdue=t.sequence in overdue,
            )
            for t in planned
            if t.kind == EVALUATION_DUE
        ],
    )
