"""Episode-flow benchmark, all four services running as processes on embedded Postgres and tansu:
episodes per second through intake (referral, history, assessment) → pathway (BeloopClassified,
EvaluationScheduled), and the latency from AssessmentCompleted appended to BeloopClassified appended.

    .venv/bin/python -m bench.episode_flow [--seconds 60] [--clients 16] [--rate 200]

With --rate, episodes start at that steady rate (open loop, at most --clients in flight); without it,
--clients run episodes back to back (closed loop, as fast as intake answers). It also prints where the
CPU went, per process.

Prints figures; never part of the tests' pass/fail. Target on 2 cores: ≥ 200 episodes/s for a minute,
p99 < 250 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from bench import cpu
from bench.http_load import ConnectionPool
from deploy.cohort import CARE, DEVIATING, WITHIN, bsn
from deploy.local import LocalSystem, dev_headers, embedded_infrastructure
from shared.service import use_uvloop_everywhere


async def one_episode(pool: ConnectionPool, n: int, today: str, rng) -> None:
    referral = {
        "referral_id": f"BENCH-{uuid.uuid4().hex}",
        "route": "gp_referral",
        "practice_agb": "04123456",
        "referrer_agb": "01234567",
        "referred_on": today,
        "patient": {"name": f"Bench {n}", "bsn": bsn(rng), "birth_date": "1970-01-01"},
        "request_for_help": "x",
        "reason": "y",
    }
    async with pool.connection() as http:
        episode = (await http.post_json("/v1/referrals", referral, REFERRER))["episode_id"]
        history = {"taken_on": today, "onset_date": "2026-06-01", "course": DEVIATING, "care_context": CARE}
        await http.post_json(f"/v1/episodes/{episode}/history", history, PRACTICE)
        assessment = {"assessed_on": today, "scope": WITHIN}
        await http.post_json(f"/v1/episodes/{episode}/assessment", assessment, PRACTICE)


REFERRER = dev_headers("referrer", "01234567")
PRACTICE = dev_headers("practice", "04123456")


async def drive(intake_url: str, seconds: float, clients: int, rate: float | None) -> tuple[int, float]:
    import random

    rng = random.Random(1)
    today = time.strftime("%Y-%m-%d")
    stop = time.monotonic() + seconds
    counter = 0
    pool = ConnectionPool(intake_url, clients)

    async def worker() -> None:
        nonlocal counter
        while time.monotonic() < stop:
            counter += 1
            await one_episode(pool, counter, today, rng)

    async def paced() -> None:
        nonlocal counter
        tasks: set[asyncio.Task] = set()
        started = time.monotonic()
        while time.monotonic() < stop:
            counter += 1
            task = asyncio.create_task(one_episode(pool, counter, today, rng))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            await asyncio.sleep(max(0.0, started + counter / rate - time.monotonic()))
        await asyncio.gather(*tasks)

    started = time.monotonic()
    try:
        if rate:
            await paced()
        else:
            await asyncio.gather(*(worker() for _ in range(clients)))
    finally:
        pool.close()
    return counter, time.monotonic() - started


def broker_times(bootstrap: str, topic: str) -> dict[str, float]:
    """When each event reached the broker (the record's create time, set by the relay as it sends)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=1000)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        return {json.loads(record.value)["id"]: record.timestamp / 1000 for record in consumer}
    finally:
        consumer.close()


async def stages(database_url: str, bootstrap: str) -> dict[str, list[float]]:
    """Where AssessmentCompleted → BeloopClassified goes: intake's relay to the broker, the broker to
    pathway's consumer (its batch transaction starting), and deciding and appending."""
    sent = await asyncio.to_thread(broker_times, bootstrap, "intake.events")
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            """
            SELECT a.event_id::text AS id, extract(epoch FROM a.occurred_at) AS appended,
                   extract(epoch FROM i.handled_at) AS handled, extract(epoch FROM min(b.occurred_at)) AS decided
            FROM intake.events a
            JOIN pathway.inbox i ON i.event_id = a.event_id AND i.consumer = 'pathway'
            JOIN pathway.events b ON b.causation_id = a.event_id AND b.event_type LIKE '%BeloopClassified'
            WHERE a.event_type LIKE '%AssessmentCompleted'
            GROUP BY a.event_id, a.occurred_at, i.handled_at
            """
        )
    finally:
        await conn.close()
    out: dict[str, list[float]] = {"relay to broker": [], "broker to pathway": [], "decide and append": []}
    for row in rows:
        at_broker = sent.get(row["id"])
        if at_broker is None:
            continue
        out["relay to broker"].append(1000 * (at_broker - float(row["appended"])))
        out["broker to pathway"].append(1000 * (float(row["handled"]) - at_broker))
        out["decide and append"].append(1000 * (float(row["decided"]) - float(row["handled"])))
    return {name: sorted(values) for name, values in out.items()}


