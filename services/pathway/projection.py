"""The pathway's episode view: its own decisions folded into one row per episode."""

from __future__ import annotations

import json

import asyncpg

from shared.events.pathway import (
    BeloopClassified,
    ConsultRequested,
    EscalatedToReferrer,
    EvaluationCompleted,
    EvaluationDue,
    EvaluationOverdue,
    EvaluationScheduled,
    TreatmentPlanProposed,
)
from shared.events.payload import EventPayload
from shared.store.event_store import StoredEvent

_UPSERT = (
    "INSERT INTO episode_view (episode_id, last_event_at, decisions) VALUES ($1, $2, 1)"
    " ON CONFLICT (episode_id) DO UPDATE SET last_event_at = greatest(episode_view.last_event_at, $2),"
    " decisions = episode_view.decisions + 1"
)


class EpisodeView:
    name = "pathway.episode_view"
    tables = ("episode_view",)

    async def apply(self, conn: asyncpg.Connection, event: StoredEvent, payload: EventPayload) -> None:
        episode = event.stream_id
        await conn.execute(_UPSERT, episode, event.occurred_at)
        match payload:
            case BeloopClassified():
                await conn.execute(
                    "UPDATE episode_view SET beloop = $2, duration_class = $3, classified_on = $4"
                    " WHERE episode_id = $1",
                    episode,
                    payload.beloop,
                    payload.duration_class,
                    payload.decided_on,
                )
            case TreatmentPlanProposed():
                await conn.execute(
                    "UPDATE episode_view SET plan_components = $2, flagged_modalities = $3 WHERE episode_id = $1",
                    episode,
                    list(payload.components),
                    [f.modality for f in payload.flagged_modalities],
                )
            case EvaluationScheduled():
                await conn.execute(
                    "UPDATE episode_view SET next_evaluation_number = $2, next_evaluation_due = $3"
                    " WHERE episode_id = $1 AND (next_evaluation_number IS NULL OR next_evaluation_number <= $2)",
                    episode,
                    payload.evaluation_number,
                    payload.due_at,
                )
            case EvaluationDue():
                await conn.execute(
                    "UPDATE episode_view SET evaluations_due = evaluations_due + 1 WHERE episode_id = $1", episode
                )
            case EvaluationOverdue():
                await conn.execute(
                    "UPDATE episode_view SET evaluations_overdue = evaluations_overdue + 1 WHERE episode_id = $1",
                    episode,
                )
            case EvaluationCompleted():
                await conn.execute(
                    "UPDATE episode_view SET evaluations_completed = evaluations_completed + 1 WHERE episode_id = $1",
                    episode,
                )
            case EscalatedToReferrer():
                entry = {
                    "reason": payload.reason.value,
                    "section": payload.guideline_section,
                    "explanation_nl": payload.explanation_nl,
                    "at": event.occurred_at.isoformat(),
                    "event_id": str(event.event_id),
                }
                await conn.execute(
                    "UPDATE episode_view SET escalations = escalations || $2::jsonb WHERE episode_id = $1",
                    episode,
                    json.dumps([entry]),
                )
            case ConsultRequested():
                await conn.execute(
                    "UPDATE episode_view SET consults = array_append(consults, $2) WHERE episode_id = $1",
                    episode,
                    payload.discipline,
                )
