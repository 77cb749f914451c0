"""Retention (WGBO art. 7:454): a record is kept 20 years after the last treatment, unless erased earlier."""

from __future__ import annotations

from datetime import date

RETENTION_YEARS = 20


def destruction_due_on(last_treatment: date) -> date:
    """The day the record falls due for destruction; a 29 February moves to 1 March in a common year."""
    year = last_treatment.year + RETENTION_YEARS
    try:
        return last_treatment.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def is_due(last_treatment: date, as_of: date) -> bool:
    return as_of >= destruction_due_on(last_treatment)