def batch_sizes(system: LocalSystem) -> dict[str, float]:
    """Events per batch each consumer handled together, from its Prometheus counters."""
    import httpx

    sizes = {}
    for name in ("pathway", "reporting", "notifications"):
        text = httpx.get(f"{system.url(name)}/metrics", timeout=10).text
        values = {
            line.split("{")[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("ruggengraat_consumer_batch_events_")
        }
        count = values.get("ruggengraat_consumer_batch_events_count", 0)
        sizes[name] = values.get("ruggengraat_consumer_batch_events_sum", 0) / count if count else float("nan")
    return sizes


def percentile(values: list[float], share: float) -> float:
    return values[max(0, int(len(values) * share) - 1)] if values else float("nan")


async def measure(database_url: str, episodes: int, timeout: float = 300) -> tuple[float, list[float], float]:
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = await conn.fetchval(
                "SELECT count(DISTINCT stream_id) FROM pathway.events WHERE event_type LIKE '%BeloopClassified'"
            )
            if done >= episodes:
                break
            await asyncio.sleep(0.5)
        rows = await conn.fetch(
            """
            SELECT extract(epoch FROM b.at - a.at) * 1000 AS ms, a.at AS assessed, b.at AS classified
            FROM (SELECT stream_id, min(occurred_at) AS at FROM intake.events
                  WHERE event_type LIKE '%AssessmentCompleted' GROUP BY stream_id) a
            JOIN (SELECT stream_id, min(occurred_at) AS at FROM pathway.events
                  WHERE event_type LIKE '%BeloopClassified' GROUP BY stream_id) b USING (stream_id)
            """
        )
        first = await conn.fetchval("SELECT min(occurred_at) FROM intake.events")
        last = await conn.fetchval(
            "SELECT max(occurred_at) FROM pathway.events WHERE event_type LIKE '%EvaluationScheduled'"
            " OR event_type LIKE '%BeloopClassified'"
        )
        span = (last - first).total_seconds()
        return len(rows) / span, sorted(r["ms"] for r in rows), span
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rate", type=float, default=None, help="episodes started per second (open loop)")
    args = parser.parse_args()
    use_uvloop_everywhere()  # the load generator shares the cores with what it measures: the leaner loop
    run_dir = Path(tempfile.mkdtemp(prefix="rg-bench-flow-"))
    with embedded_infrastructure(run_dir) as (database_url, broker):
        system = LocalSystem(database_url, broker.bootstrap, run_dir, extra_env={"LOG_LEVEL": "WARNING"})
        try:
            system.start()
            labels = {service.process.pid: name for name, service in system.services.items()}
            if broker.process is not None:
                labels[broker.process.pid] = "broker (tansu)"
            cpu_before = cpu.snapshot(labels)
            episodes, driven = asyncio.run(drive(system.url("intake"), args.seconds, args.clients, args.rate))
            rate, latencies, span = asyncio.run(measure(database_url, episodes))
            cpu_after = cpu.snapshot(labels)
            parts = asyncio.run(stages(database_url, broker.bootstrap))
            batches = batch_sizes(system)
        finally:
            system.stop()
    load = f"{args.rate:.0f} episodes/s offered" if args.rate else f"{args.clients} clients back to back"
    partitions = system.env()["KAFKA_TOPIC_PARTITIONS"]
    print(
        f"Episode flow, {load} for {args.seconds:.0f} s, four services as processes, {os.cpu_count()} cores,"
        f" {partitions} partition(s) per topic"
    )
    accepted = episodes / driven
    print(f"  intake accepted                      {accepted:8.1f} episodes/s ({episodes} episodes, 3 commands each)")
    print(f"  end to end (to BeloopClassified)     {rate:8.1f} episodes/s over {span:.1f} s   (target ≥ 200)")
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    print(f"  AssessmentCompleted → BeloopClassified  p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   (target p99 < 250)")
    for name, values in parts.items():
        print(f"    {name:<36} p50 {percentile(values, 0.5):7.1f} ms   p99 {percentile(values, 0.99):7.1f} ms")
    print("  events per batch: " + ", ".join(f"{name} {size:.1f}" for name, size in batches.items()))
    print(f"  CPU from the first request until the last episode was classified ({span:.0f} s):")
    print("\n".join(cpu.report(cpu_before, cpu_after, span)))
    budget = 1000 * (os.cpu_count() or 1) / 200
    per_episode = 1000 * cpu.used(cpu_before, cpu_after) / episodes
    print(f"  CPU per episode {per_episode:.1f} ms, all processes (200 episodes/s on these cores: {budget:.0f} ms)")
    print(f"logs in {run_dir}")


if __name__ == "__main__":
    main()
