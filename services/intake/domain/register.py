"""Rules of the practice register. Pure: no I/O."""

from __future__ import annotations

from shared.practice_register import PracticeEntry


class NotInRegister(ValueError):
    """A physiotherapist assigned to an episode must be in the register of the episode's practice."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def check_assignment(practice_agb: str, entry: PracticeEntry | None, therapist_agb: str) -> None:
    """Raise NotInRegister unless the therapist is registered with the practice."""
    if entry is None:
        raise NotInRegister("therapist_agb", f"practice {practice_agb} is not in the register; register it first")
    if all(t.agb != therapist_agb for t in entry.physiotherapists):
        raise NotInRegister(
            "therapist_agb", f"physiotherapist {therapist_agb} is not registered with practice {practice_agb}"
        )
