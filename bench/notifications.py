"""Notifications benchmark: deliveries per second to local receivers with 100 subscribers, and the latency
from an event appended (intake's event time) to the webhook received (the receiver's clock, same host).

    .venv/bin/python -m bench.notifications [--subscribers 100] [--burst 100] [--rate 4] [--seconds 20]

Starts embedded Postgres and tansu (or uses DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS), intake and
notifications as processes, and receiver processes (deploy/receiver.py) that verify every signature and
parse every request with the CloudEvents SDK. Each referral posted to intake is one ReferralReceived that
every subscriber gets. Two phases: a burst (all referrals at once: throughput) and a steady rate
(referrals per second: latency when not saturated). Prints figures; never part of the tests' pass/fail.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx

from deploy.local import LocalSystem, dev_headers, embedded_infrastructure, free_port
from deploy.receiver import ReceiverProcess

PRACTICE = "04555555"
REFERRAL = "nl.ruggengraat.intake.ReferralReceived"


def referral(n: int) -> dict:
    return {
        "referral_id": f"BENCH-{uuid.uuid4().hex}",
        "route": "gp_referral",
        "practice_agb": PRACTICE,
        "referrer_agb": "01555555",
        "referred_on": "2026-11-20",
        "symptom_onset": "2026-11-02",
        "patient": {"name": f"Bench {n}", "bsn": "111222333", "birth_date": "1970-01-01"},
    }


async def post_referrals(client: httpx.AsyncClient, intake: str, count: int, start: int, parallel: int = 8) -> None:
    headers = dev_headers("practice", PRACTICE, user="bench")
    queue = list(range(start, start + count))

    async def worker() -> None:
        while queue:
            n = queue.pop()
            answer = await client.post(f"{intake}/v1/referrals", json=referral(n), headers=headers)
            answer.raise_for_status()

    await asyncio.gather(*(worker() for _ in range(parallel)))


async def totals(client: httpx.AsyncClient, hooks: list[tuple[ReceiverProcess, str]]) -> list[list[dict]]:
    answers = await asyncio.gather(*(client.get(f"{r.base}/_received/{name}") for r, name in hooks))
    return [a.json()["events"] for a in answers]


async def wait_for(client, hooks, per_hook: int, timeout: float) -> list[list[dict]]:
    deadline = time.monotonic() + timeout
    while True:
        events = await totals(client, hooks)
        if min(len(e) for e in events) >= per_hook:
            return events
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {sum(len(e) for e in events)} of {per_hook * len(hooks)} deliveries arrived")
        await asyncio.sleep(0.25)


def latencies(events: list[list[dict]], skip: set[str]) -> list[float]:
    return [
        (e["received_at"] - datetime.fromisoformat(e["time"]).timestamp()) * 1000
        for per_hook in events
        for e in per_hook
        if e["id"] not in skip
    ]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def report(label: str, values: list[float]) -> None:
    print(
        f"{label:<44} p50 {percentile(values, 50):7.0f} ms   p99 {percentile(values, 99):7.0f} ms"
        f"   max {max(values):7.0f} ms   (n={len(values)})"
    )


async def run(args: argparse.Namespace, system: LocalSystem, receivers: list[ReceiverProcess]) -> None:
    hooks = [(receivers[i % len(receivers)], f"s{i}") for i in range(args.subscribers)]
    async with httpx.AsyncClient(timeout=30) as client:
        for i, (receiver, name) in enumerate(hooks):
            created = await client.post(
                f"{system.url('notifications')}/v1/subscriptions",
                json={"endpoint_url": receiver.url(name), "event_types": [REFERRAL]},
                headers=dev_headers("subscriber", f"bench-{i}", scope=f"practice:{PRACTICE}"),
            )
            created.raise_for_status()
            await client.put(f"{receiver.base}/_config/{name}", json={"secret": created.json()["secret"]})
        intake = system.url("intake")

        await post_referrals(client, intake, 1, 0)  # warm-up: joins, connections, caches
        warm = await wait_for(client, hooks, 1, 120)
        seen = {e["id"] for per_hook in warm for e in per_hook}

        started = time.perf_counter()
        await post_referrals(client, intake, args.burst, 1)
        posted = time.perf_counter() - started
        burst = await wait_for(client, hooks, 1 + args.burst, 600)
        first_time = min(datetime.fromisoformat(e["time"]).timestamp() for h in burst for e in h if e["id"] not in seen)
        last_received = max(e["received_at"] for h in burst for e in h)
        count = args.burst * args.subscribers
        elapsed = last_received - first_time
        print(f"burst: {args.burst} referrals posted in {posted:.1f} s -> {count} deliveries")
        print(f"{'deliveries/s (first append -> last received)':<44} {count / elapsed:7.0f}   ({elapsed:.1f} s)")
        report("burst latency appended -> received", latencies(burst, seen))
        seen |= {e["id"] for h in burst for e in h}

        total = int(args.rate * args.seconds)
        started = time.perf_counter()
        for n in range(total):
            await post_referrals(client, intake, 1, 10_000 + n, parallel=1)
            await asyncio.sleep(max(0.0, started + (n + 1) / args.rate - time.perf_counter()))
        steady = await wait_for(client, hooks, 1 + args.burst + total, 300)
        rate = args.rate * args.subscribers
        report(f"steady {args.rate}/s x {args.subscribers} = {rate:.0f} deliveries/s", latencies(steady, seen))
        gaps = sum(1 for h in steady if [e["sequence"] for e in h] != list(range(1, len(h) + 1)))
        print(f"subscribers with a gap or out-of-order sequence: {gaps}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--receivers", type=int, default=2, help="receiver processes the subscribers share")
    parser.add_argument("--burst", type=int, default=100, help="referrals posted at once")
    parser.add_argument("--rate", type=float, default=4, help="referrals per second in the steady phase")
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="rg-bench-notifications-"))
    with embedded_infrastructure(run_dir) as (database_url, broker):
        system = LocalSystem(database_url, broker.bootstrap, run_dir, extra_env={"LOG_LEVEL": "WARNING"})
        receivers: list[ReceiverProcess] = []
        try:
            system.start(("intake", "notifications"), ports={"intake": free_port(), "notifications": free_port()})
            receivers = [ReceiverProcess(run_dir, f"receiver-{i}", store=False) for i in range(args.receivers)]
            asyncio.run(run(args, system, receivers))
        finally:
            for receiver in receivers:
                receiver.stop()
            system.stop()
    print(f"logs in {run_dir}")


if __name__ == "__main__":
    main()
