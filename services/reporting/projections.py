"""Reporting's read models, projected from intake and pathway events a batch at a time: each read model
handles a batch's events of its types with a constant number of statements, in the batch's transaction."""

from __future__ import annotations

from services.reporting.letters.handlers import LETTERS
from services.reporting.network.handlers import NETWORK
from services.reporting.overview import OVERVIEW
from shared.consumer.idempotent import BatchHandler

BATCH_HANDLERS: list[BatchHandler] = [OVERVIEW, LETTERS, NETWORK]
