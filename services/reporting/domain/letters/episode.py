"""One episode as the letters follow it: the facts so far and which letters were composed. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from services.reporting.domain.letters.content import LetterContent, LetterFacts, compose, fold, letters_due
from shared.events.payload import EventPayload


@dataclass
class LetterEpisode:
    facts: LetterFacts = field(default_factory=LetterFacts)
    composed: set[str] = field(default_factory=set)  # the keys of the letters composed

    def follow(self, event: EventPayload, today: date) -> list[tuple[str, LetterContent]]:
        """Fold one more event in; (key, content) of each letter it makes due, composed `today` from the
        facts as they are after this event. Each key is composed once."""
        self.facts = fold(self.facts, event)
        letters = []
        for kind, key in letters_due(self.facts, self.composed):
            if key not in self.composed:  # two escalations for one reason may fall due together
                letters.append((key, compose(kind, key, self.facts, today)))
                self.composed.add(key)
        return letters
