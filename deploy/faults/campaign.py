"""The fault campaign: each scenario on a fresh system (embedded PostgreSQL, tansu, the four services, a webhook
receiver subscribed to every event type of the practice) under a steady load, with one fault a third of the
way in; then it waits for the flow to drain (or calls a stall) and judges what the stores and the endpoint hold.

    result = asyncio.run(run_scenario(SCENARIOS["pg-fast-5"], Options(out=Path("/tmp/faults"))))

A fault comes with its own recovery step, as production has one: an orchestrator restarts a killed process
after ~2 s, PostgreSQL and the broker are started again, the endpoint comes back. Anything the campaign has to do
beyond that to get the flow going again (after a stall it restarts every service, when `rescue` is on) is a
person acting, and is reported as such: it never should be needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import signal
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from deploy.faults import checks
from deploy.faults.cpu import CpuWatch
from deploy.faults.cpu import summary as cpu_summary
from deploy.faults.load import APPENDED_ONCE, PRACTICE_AGB, REFERRER_AGB, Load, LoadStats
from deploy.faults.observe import (
    Observed,
    all_event_types,
    connect,
    expected_deliveries,
    flow,
    observe,
    receiver_attempts,
    snapshot,
    stalled_deliveries,
)
from deploy.faults.progress import Recovery, Snapshot, StallWatch, describe, outstanding, recovery
from deploy.local import SERVICES, EmbeddedPostgres, LocalBroker, LocalSystem, dev_headers
from deploy.receiver import ReceiverProcess
from shared.clock import OffsetFileClock

# The subscriptions, each to an endpoint of its own on the receiver: every event type, once for the practice's
# system (structured CloudEvents) and once for the referring GP's (binary mode). Each is judged on its own.
SUBSCRIPTIONS = {
    "practice": ("practice-his-campaign", f"practice:{PRACTICE_AGB}", "structured"),
    "referrer": ("gp-his-campaign", f"referrer:{REFERRER_AGB}", "binary"),
}

# Delivery retries and the breaker in seconds rather than production's hours, so that an endpoint that was away
# for half a minute is caught up within the drain; every other setting is the services' own.
CAMPAIGN_ENV = {
    "TIMER_POLL_INTERVAL_SECONDS": "0.5",
    "RETRY_BASE_SECONDS": "1",
    "RETRY_CAP_SECONDS": "5",
    "RETRY_MAX_ATTEMPTS": "40",
    "BREAKER_PROBE_SECONDS": "5",
    # A loop with work and no progress for this long makes /health 503, and the campaign's liveness probe
    # restarts the worker (as k8s does with the manifests' probe, there after LOOP_STALL_SECONDS=60 and 6 × 10
    # s): shorter here so that a restart by the probe comes before the campaign calls a stall (45 s).
    "LOOP_STALL_SECONDS": "30",
}
LIVENESS_PERIOD_SECONDS = 2.0
LIVENESS_FAILURES = 3  # consecutive 503 answers of /health before the probe restarts the worker
# A worker is not probed for this long after it (re)started, as a startup probe grants: joining its group and
# catching up after a restart is not a stall (restarting it then would only start the join again).
LIVENESS_GRACE_SECONDS = 30.0

EVALUATION_INTERVAL = timedelta(days=21)  # the guideline's three weeks between evaluations


@dataclass
class Options:
    out: Path
    rate: float = 10.0  # episodes started per second
    seconds: float = 40.0  # how long the load runs
    fault_at: float | None = None  # seconds into the load; a third of the way by default
    drain_timeout: float = 120.0  # after the load and the fault's recovery step
    stall_after: float = 45.0  # nothing moved for this long with work left: a stall
    workers: int = 1
    rescue: bool = True  # after a stall, restart every service (a person acting) to see what was lost
    restart_after: float = 2.0  # an orchestrator restarts a killed process after this long
    settle: float = 3.0  # after draining, wait this long for anything late (a second firing, a re-send)
    echo: Callable[[str], None] = print

    @property
    def fault_moment(self) -> float:
        return self.fault_at if self.fault_at is not None else self.seconds / 3


# -- the system under test -----------------------------------------------------------------------------------


class Rig:
    """One fresh system and what happened to it."""

    def __init__(self, options: Options, run_dir: Path) -> None:
        self.options = options
        self.run_dir = run_dir
        self.clock_file = run_dir / "clock-offset"
        self.postgres: EmbeddedPostgres | None = None
        self.broker: LocalBroker | None = None
        self.system: LocalSystem | None = None
        self.receiver: ReceiverProcess | None = None
        self.database_url = ""
        self.secrets: dict[str, str] = {}  # endpoint → its subscription's signing secret
        self.t0 = time.monotonic()
        self.timeline: list[tuple[float, str]] = []
        self.fault_start: float | None = None
        self.fault_end: float | None = None
        self.orchestrator_restarts = 0
        self.earlier_attempts: dict[str, list[checks.Attempt]] = {}  # the receiver's log before it was stopped
        self.samples: list[Snapshot | None] = []
        self.cpu: CpuWatch | None = None  # from the load's start
        self.sampling = True

    def now(self) -> float:
        return time.monotonic() - self.t0

    def mark(self, text: str) -> None:
        self.timeline.append((round(self.now(), 1), text))
        self.options.echo(f"  {self.now():6.1f} s  {text}")

    def fault_started(self, text: str) -> None:
        self.fault_start = self.now()
        self.mark(text)

    def fault_ended(self, text: str) -> None:
        self.fault_end = self.now()
        self.mark(text)

    def victim(self) -> int:
        """Which worker of a service a kill takes: the only one, or the last of several."""
        return self.options.workers - 1

    async def start(self) -> None:
        OffsetFileClock.write_offset(self.clock_file, timedelta(0))
        self.postgres = EmbeddedPostgres()
        self.database_url = await asyncio.to_thread(self.postgres.start)
        self.broker = LocalBroker(log_path=self.run_dir / "broker.log")
        await asyncio.to_thread(self.broker.start)
        env = {**CAMPAIGN_ENV, "CLOCK_OFFSET_FILE": str(self.clock_file)}
        self.system = LocalSystem(self.database_url, self.broker.bootstrap, self.run_dir, extra_env=env)
        await asyncio.to_thread(self.system.start, SERVICES, None, workers=self.options.workers)
        self.receiver = await asyncio.to_thread(ReceiverProcess, self.run_dir, "receiver")
        async with httpx.AsyncClient(timeout=30) as client:
            for endpoint, (subscriber, scope, mode) in SUBSCRIPTIONS.items():
                created = await client.post(
                    f"{self.system.url('notifications')}/v1/subscriptions",
                    headers=dev_headers("subscriber", subscriber, scope=scope),
                    json={
                        "endpoint_url": self.receiver.url(endpoint),
                        "event_types": all_event_types(),
                        "content_mode": mode,
                    },
                )
                created.raise_for_status()
                self.secrets[endpoint] = created.json()["secret"]
        await self.configure_endpoints()

    async def configure_endpoints(self, **config: Any) -> None:
        """Every endpoint answers as told (its secret always set): by default 2xx."""
        assert self.receiver is not None
        for endpoint, secret in self.secrets.items():
            await asyncio.to_thread(self.receiver.configure, endpoint, secret=secret, **config)

    def stop(self) -> None:
        """Stop every process this rig started; keep the logs (PostgreSQL's copied next to the others)."""
        if self.receiver is not None:
            self.receiver.stop()
        if self.system is not None:
            self.system.stop()
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            with contextlib.suppress(OSError):
                shutil.copy(self.postgres.log_path, self.run_dir / "postgres.log")
            self.postgres.stop()

    def set_clock(self, offset: timedelta) -> None:
        OffsetFileClock.write_offset(self.clock_file, offset)

    def clock_now(self):
        return OffsetFileClock(self.clock_file).now()


# -- the faults ----------------------------------------------------------------------------------------------


Fault = Callable[[Rig], Awaitable[None]]


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    fault: Fault
    lasts: float = 5.0  # about how long the fault and its recovery step take
    needs_workers: bool = False  # only with more than one worker per service

    def load_seconds(self, options: Options) -> float:
        """The load runs its `seconds`, and longer when the fault would outlast it: the flow must recover under
        load (a third of the load's length of it after the fault), not in an idle system."""
        return max(options.seconds, options.fault_moment + self.lasts + options.seconds / 3)


def kill(*names: str) -> Fault:
    async def fault(rig: Rig) -> None:
        assert rig.system is not None
        index = rig.victim()
        which = ", ".join(f"{name} #{index + 1}" for name in names)
        rig.fault_started(f"SIGKILL {which}")
        for name in names:
            await asyncio.to_thread(rig.system.kill, name, index)
        await asyncio.sleep(rig.options.restart_after)
        rig.mark(f"orchestrator restarts {which}")
        await asyncio.gather(*(asyncio.to_thread(rig.system.restart, name, index) for name in names))
        rig.orchestrator_restarts += len(names)
        rig.fault_ended(f"{which} ready again")

    return fault


async def broker_empty(rig: Rig) -> None:
    assert rig.broker is not None
    rig.fault_started("broker stopped (tansu keeps nothing)")
    await asyncio.to_thread(rig.broker.restart_empty)
    rig.fault_ended("broker started again, empty")


def postgres_down(mode: str, seconds: float) -> Fault:
    async def fault(rig: Rig) -> None:
        assert rig.postgres is not None
        rig.fault_started(f"PostgreSQL stopped ({mode}) for {seconds:.0f} s")
        await asyncio.to_thread(rig.postgres.stop_server, mode)
        await asyncio.sleep(seconds)
        await asyncio.to_thread(rig.postgres.start_server)
        rig.fault_ended("PostgreSQL started again")

    return fault


def webhook_down(refusing: float = 15.0, unavailable: float = 10.0) -> Fault:
    async def fault(rig: Rig) -> None:
        receiver = rig.receiver
        assert receiver is not None
        # Its attempt log lives in the process: keep it first. Answering 503 for the moment that takes means no
        # delivery gets through unrecorded between reading the log and stopping the process.
        await rig.configure_endpoints(fail_next=10**9, fail_status=503)
        for endpoint in rig.secrets:
            attempts, _ = await receiver_attempts(receiver.base, endpoint)
            rig.earlier_attempts.setdefault(endpoint, []).extend(attempts)
        rig.fault_started(f"webhook endpoint refuses connections for {refusing:.0f} s")
        await asyncio.to_thread(receiver.stop)
        await asyncio.sleep(refusing)
        await asyncio.to_thread(receiver.start)  # same port; what it kept is on disk
        await rig.configure_endpoints(fail_next=10**9, fail_status=503, retry_after=2)
        rig.mark(f"webhook endpoint answers 503 with Retry-After: 2 for {unavailable:.0f} s")
        await asyncio.sleep(unavailable)
        await rig.configure_endpoints()
        rig.fault_ended("webhook endpoint answers 2xx again")

    return fault


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        *(Scenario(f"kill-{name}", f"SIGKILL of {name}, restarted after 2 s", kill(name), 7) for name in SERVICES),
        Scenario("kill-workers", "SIGKILL of one worker of every service", kill(*SERVICES), 8, needs_workers=True),
        Scenario("broker-empty", "the broker restarted empty", broker_empty, 2),
        *(
            Scenario(
                f"pg-{mode}-{seconds}",
                f"PostgreSQL stopped {mode} for {seconds} s",
                postgres_down(mode, seconds),
                seconds,
            )
            for mode in ("fast", "immediate")
            for seconds in (5, 30)
        ),
        Scenario(
            "webhook-down", "the webhook endpoint refuses connections 15 s, then answers 503 10 s", webhook_down(), 25
        ),
    )
}


