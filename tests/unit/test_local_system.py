"""The local system's environment for its service processes (no processes started here)."""

from pathlib import Path

from deploy.local import LocalSystem


def _system(**extra_env: str) -> LocalSystem:
    return LocalSystem("postgresql://localhost/x", "127.0.0.1:9092", Path("/nonexistent"), extra_env=extra_env)


def test_one_partition_per_topic_for_one_worker_per_service(monkeypatch):
    monkeypatch.delenv("KAFKA_TOPIC_PARTITIONS", raising=False)
    assert _system().env()["KAFKA_TOPIC_PARTITIONS"] == "1"


def test_the_environment_and_the_caller_choose_more_partitions(monkeypatch):
    monkeypatch.setenv("KAFKA_TOPIC_PARTITIONS", "6")
    assert _system().env()["KAFKA_TOPIC_PARTITIONS"] == "6"
    assert _system(KAFKA_TOPIC_PARTITIONS="3").env()["KAFKA_TOPIC_PARTITIONS"] == "3"
