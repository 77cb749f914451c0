"""A GP system's integration tests against Ruggengraat, written with its test kit (`ruggengraat.testing`).

The GP system refers (our JSON or a FHIR ServiceRequest), receives signed webhooks, fetches the letters and
acknowledges escalations; `practice_client` plays the physiotherapy practice. `pytest examples/integrator`
starts Ruggengraat for the session; with RUGGENGRAAT_INTAKE_URL (and the other URLs) set it uses that one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ruggengraat.testing import as_service_request

NORMAL_COURSE = {
    "complaints": "decreasing",
    "rest_moments_per_day": "decreasing",
    "analgesic_use": "stopped",
    "activities_or_participation_resumed": True,
    "asks_for_specialist_care": False,
    "activities_participation_increased": True,
}
CARE = {"weight_or_nutrition_concern": False, "pain_medication_questions": False, "work_problems": False}
WITHIN_GUIDELINE = {
    "general_illness_signs": [],
    "radicular_signs_suspected": False,
    "neurological_exam": None,
    "specific_cause_suspected": False,
}
RADICULAR = {
    **WITHIN_GUIDELINE,
    "radicular_signs_suspected": True,
    "neurological_exam": {
        "lasegue_positive": True,
        "muscle_strength_reduced": False,
        "sensibility_disturbed": False,
        "tendon_reflexes_abnormal": False,
    },
}


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def days_ago(days: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=days)).isoformat()


def record(practice_client, episode: str, command: str, body: dict) -> None:
    """What the practice records in its own system, sent to intake."""
    response = practice_client.intake.post(f"/v1/episodes/{episode}/{command}", json=body)
    assert response.status_code in (200, 201), f"{command}: {response.text}"


def history_and_assessment(practice_client, episode: str, scope: dict) -> None:
    history = {"taken_on": today(), "onset_date": days_ago(25), "course": NORMAL_COURSE, "care_context": CARE}
    record(practice_client, episode, "history", history)
    record(practice_client, episode, "assessment", {"assessed_on": today(), "scope": scope})


def test_a_referral_is_classified_and_the_start_letter_reaches_the_gp(
    ruggengraat, referrer_client, practice_client, ruggengraat_sink
):
    episode = ruggengraat.send_referral(ruggengraat.referral(), referrer_client)["episode_id"]
    history_and_assessment(practice_client, episode, WITHIN_GUIDELINE)

    classified = ruggengraat_sink.await_event(episode, "BeloopClassified")
    assert classified.data["beloop"] == "normaal" and classified.data["duration_class"] == "acute"
    assert classified.event.get_extension("guidelineversion") == "kngf-lrp-2003"

    plan = {
        "agreed_on": today(),
        "start_date": today(),
        "interventions": [{"modality": "information_advice", "main_component": True}],
    }
    record(practice_client, episode, "treatment-plan", plan)
    sent = ruggengraat_sink.await_event(episode, "ReportSent", timeout=60)
    letter = referrer_client.reporting.get(f"/v1/letters/{sent.data['letter_id']}")
    assert letter.status_code == 200 and letter.headers["content-type"].startswith("text/html")
    assert ruggengraat_sink.rejected == []  # every delivery carried a valid Standard Webhooks signature


def test_a_fhir_referral_with_radicular_signs_is_escalated_and_acknowledged(
    ruggengraat, referrer_client, practice_client, subscriber_client, ruggengraat_sink
):
    service_request = as_service_request(ruggengraat.referral())
    episode = ruggengraat.send_referral(service_request, referrer_client)["episode_id"]
    history_and_assessment(practice_client, episode, RADICULAR)

    escalated = ruggengraat_sink.await_event(episode, "EscalatedToReferrer")
    assert escalated.data["reason"] == "radicular_signs"
    open_escalations = subscriber_client.notifications.get("/v1/escalations").json()
    [escalation] = [e for e in open_escalations if e["episode_id"] == episode]
    assert escalation["event_id"] == escalated.event.get_id()

    acknowledged = subscriber_client.notifications.post(f"/v1/escalations/{escalation['event_id']}/acknowledge")
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_at"] is not None
    still_open = subscriber_client.notifications.get("/v1/escalations").json()
    assert episode not in [e["episode_id"] for e in still_open]
    assert ruggengraat_sink.rejected == []