def default_scenarios(workers: int) -> list[str]:
    return [name for name, s in SCENARIOS.items() if workers > 1 or not s.needs_workers]


# -- a run ---------------------------------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    scenario: str
    run: int
    workers: int
    rate: float
    seconds: float
    run_dir: str
    load: dict[str, Any] = field(default_factory=dict)
    events: dict[str, dict[str, int]] = field(default_factory=dict)
    consumption: dict[str, dict[str, Any]] = field(default_factory=dict)
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)  # per endpoint (subscription)
    delivery_states: dict[str, int] = field(default_factory=dict)
    timers: dict[str, int] = field(default_factory=dict)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    order: dict[str, dict[str, Any]] = field(default_factory=dict)  # per endpoint (subscription)
    drain: str = ""  # drained | stalled | timed out (and what a rescue did)
    drain_seconds: float | None = None
    stall: str = ""  # what was left when it stalled
    stall_log: dict[str, list[str]] = field(default_factory=dict)
    flowing_after: float | None = None
    caught_up_after: float | None = None
    orchestrator_restarts: int = 0
    cpu: dict[str, Any] = field(default_factory=dict)  # cores used per part: the run's mean, at the worst latency
    person_acted: str = ""  # what a person had to do beyond the fault's own recovery ("" : nothing)
    timeline: list[tuple[float, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and not self.error

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


async def run_scenario(scenario: Scenario, options: Options, run: int = 1, index: int = 1) -> ScenarioResult:
    """One scenario on a fresh system; every process it starts is stopped before it returns."""
    run_dir = options.out / (f"{index:02d}-{scenario.name}" + ("" if run == 1 else f"-run{run}"))
    # A directory left by an earlier campaign into the same --out would mix its receiver's deliveries in.
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    seconds = scenario.load_seconds(options)
    result = ScenarioResult(scenario.name, run, options.workers, options.rate, seconds, str(run_dir))
    rig = Rig(options, run_dir)
    options.echo(f"[{scenario.name}] {scenario.description}; logs in {run_dir}")
    try:
        await rig.start()
        await _exercise(rig, scenario, result)
    except Exception as error:  # noqa: BLE001 — a scenario that could not run is reported, the others still run
        while isinstance(error, ExceptionGroup):
            error = error.exceptions[0]
        result.error = f"{type(error).__name__}: {error}"
        result.problems.append(f"the scenario did not run to the end: {result.error}")
        rig.mark(f"error: {result.error}")
    finally:
        rig.sampling = False
        await asyncio.to_thread(rig.stop)
    result.timeline = rig.timeline
    samples = [
        None if x is None else {"at": round(x.at, 1), **outstanding(x), "delivered": x.delivered} for x in rig.samples
    ]
    (run_dir / "samples.json").write_text(_json(samples))  # every stage's backlog, second by second
    if rig.cpu is not None:
        (run_dir / "cpu.json").write_text(_json([{"at": at, **parts} for at, parts in rig.cpu.series]))
    (run_dir / "result.json").write_text(_json(result.to_json()))
    return result


async def _exercise(rig: Rig, scenario: Scenario, result: ScenarioResult) -> None:
    options = rig.options
    assert rig.system is not None
    load = Load(rig.system.urls("intake"), rig.clock_file, options.rate, result.seconds)
    ready_after = rig.now()
    rig.t0 = time.monotonic()  # the timeline counts from the load's start
    rig.mark(f"system ready ({options.workers} worker(s) per service, started in {ready_after:.0f} s)")
    rig.cpu = CpuWatch(rig.postgres.data_dir if rig.postgres is not None else None)
    sampler = asyncio.create_task(_sample(rig))
    prober = asyncio.create_task(_liveness(rig))
    try:
        rig.mark(f"load: {options.rate:g} episodes/s for {result.seconds:g} s")
        async with asyncio.TaskGroup() as group:  # a fault that fails stops the load, and the other way round
            loading = group.create_task(load.run())
            group.create_task(_inject(rig, scenario))
        stats = loading.result()
        rig.mark(
            f"load ended: {stats.accepted_count} requests accepted, {stats.refused_count} attempts refused,"
            f" {stats.given_up} given up"
        )
        drained_at = await _drain(rig, result)
        if result.drain != "drained" and options.rescue:
            await _rescue(rig, result)
        if rig.fault_start is not None and rig.fault_end is not None:
            recovered: Recovery = recovery(rig.samples, rig.fault_start, rig.fault_end)
            result.flowing_after = _round(recovered.flowing_after)
            # Caught up and then stalled is not recovered: only a drain by itself counts.
            result.caught_up_after = _round(recovered.caught_up_after) if drained_at is not None else None
        result.drain_seconds = _round(drained_at)
        await asyncio.sleep(options.settle)
    finally:
        rig.sampling = False
        await sampler
        await prober
    assert rig.receiver is not None
    conn = await connect(rig.database_url)
    try:
        observed = await observe(conn, rig.receiver.base, list(rig.secrets), rig.earlier_attempts)
    finally:
        await conn.close()
    judge(result, stats, observed, rig.clock_now())
    if rig.cpu is not None:
        result.cpu = cpu_summary(rig.cpu, result.load.get("latency", {}))
    result.orchestrator_restarts = rig.orchestrator_restarts


async def _inject(rig: Rig, scenario: Scenario) -> None:
    """Move the shared clock so evaluation timers fire around the fault, then inject it.

    Timers fall due three weeks after a referral. Two seconds before the fault the clock jumps to three weeks
    minus the time the load has run: from then on the timers of the episodes referred so far fall due one after
    another, as steadily as they were made, so the fault finds the scheduler firing."""
    moment = rig.options.fault_moment
    jump = max(1.0, moment - 2.0)
    await asyncio.sleep(max(0.0, jump - rig.now()))
    rig.set_clock(EVALUATION_INTERVAL - timedelta(seconds=rig.now()))
    rig.mark("shared clock moved: the evaluations planned so far fall due from now on")
    await asyncio.sleep(max(0.0, moment - rig.now()))
    await scenario.fault(rig)


async def _sample(rig: Rig) -> None:
    """Every second, every stage's backlog (None while the database does not answer) and where the CPU went."""
    conn = None
    while rig.sampling:
        started = time.monotonic()
        if rig.cpu is not None:
            rig.cpu.sample(rig.now())
        try:
            if conn is None or conn.is_closed():
                conn = await connect(rig.database_url)
            rig.samples.append(await snapshot(conn, rig.now(), rig.clock_now()))
        except Exception:  # noqa: BLE001 — the database is away (that may be the fault): no sample
            rig.samples.append(None)
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.terminate()
            conn = None
        await asyncio.sleep(max(0.1, 1.0 - (time.monotonic() - started)))
    if conn is not None:
        with contextlib.suppress(Exception):
            await conn.close()


async def _liveness(rig: Rig) -> None:
    """The orchestrator's liveness probe: a worker whose /health answers 503 (a loop with work and no progress)
    `LIVENESS_FAILURES` times in a row is restarted, and counted as an orchestrator restart. A worker that
    does not answer at all is left alone: that is a kill, which its own fault restarts."""
    assert rig.system is not None
    failures: Counter[tuple[str, int]] = Counter()
    started: dict[tuple[str, int], float] = {}  # when the probe last restarted a worker
    async with httpx.AsyncClient(timeout=2.0) as client:
        while rig.sampling:
            for name in SERVICES:
                for index, url in enumerate(rig.system.urls(name)):
                    if rig.now() - started.get((name, index), float("-inf")) < LIVENESS_GRACE_SECONDS:
                        continue
                    stalled: list[str] = []
                    try:
                        answer = await client.get(f"{url}/health")
                        if answer.status_code == 503:
                            stalled = answer.json().get("stalled") or ["?"]
                    except (httpx.HTTPError, ValueError):
                        pass
                    failures[name, index] = failures[name, index] + 1 if stalled else 0
                    if failures[name, index] >= LIVENESS_FAILURES:
                        rig.mark(
                            f"liveness probe failed ({', '.join(map(str, stalled))} stalled):"
                            f" orchestrator restarts {name} #{index + 1}"
                        )
                        # As kubelet does: the container is killed, then started again.
                        await asyncio.to_thread(rig.system.kill, name, index)
                        await asyncio.to_thread(rig.system.restart, name, index)
                        rig.orchestrator_restarts += 1
                        failures[name, index] = 0
                        started[name, index] = rig.now()
            await asyncio.sleep(LIVENESS_PERIOD_SECONDS)


async def _drain(rig: Rig, result: ScenarioResult) -> float | None:
    """Wait until every stage is empty; sets result.drain. Returns seconds from the load's end to drained."""
    options = rig.options
    began = time.monotonic()
    watch = StallWatch(options.stall_after, began)
    while True:
        await asyncio.sleep(1.0)
        latest = rig.samples[-1] if rig.samples else None
        state = watch.update(latest, time.monotonic())
        if state == "drained":
            result.drain = "drained"
            rig.mark("drained")
            return time.monotonic() - began
        timed_out = time.monotonic() - began > options.drain_timeout
        if state == "stalled" or timed_out:
            result.drain = "stalled" if state == "stalled" else "timed out"
            result.stall = describe(latest)
            result.stall_log = log_excerpts(rig.run_dir)
            await _dump_stalled(rig)
            still = f"nothing moved for {options.stall_after:g} s" if state == "stalled" else "drain timeout"
            rig.mark(f"STALL ({still}): {result.stall}")
            result.problems.append(f"{result.drain}: {result.stall}")
            return None


async def _dump_stalled(rig: Rig) -> None:
    """Keep what the stall left in notifications (`stalled-deliveries-N.json`, one per stall of the scenario)."""
    try:
        conn = await connect(rig.database_url)
        try:
            found = await stalled_deliveries(conn)
        finally:
            await conn.close()
    except Exception as error:  # noqa: BLE001 — the database may be the fault: say so instead
        found = {"error": repr(error)}
    index = len(list(rig.run_dir.glob("stalled-deliveries-*.json"))) + 1
    (rig.run_dir / f"stalled-deliveries-{index}.json").write_text(json.dumps(found, indent=1))


async def _rescue(rig: Rig, result: ScenarioResult) -> None:
    """A person restarts every service; then the drain gets another chance (to see what a restart recovers)."""
    assert rig.system is not None
    rig.mark("a person restarts every service")
    for name in SERVICES:
        for index, _ in enumerate(rig.system.workers[name]):
            worker = rig.system.worker(name, index)
            await asyncio.to_thread(worker.stop)
            await asyncio.to_thread(rig.system.restart, name, index)
    result.person_acted = "restarted every service after the stall"
    first = result.drain
    again = ScenarioResult(result.scenario, result.run, result.workers, result.rate, result.seconds, result.run_dir)
    await _drain(rig, again)
    result.drain = f"{first}; after a restart: {again.drain}"
    if again.drain != "drained":
        result.problems += again.problems


def log_excerpts(run_dir: Path, problems: int = 10, last: int = 3) -> dict[str, list[str]]:
    """Per log: its last warnings and errors, and the last lines it wrote (what the process did last)."""
    pattern = re.compile(r"warning|error|exception|traceback|unavailable|failed|stall|gave_up|giving up", re.I)
    excerpts = {}
    for path in sorted(run_dir.glob("*.log")):
        with contextlib.suppress(OSError):
            lines = [line.rstrip()[:400] for line in path.read_text(errors="replace").splitlines() if line.strip()]
            chosen = [line for line in lines if pattern.search(line)][-problems:]
            chosen += [line for line in lines[-last:] if line not in chosen]
            if chosen:
                excerpts[path.name] = chosen
    return excerpts


# -- the verdict ---------------------------------------------------------------------------------------------


def judge(result: ScenarioResult, stats: LoadStats, observed: Observed, now) -> None:
    """Fill in the result from the load and what was observed; every loss, duplicate effect, gap or disorder
    becomes a problem (the run fails)."""
    producers, consumes = flow()
    events = observed.events
    problems = result.problems
    result.load = {
        "episodes": stats.episodes_started,
        "completed": stats.episodes_completed,
        "accepted": stats.accepted_count,
        "refused": dict(stats.refused),
        "refused_total": stats.refused_count,
        "retried_requests": stats.retried_requests,
        "rejected": stats.rejected[:10],
        "rejected_total": len(stats.rejected),
        "given_up": stats.given_up,
        "latency": stats.latency(),
    }
    if stats.rejected:
        problems.append(f"{len(stats.rejected)} valid requests rejected, e.g. {stats.rejected[0]}")
    lost = checks.lost_acceptances(stats.accepted, events)
    result.lost = [f"{a.step} {a.episode_id} v{a.version}" for a in lost[:10]]
    if lost:
        problems.append(f"{len(lost)} accepted requests not in the intake store")
    result.events = checks.events_per_type(events)

    consumed = checks.consumption(events, producers, consumes, observed.inbox, observed.dead_letters)
    result.consumption = {name: asdict(c) for name, c in consumed.items()}
    for name, c in consumed.items():
        if c.missing or c.duplicated:
            never = ", ".join(f"{kind} {n}" for kind, n in sorted(c.missing_by_type.items()))
            problems.append(
                f"{name} consumed {c.missing} events never and {c.duplicated} twice ({c.dead_lettered} dead-lettered)"
                + (f"; never: {never}" if never else "")
            )

    duplicates = checks.duplicate_effects(events, {"intake": APPENDED_ONCE})
    result.duplicates = [asdict(d) for d in duplicates[:20]]
    if duplicates:
        problems.append(f"{len(duplicates)} duplicate effects, e.g. {duplicates[0].what} ({duplicates[0].key})")

    timers = checks.timers(observed.timers, events, now)
    result.timers = asdict(timers)
    if not timers.ok:
        problems.append(
            f"timers: {timers.fired_twice} fired twice, {timers.due_not_fired} due and not fired,"
            f" {timers.fired_without_event} fired without an event,"
            f" {timers.event_without_timer} events of no fired timer"
        )

    expected = expected_deliveries(events, set(all_event_types()))
    result.delivery_states = observed.delivery_states
    for endpoint in observed.kept:
        delivered = checks.deliveries(expected, observed.attempts.get(endpoint, []), observed.kept[endpoint])
        full = observed.attempt_log_full.get(endpoint, False)
        result.deliveries[endpoint] = {**asdict(delivered), "attempt_log_full": full}
        if delivered.missing or delivered.duplicated or delivered.unexpected:
            problems.append(
                f"deliveries to {endpoint}: {delivered.missing} missing, {delivered.duplicated} duplicated,"
                f" {delivered.unexpected} unexpected"
            )
        if delivered.gaps or delivered.out_of_order:
            problems.append(
                f"deliveries to {endpoint}: {len(delivered.gaps)} sequence gaps, {delivered.out_of_order} out of order"
            )
        order = checks.episode_order(observed.kept[endpoint], events)
        result.order[endpoint] = asdict(order)
        if not order.ok:
            problems.append(
                f"{endpoint}: {order.violations} episodes received out of causal order, e.g. {order.examples[0]}"
            )
    if observed.delivery_states.get("dead"):
        problems.append(f"{observed.delivery_states['dead']} deliveries dead-lettered")


async def run_campaign(names: list[str], options: Options, repeat: int = 1) -> list[ScenarioResult]:
    """The scenarios one after another (`repeat` rounds). SIGTERM, like Ctrl-C, cancels the campaign: the running
    scenario still stops every process it started."""
    campaign = asyncio.current_task()
    if campaign is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, campaign.cancel)
    results = []
    index = 0
    for run in range(1, repeat + 1):
        for name in names:
            index += 1
            results.append(await run_scenario(SCENARIOS[name], options, run, index))
    return results


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=2, default=str)


__all__ = ["SCENARIOS", "Options", "Scenario", "ScenarioResult", "default_scenarios", "run_campaign", "run_scenario"]
