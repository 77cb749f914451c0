"""A correction: a new letter of the same kind from the episode's current facts; the original stays as it was."""

from __future__ import annotations

import uuid

import asyncpg

from services.reporting.domain.letters.content import LetterFacts, compose
from services.reporting.store.letters import NewLetter, store_letters
from shared.store.unit_of_work import UnitOfWork


async def compose_correction(uow: UnitOfWork, letter: asyncpg.Record, facts: LetterFacts) -> uuid.UUID:
    """Store the correction of `letter` (a row of `letters`, locked) and return its id."""
    count = await uow.conn.fetchval("SELECT count(*) FROM letters WHERE corrects = $1", letter["letter_id"])
    key = f"{letter['letter_key']}:correction:{count + 1}"
    now = uow.clock.now()
    content = compose(letter["kind"], letter["letter_key"], facts, now.date())
    correction = NewLetter(letter["episode_id"], key, content, facts.referrer_agb, now, corrects=letter["letter_id"])
    [letter_id] = await store_letters(uow, [correction])
    return letter_id
