"""Whole episodes as reporting consumes them, for the read-model tests: every read model has something to do
(a plan and a closing for letters, scheduled evaluations for the overview, outcomes for the network), the
two topics interleave, and each event happens on a later day than the one before."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

from bench.reporting_replay import synthetic_episode
from shared.consumer.dead_letters import Record
from shared.events import REGISTRY, clinical, intake, new_envelope
from shared.events.payload import EventPayload

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _plan(on: date) -> intake.TreatmentPlanAgreed:
    return intake.TreatmentPlanAgreed(
        agreed_on=on,
        start_date=on,
        interventions=(clinical.PlannedIntervention(modality="exercise_therapy", main_component=True),),
    )


def episode_records(rng: random.Random, practice: str, referred_on: date, *, erased: bool = False) -> list[Record]:
    """One episode's records in an order the two topics may deliver them: each topic in stream order."""
    episode_id = str(uuid.UUID(int=rng.getrandbits(128)))
    produced = synthetic_episode(rng, practice, referred_on)
    by_source: dict[str, list[EventPayload]] = {"intake": [], "pathway": []}
    for source, _, payload in produced:
        by_source[source].append(payload)
    recorded = by_source["intake"]
    recorded.insert(2, _plan(referred_on))  # after the referral and the intake measurement
    if rng.random() < 0.7:
        recorded.append(intake.EpisodeClosed(closed_on=referred_on + timedelta(days=63), reason="goals_met"))
    if erased:
        recorded.append(
            intake.PatientDataErased(patient_id=uuid.uuid4(), erased_at=datetime.combine(referred_on, START.timetz()))
        )
    queues = {source: list(enumerate(payloads, start=1)) for source, payloads in by_source.items()}
    records = []
    while any(queues.values()):
        source = rng.choice([s for s, q in queues.items() if q])
        version, payload = queues[source].pop(0)
        envelope = new_envelope(
            payload,
            service=source,
            subject=episode_id,
            stream_version=version,
            time=START + timedelta(days=len(records)),
            correlation_id=uuid.uuid4(),
        )
        records.append(Record(REGISTRY.model_for(envelope.type).topic, 0, 0, episode_id.encode(), envelope.to_json()))
    return records


def interleaved(rng: random.Random, episodes: list[list[Record]]) -> list[Record]:
    """The records of several episodes as one stream: each episode's own order kept."""
    queues = [list(e) for e in episodes]
    out = []
    while any(queues):
        out.append(rng.choice([q for q in queues if q]).pop(0))
    return out
