"""A correction, decided: a new letter of the same kind from the episode's current facts; the original stays as
it was. Pure: no I/O, no clock (the day is given)."""

from __future__ import annotations

from datetime import date

from services.reporting.domain.letters.content import Kind, LetterContent, LetterFacts, compose


class PatientObjects(Exception):
    """The patient objects to reports to the GP: no letter is composed, not even a correction."""


def refuse_when_objected(facts: LetterFacts) -> None:
    """Raise `PatientObjects` when the patient objects to reports to the GP."""
    if facts.objected:
        raise PatientObjects


def correction(
    kind: Kind, key: str, corrections_so_far: int, facts: LetterFacts, today: date
) -> tuple[str, LetterContent]:
    """The key and content of the next correction of the letter `key` of `kind`."""
    return f"{key}:correction:{corrections_so_far + 1}", compose(kind, key, facts, today)
