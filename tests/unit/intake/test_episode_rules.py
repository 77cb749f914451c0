"""The intake episode's guards: what each command needs, and what a closed episode refuses."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.intake.domain import episode as rules
from services.intake.domain.activity_labels import NO_ACTIVITIES, ActivityLabels
from services.intake.domain.commands import (
    AgreeTreatmentPlan,
    CloseEpisode,
    CompleteAssessment,
    LogActivity,
    RecordMeasurement,
    RecordReportConsent,
    RecordSession,
    TakeHistory,
)
from services.intake.domain.episode import Episode, NotAllowed
from shared.events import clinical
from shared.events.intake import TreatmentPlanAgreed, sample_referral
from shared.events.sealed import Sealed

COURSE = clinical.CourseObservations(
    complaints="same",
    rest_moments_per_day="same",
    analgesic_use="continuing",
    activities_or_participation_resumed=False,
    asks_for_specialist_care=False,
    activities_participation_increased=False,
)
CARE = clinical.CareContext(weight_or_nutrition_concern=False, pain_medication_questions=False, work_problems=False)
HISTORY = TakeHistory(taken_on=date(2026, 11, 23), onset_date=date(2026, 8, 1), course=COURSE, care_context=CARE)
SCOPE = clinical.ScopeFindings(
    general_illness_signs=(), radicular_signs_suspected=False, neurological_exam=None, specific_cause_suspected=False
)
ASSESSMENT = CompleteAssessment(assessed_on=date(2026, 11, 23), scope=SCOPE)
PROGRAMME = clinical.GradedActivityProgramme(
    start_date=date(2026, 11, 30),
    days_to_goal=28,
    activities=(
        clinical.GradedActivity(
            activity="wandelen",
            intensity_unit="km/u",
            baseline=(clinical.ActivityLevel(duration_minutes=10, frequency_per_day=1, intensity=3),),
            goal=clinical.ActivityLevel(duration_minutes=30, frequency_per_day=2, intensity=5),
        ),
    ),
)
PLAN = AgreeTreatmentPlan(
    agreed_on=date(2026, 11, 24),
    start_date=date(2026, 11, 30),
    interventions=(clinical.PlannedIntervention(modality="exercise_therapy", main_component=True),),
    graded_activity=PROGRAMME,
)
QBPDS = clinical.QbpdsAnswers(items=(2,) * 20)
SEALED = Sealed(key_id=uuid.uuid4(), nonce="A" * 16, ciphertext="c2VhbGVk")


def referred() -> Episode:
    return Episode.rebuild(uuid.uuid4(), [sample_referral(referred_on=date(2026, 11, 20))])


def advanced(*steps) -> Episode:
    episode = referred()
    for step in steps:
        for event in step(episode):
            episode.apply(event)
    return episode


def history(e):
    return rules.take_history(e, HISTORY, None)


def assessment(e):
    return rules.complete_assessment(e, ASSESSMENT, None)


def references(*labels: str) -> ActivityLabels:
    """What the adapter gives the rules: a reference per label (here readable, there keyed) and the sealed labels."""
    return ActivityLabels({label: f"activity-{label.strip().casefold()}" for label in labels}, SEALED)


def plan(e):
    return rules.agree_treatment_plan(e, PLAN, None, references("wandelen"))


def session(e):
    return rules.record_session(e, RecordSession(session_on=date(2026, 11, 30)), None)


def close(e):
    return rules.close_episode(e, CloseEpisode(closed_on=date(2027, 2, 1), reason="goals_met"))


def test_a_whole_episode_runs_in_order_and_numbers_its_sessions():
    episode = advanced(history, assessment, plan, session, session)
    assert episode.sessions == 2 and episode.plan is not None
    [logged] = rules.log_activity(
        episode,
        LogActivity(
            day=clinical.LoggedDay(
                activity="Wandelen ", on=date(2026, 12, 1), duration_minutes=12, frequency_per_day=1, intensity=3
            )
        ),
        references("Wandelen "),
    )
    assert logged.day.activity == "activity-wandelen" and logged.activity_labels == SEALED


@pytest.mark.parametrize(
    ("steps", "attempt", "field"),
    [
        ((), assessment, "assessed_on"),  # anamnese before onderzoek
        ((history,), plan, "agreed_on"),  # a plan needs the assessment
        ((history, assessment), session, "session_on"),  # a session needs a plan
        ((history, assessment, plan, session), plan, "agreed_on"),  # no new plan once treatment started
        ((history, assessment, plan, close), session, "episode_id"),  # closed: nothing more
        ((history, assessment, plan, close), close, "episode_id"),
        ((history, assessment, plan, close), history, "episode_id"),
    ],
)
def test_commands_the_episode_state_does_not_allow_are_refused_with_the_field(steps, attempt, field):
    with pytest.raises(NotAllowed) as refused:
        attempt(advanced(*steps))
    assert refused.value.field == field


def test_a_measurement_on_a_closed_episode_is_refused():
    episode = advanced(history, assessment, plan, close)
    command = RecordMeasurement(occasion="intake", measurement=clinical.Measurement(taken_on=date(2027, 2, 2), nprs=3))
    with pytest.raises(NotAllowed, match="closed"):
        rules.record_measurement(episode, command, NO_ACTIVITIES)


def test_an_evaluation_needs_a_plan_and_is_measured_once():
    command = RecordMeasurement(
        occasion="evaluation",
        evaluation_number=1,
        measurement=clinical.Measurement(taken_on=date(2026, 12, 21), qbpds=QBPDS),
    )
    with pytest.raises(NotAllowed, match="plan"):
        rules.record_measurement(advanced(history, assessment), command, NO_ACTIVITIES)
    episode = advanced(history, assessment, plan)
    [event] = rules.record_measurement(episode, command, NO_ACTIVITIES)
    episode.apply(event)
    with pytest.raises(NotAllowed) as twice:
        rules.record_measurement(episode, command, NO_ACTIVITIES)
    assert twice.value.field == "evaluation_number"


@pytest.mark.parametrize(
    ("day", "field"),
    [
        (
            clinical.LoggedDay(
                activity="zwemmen", on=date(2026, 12, 1), duration_minutes=1, frequency_per_day=1, intensity=1
            ),
            "day.activity",
        ),
        (
            clinical.LoggedDay(
                activity="wandelen", on=date(2026, 11, 29), duration_minutes=1, frequency_per_day=1, intensity=1
            ),
            "day.on",
        ),
    ],
)
def test_a_log_outside_the_programme_is_refused(day, field):
    with pytest.raises(NotAllowed) as refused:
        rules.log_activity(advanced(history, assessment, plan), LogActivity(day=day), references(day.activity))
    assert refused.value.field == field


def test_the_same_day_cannot_be_logged_twice():
    episode = advanced(history, assessment, plan)
    day = clinical.LoggedDay(
        activity="wandelen", on=date(2026, 12, 1), duration_minutes=1, frequency_per_day=1, intensity=1
    )
    [event] = rules.log_activity(episode, LogActivity(day=day), references("wandelen"))
    episode.apply(event)
    with pytest.raises(NotAllowed, match="already"):
        rules.log_activity(
            episode, LogActivity(day=day.model_copy(update={"activity": "WANDELEN"})), references("WANDELEN")
        )


def test_report_consent_and_objection_are_recorded_once_each_time_they_change():
    episode = referred()
    [objection] = rules.record_report_consent(episode, RecordReportConsent(consent="objected", on=date(2026, 11, 23)))
    episode.apply(objection)
    assert episode.consent == "objected"
    assert rules.record_report_consent(episode, RecordReportConsent(consent="objected", on=date(2026, 11, 24))) == []
    [given] = rules.record_report_consent(episode, RecordReportConsent(consent="given", on=date(2026, 11, 25)))
    assert type(given).__name__ == "ReportConsentGiven"


def test_history_dates_must_make_sense():
    with pytest.raises(ValueError, match="onset_date"):
        TakeHistory(taken_on=date(2026, 1, 1), onset_date=date(2026, 2, 1), course=COURSE, care_context=CARE)
    earlier = HISTORY.model_copy(
        update={"previous_episodes": (clinical.PastEpisode(onset_date=date(2026, 7, 1), end_date=date(2026, 8, 2)),)}
    )
    with pytest.raises(NotAllowed) as refused:
        rules.take_history(referred(), earlier, None)
    assert refused.value.field == "previous_episodes.0.end_date"


def test_an_argued_deviation_needs_its_argument():
    with pytest.raises(ValueError, match="deviation_arguments"):
        AgreeTreatmentPlan(
            agreed_on=date(2026, 11, 24),
            start_date=date(2026, 11, 30),
            interventions=(
                clinical.PlannedIntervention(modality="traction", main_component=False, deviation_argued=True),
            ),
        )


def test_events_carry_references_for_the_patients_activity_labels_and_the_labels_only_sealed():
    [agreed] = plan(advanced(history, assessment))
    assert [a.activity for a in agreed.graded_activity.activities] == ["activity-wandelen"]
    assert agreed.activity_labels == SEALED
    psk = clinical.PskAnswers(
        scale="0-10",
        activities=(
            clinical.PskActivityScore(activity="Fietsen naar mijn dochter", score=6),
            clinical.PskActivityScore(activity="tillen", score=4),
        ),
    )
    command = RecordMeasurement(
        occasion="intake", measurement=clinical.Measurement(taken_on=date(2026, 11, 23), psk=psk)
    )
    labels = references("Fietsen naar mijn dochter", "tillen")
    [measured] = rules.record_measurement(advanced(history), command, labels)
    assert [a.activity for a in measured.measurement.psk.activities] == [
        "activity-fietsen naar mijn dochter",
        "activity-tillen",
    ]
    assert [a.score for a in measured.measurement.psk.activities] == [6, 4] and measured.activity_labels == SEALED
    episode = advanced(history, assessment, plan)
    episode.apply(measured)
    assert episode.activity_labels == [SEALED, SEALED]  # what intake opens for the letters
    # a measurement without PSK has nothing to seal
    plain = RecordMeasurement(occasion="intake", measurement=clinical.Measurement(taken_on=date(2026, 11, 23), nprs=3))
    [event] = rules.record_measurement(advanced(history), plain, NO_ACTIVITIES)
    assert event.activity_labels is None


def test_a_day_logged_against_a_programme_agreed_before_references_keeps_its_label_to_match_it():
    episode = advanced(history, assessment)
    episode.apply(TreatmentPlanAgreed(**PLAN.model_dump(exclude={"goals", "deviation_arguments"})))  # labels in clear
    day = clinical.LoggedDay(
        activity="wandelen", on=date(2026, 12, 1), duration_minutes=1, frequency_per_day=1, intensity=1
    )
    [event] = rules.log_activity(episode, LogActivity(day=day), references("wandelen"))
    assert event.day.activity == "wandelen" and event.activity_labels is None
