"""Activity labels — PSK activities, graded-activity names, logged days — are the patient's own words: events
carry a reference in their place and the labels themselves sealed under the patient's key, like other free text.

The KNGF guideline has the patient choose the PSK activities and the graded-activity goals, so there is no coded
vocabulary to reduce them to. Every rule that compares activities (the pathway's PSK change and graded-activity
schedule, reporting's network PSK change, intake's own checks) compares them within one episode, and a
reference is the same for the same label (trimmed, case-folded) of one patient: those rules work on references
as they did on labels. Who may see personal data gets the labels from intake, opened with the key, and once the
key is erased they open nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.events import clinical
from shared.events.sealed import Sealed


@dataclass(frozen=True)
class ActivityLabels:
    """What stands in for the labels of one command: `references` (label → reference) and `sealed` (the labels
    by reference, sealed; None when the command has none)."""

    references: Mapping[str, str]
    sealed: Sealed | None

    def __call__(self, label: str) -> str:
        return self.references[label]


NO_ACTIVITIES = ActivityLabels({}, None)


def in_measurement(measurement: clinical.Measurement) -> list[str]:
    return [a.activity for a in measurement.psk.activities] if measurement.psk else []


def in_programme(programme: clinical.GradedActivityProgramme | None) -> list[str]:
    return [a.activity for a in programme.activities] if programme else []


def measurement_by_reference(measurement: clinical.Measurement, labels: ActivityLabels) -> clinical.Measurement:
    if measurement.psk is None:
        return measurement
    activities = tuple(a.model_copy(update={"activity": labels(a.activity)}) for a in measurement.psk.activities)
    return measurement.model_copy(update={"psk": measurement.psk.model_copy(update={"activities": activities})})


def programme_by_reference(
    programme: clinical.GradedActivityProgramme | None, labels: ActivityLabels
) -> clinical.GradedActivityProgramme | None:
    if programme is None:
        return None
    activities = tuple(a.model_copy(update={"activity": labels(a.activity)}) for a in programme.activities)
    return programme.model_copy(update={"activities": activities})
