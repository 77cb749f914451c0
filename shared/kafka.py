"""kafka-python clients with the settings that work against both tansu and Apache Kafka."""

from __future__ import annotations

from collections.abc import Iterable

from kafka import KafkaAdminClient, KafkaProducer, TopicPartition
from kafka.admin import NewTopic, OffsetSpec
from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError


def producer(bootstrap: str, client_id: str) -> KafkaProducer:
    """A producer that never creates a topic: the relay creates its topic with the configured partitions
    (`ensure_topics`). Publishing to a topic the broker lost waits for the relay to create it again; a topic
    created by the producer's metadata request would get the broker's default partition count (tansu: 4), and
    the consumer groups would have to follow a changed partition count."""
    # acks=all with the idempotent producer: a retried send is never written twice by the broker.
    created = KafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=5,
        retries=10,
        request_timeout_ms=15000,
        # How long a send waits for the topic's metadata (or for room in the buffer) before it fails: a topic
        # the broker lost is back only once the relay sees the failure and creates it.
        max_block_ms=5000,
        allow_auto_create_topics=False,
    )
    # kafka-python 3.0 does not hand `allow_auto_create_topics` on to the metadata its requests are built from
    # (kafka.net.manager makes the ClusterMetadata without it), so its metadata requests still ask the broker to
    # create missing topics; the setting is applied there.
    created._metadata.config["allow_auto_create_topics"] = False
    return created


def admin(bootstrap: str, client_id: str) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap, client_id=client_id, request_timeout_ms=10000)


def ensure_topics(client: KafkaAdminClient, names: Iterable[str], partitions: int) -> list[str]:
    """Create the topics that do not exist yet; returns those created."""
    existing = set(client.list_topics())
    missing = [n for n in names if n not in existing]
    created: list[str] = []
    for name in missing:
        try:
            client.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
            created.append(name)
        except TopicAlreadyExistsError:
            pass
    return created


def describe_topic(client: KafkaAdminClient, topic: str) -> tuple[str | None, list[int]] | None:
    """(topic id, partitions) as the broker knows them now, or None when it does not know the topic.

    The topic id (KIP-516) changes when a topic is deleted and created again, which is how a broker that
    came back empty shows itself even when something already recreated the topic.
    """
    described = client.describe_topics([topic])
    if not described or described[0].get("error_code", 0) != 0 or not described[0].get("partitions"):
        return None
    info = described[0]
    topic_id = info.get("topic_id")
    return (str(topic_id) if topic_id else None), sorted(p["partition_index"] for p in info["partitions"])


def end_offsets(client: KafkaAdminClient, topic: str, partitions: list[int]) -> dict[int, int] | None:
    """Partition → end offset as the broker reports it, or None when the topic is unknown.

    tansu 0.6 reports the base offset of the last record batch plus one rather than the true end, so
    callers compare against the first offset of what they wrote last, which holds for both brokers.
    """
    specs = {TopicPartition(topic, p): OffsetSpec.LATEST for p in partitions}
    try:
        found = client.list_partition_offsets(specs)
    except UnknownTopicOrPartitionError:
        return None
    return {tp.partition: result.offset for tp, result in found.items()}


def committed_offsets(client: KafkaAdminClient, group: str, topic: str) -> dict[int, int]:
    """Partition → committed offset (next record the group will read) of `group` on `topic`."""
    offsets = client.list_group_offsets({group: None}).get(group, {})
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0}
