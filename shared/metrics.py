"""Prometheus metrics shared by every service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_APPENDED = Counter(
    "ruggengraat_events_appended_total", "Events appended to the service's event store", ["service", "type"]
)
EVENTS_PUBLISHED = Counter("ruggengraat_events_published_total", "Events the relay published to Kafka", ["topic"])
EVENTS_REPUBLISHED = Counter(
    "ruggengraat_events_republished_total",
    "Events published again after the broker came back empty",
    ["topic"],
)
BROKER_RESETS = Counter(
    "ruggengraat_broker_resets_total", "Times the relay found its topic empty or missing", ["topic"]
)
RELAY_LAG = Gauge("ruggengraat_relay_lag_events", "Events committed to the store but not yet published", ["topic"])
EVENTS_CONSUMED = Counter(
    "ruggengraat_events_consumed_total",
    "Records a consumer took from Kafka, by outcome (handled, duplicate, ignored, dead_lettered)",
    ["consumer", "outcome"],
)
EVENTS_DEAD_LETTERED = Counter(
    "ruggengraat_events_dead_lettered_total", "Records sent to the dead-letter topic", ["consumer", "reason"]
)
CONSUMER_LAG = Gauge(
    "ruggengraat_consumer_lag", "Records on the broker not yet consumed", ["consumer", "topic", "partition"]
)
CONSUMER_TOPIC_RESTARTS = Counter(
    "ruggengraat_consumer_topic_restarts_total",
    "Times a consumer read a topic again from its start because the broker had recreated it",
    ["consumer", "topic"],
)
HANDLER_SECONDS = Histogram(
    "ruggengraat_handler_seconds",
    "Time to handle what arrived together (or one event after a fallback), inbox and effects included",
    ["consumer"],
)
BATCH_SIZE = Histogram(
    "ruggengraat_consumer_batch_events",
    "Events handled together in one transaction",
    ["consumer"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200),
)
BATCH_FALLBACKS = Counter(
    "ruggengraat_consumer_batch_fallbacks_total",
    "Batches rolled back and handled one event at a time (a failing event, a conflict, a deadlock)",
    ["consumer"],
)

# What waits for an operator, read from the database when /metrics is scraped (shared.service.Runtime).
DEAD_LETTERS_OPEN = Gauge(
    "ruggengraat_dead_letters_open", "Dead letters neither re-driven nor discarded yet", ["consumer"]
)
DEAD_LETTER_OLDEST_SECONDS = Gauge(
    "ruggengraat_dead_letter_oldest_open_age_seconds", "Age of the oldest open dead letter (0: none)", ["consumer"]
)
PARKED_EVENTS = Gauge("ruggengraat_parked_events", "Events parked behind their episode's stuck event", ["consumer"])
PARKED_EPISODES = Gauge("ruggengraat_parked_episodes", "Episodes waiting for a stuck event", ["consumer"])
