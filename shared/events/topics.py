"""The topics events travel on: who produces each, and which consumer groups depend on it."""

from __future__ import annotations

from dataclasses import dataclass

INTAKE_EVENTS = "intake.events"
PATHWAY_EVENTS = "pathway.events"
REPORTING_EVENTS = "reporting.events"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    producer: str
    consumers: tuple[str, ...]
    description: str


TOPICS: dict[str, TopicSpec] = {
    spec.name: spec
    for spec in (
        TopicSpec(
            INTAKE_EVENTS,
            producer="intake",
            consumers=("pathway", "reporting", "notifications"),
            description="What happened in an episode at the practice: referral, history, assessment, "
            "measurements, plan, sessions, consent, closing. Key: the pseudonymous episode id.",
        ),
        TopicSpec(
            PATHWAY_EVENTS,
            producer="pathway",
            consumers=("reporting", "notifications"),
            description="What the KNGF guideline engine decided for an episode and when evaluations fall "
            "due. Key: the pseudonymous episode id.",
        ),
        TopicSpec(
            REPORTING_EVENTS,
            producer="reporting",
            consumers=("notifications",),
            description="Letters to the GP composed and sent (never their content: GP systems fetch the letter "
            "from reporting). Key: the pseudonymous episode id.",
        ),
    )
}


def dead_letter_topic(consumer: str) -> str:
    return f"{consumer}.dead-letters"


def topics_consumed_by(consumer: str) -> list[str]:
    return [t.name for t in TOPICS.values() if consumer in t.consumers]


def topic_produced_by(service: str) -> str | None:
    for spec in TOPICS.values():
        if spec.producer == service:
            return spec.name
    return None
