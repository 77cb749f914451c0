"""Test helpers that read what is really on the broker (no consumer group, so no join wait)."""

from __future__ import annotations

import time

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient


def read_topic(bootstrap: str, topic: str, expect_at_least: int, timeout: float = 20.0) -> list:
    """Every record on `topic` from the beginning, once at least `expect_at_least` have arrived."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_topics([topic])[0]
        partitions = [p["partition_index"] for p in described["partitions"]]
    finally:
        admin.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=500)
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
            if len(records) >= expect_at_least:
                # one more short poll so that "at least" does not hide extra records
                for batch in consumer.poll(timeout_ms=300).values():
                    records.extend(batch)
                return records
        return records
    finally:
        consumer.close()
