"""The fault campaign's judgement on hand-made data: what counts as lost, twice, out of order, stalled."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from deploy.faults import checks
from deploy.faults.checks import Accepted, Attempt, Kept, StoredEvent, TimerRow
from deploy.faults.cpu import CpuWatch
from deploy.faults.cpu import describe as describe_cpu
from deploy.faults.cpu import summary as cpu_summary
from deploy.faults.load import LoadStats
from deploy.faults.progress import Snapshot, StallWatch, backlog, describe, outstanding, recovery

INTAKE = "nl.ruggengraat.intake."
PATHWAY = "nl.ruggengraat.pathway."
DUE = PATHWAY + "EvaluationDue"
NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def intake(event_id: str, type_: str, stream: str = "e1", version: int = 1, detail: str = "") -> StoredEvent:
    return StoredEvent("intake", event_id, INTAKE + type_, stream, version, None, detail)


def pathway(
    event_id: str, type_: str, stream: str = "e1", version: int = 1, cause: str | None = None, detail: str = ""
):
    return StoredEvent("pathway", event_id, PATHWAY + type_, stream, version, cause, detail)


# -- accepted requests ---------------------------------------------------------------------------------------


def test_an_accepted_request_whose_episode_version_is_not_in_the_store_is_lost():
    events = [intake("a", "ReferralReceived", "e1", 1), intake("b", "HistoryTaken", "e1", 2)]
    accepted = [Accepted("referral", "e1", 1), Accepted("history", "e1", 2), Accepted("assessment", "e1", 3)]
    accepted.append(Accepted("referral", "e2", 1))
    lost = checks.lost_acceptances(accepted, events)
    assert [(a.step, a.episode_id) for a in lost] == [("assessment", "e1"), ("referral", "e2")]


def test_a_later_version_in_the_store_covers_an_earlier_acceptance():
    events = [intake("a", "ReferralReceived", "e1", 1), intake("b", "HistoryTaken", "e1", 2)]
    assert checks.lost_acceptances([Accepted("referral", "e1", 1)], events) == []


def test_events_are_counted_per_store_and_type():
    events = [intake("a", "ReferralReceived"), intake("b", "HistoryTaken"), pathway("c", "BeloopClassified")]
    events.append(intake("d", "ReferralReceived", "e2"))
    assert checks.events_per_type(events) == {
        "intake": {"HistoryTaken": 1, "ReferralReceived": 2},
        "pathway": {"BeloopClassified": 1},
    }


# -- duplicate effects ---------------------------------------------------------------------------------------


def test_two_classifications_of_one_assessment_are_a_duplicate_effect():
    events = [
        intake("a", "AssessmentCompleted"),
        pathway("p1", "BeloopClassified", cause="a", version=1),
        pathway("p2", "BeloopClassified", cause="a", version=2),
    ]
    [duplicate] = checks.duplicate_effects(events, {})
    assert (duplicate.what, duplicate.key, duplicate.count) == ("pathway BeloopClassified for one cause", "a", 2)


def test_different_details_of_one_cause_are_different_effects():
    events = [
        pathway("p1", "EvaluationScheduled", cause="a", detail="t1|1|"),
        pathway("p2", "EvaluationScheduled", cause="a", detail="t2|2|"),
        pathway("p3", "BeloopClassified", cause="b"),
        pathway("p4", "BeloopClassified", cause=None),
        pathway("p5", "BeloopClassified", cause=None),
    ]
    assert checks.duplicate_effects(events, {}) == []


def test_two_events_of_one_timer_are_a_duplicate_whatever_their_cause():
    events = [pathway("d1", "EvaluationDue", cause="x", detail="t1"), pathway("d2", "EvaluationDue", detail="t1")]
    events.append(pathway("d3", "EvaluationDue", detail="t2"))
    [duplicate] = checks.duplicate_effects(events, {})
    assert (duplicate.what, duplicate.key) == ("pathway EvaluationDue for one timer", "t1")


def test_a_timer_fired_twice_from_one_cause_is_one_duplicate():
    events = [
        pathway("d1", "EvaluationDue", cause="x", detail="t1"),
        pathway("d2", "EvaluationDue", cause="x", detail="t1"),
    ]
    assert [d.what for d in checks.duplicate_effects(events, {})] == ["pathway EvaluationDue for one timer"]


def test_a_command_the_load_sends_once_recorded_twice_in_an_episode_is_a_duplicate():
    events = [intake("a", "HistoryTaken", "e1", 2), intake("b", "HistoryTaken", "e1", 3)]
    events.append(intake("c", "HistoryTaken", "e2", 2))
    [duplicate] = checks.duplicate_effects(events, {"intake": [INTAKE + "HistoryTaken"]})
    assert (duplicate.what, duplicate.key, duplicate.count) == ("intake HistoryTaken twice in one episode", "e1", 2)


def test_one_patients_referral_in_two_episodes_is_a_duplicate():
    events = [intake("a", "ReferralReceived", "e1", detail="patient-1")]
    events.append(intake("b", "ReferralReceived", "e2", detail="patient-1"))
    events.append(intake("c", "ReferralReceived", "e3", detail="patient-2"))
    [duplicate] = checks.duplicate_effects(events, {"intake": [INTAKE + "ReferralReceived"]})
    assert (duplicate.what, duplicate.key, duplicate.count) == (
        "intake one patient's referral in two episodes",
        "patient-1",
        2,
    )


# -- consumption ---------------------------------------------------------------------------------------------

TOPICS = {"intake.events": "intake", "pathway.events": "pathway"}


def test_each_consumer_must_hold_every_event_of_the_types_it_handles_once():
    events = [
        intake("a", "ReferralReceived"),
        intake("b", "HistoryTaken"),
        intake("c", "PatientDataErased"),
        pathway("d", "BeloopClassified"),
    ]
    consumes = {
        "pathway": {"intake.events": [INTAKE + "ReferralReceived", INTAKE + "HistoryTaken"]},
        "reporting": {"intake.events": [INTAKE + "HistoryTaken"], "pathway.events": [PATHWAY + "BeloopClassified"]},
    }
    inbox = {"pathway": ["a", "b"], "reporting": ["b"]}
    result = checks.consumption(events, TOPICS, consumes, inbox, {"reporting": ["d"]})
    assert (result["pathway"].expected, result["pathway"].once, result["pathway"].missing) == (2, 2, 0)
    assert result["pathway"].ok
    reporting = result["reporting"]
    assert (reporting.expected, reporting.once, reporting.missing, reporting.dead_lettered) == (2, 1, 1, 1)
    assert reporting.missing_examples == ["d"] and not reporting.ok
    assert reporting.missing_by_type == {"pathway BeloopClassified": 1}


def test_an_event_claimed_twice_counts_as_duplicated_and_not_once():
    events = [intake("a", "ReferralReceived"), intake("b", "HistoryTaken")]
    consumes = {"pathway": {"intake.events": [INTAKE + "ReferralReceived", INTAKE + "HistoryTaken"]}}
    result = checks.consumption(events, TOPICS, consumes, {"pathway": ["a", "a", "b"]})["pathway"]
    assert (result.once, result.missing, result.duplicated) == (1, 0, 1)
    assert not result.ok


# -- timers --------------------------------------------------------------------------------------------------


def timer(timer_id: str, fired: bool = True, due: timedelta = timedelta(hours=-1), cancelled: bool = False):
    return TimerRow(timer_id, "evaluation_due", NOW + due, NOW if fired else None, NOW if cancelled else None)


def test_timers_that_fired_once_each_are_fine():
    rows = [timer("t1"), timer("t2"), timer("t3", fired=False, due=timedelta(days=21))]
    events = [pathway("d1", "EvaluationDue", detail="t1"), pathway("d2", "EvaluationDue", detail="t2")]
    result = checks.timers(rows, events, NOW)
    assert (result.fired, result.ok) == (2, True)


def test_a_timer_with_two_events_fired_twice():
    events = [pathway("d1", "EvaluationDue", detail="t1"), pathway("d2", "EvaluationDue", detail="t1")]
    result = checks.timers([timer("t1")], events, NOW)
    assert result.fired_twice == 1 and not result.ok


def test_a_due_timer_left_open_is_stuck_but_a_cancelled_or_future_one_is_not():
    rows = [
        timer("t1", fired=False),
        timer("t2", fired=False, cancelled=True),
        timer("t3", fired=False, due=timedelta(minutes=1)),
    ]
    result = checks.timers(rows, [], NOW)
    assert result.due_not_fired == 1 and not result.ok


def test_a_fired_timer_without_its_event_and_an_event_of_no_timer_are_both_wrong():
    rows = [timer("t1"), timer("t2", fired=False, due=timedelta(days=1))]
    events = [pathway("d2", "EvaluationDue", detail="t2"), pathway("d3", "EvaluationDue", detail="t-unknown")]
    result = checks.timers(rows, events, NOW)
    assert (result.fired_without_event, result.event_without_timer) == (1, 2)


# -- deliveries ----------------------------------------------------------------------------------------------


def ok(webhook_id: str, sequence: int, event_id: str) -> Attempt:
    return Attempt(webhook_id, sequence, 204, event_id)


def kept(event_id: str, sequence: int, subject: str = "e1", type_: str = "x") -> Kept:
    return Kept(event_id, sequence, subject, type_)


def test_every_event_delivered_once_in_sequence():
    attempts = [ok("w1", 1, "a"), ok("w2", 2, "b"), ok("w3", 3, "c")]
    result = checks.deliveries({"a", "b", "c"}, attempts, [kept("a", 1), kept("b", 2), kept("c", 3)])
    assert (result.once, result.missing, result.duplicated, result.resent, result.gaps) == (3, 0, 0, 0, [])
    assert result.ok


def test_the_same_webhook_id_and_sequence_accepted_again_is_a_resend_not_a_duplicate():
    attempts = [ok("w1", 1, "a"), ok("w1", 1, "a"), ok("w2", 2, "b")]
    result = checks.deliveries({"a", "b"}, attempts, [kept("a", 1), kept("b", 2)])
    assert (result.once, result.duplicated, result.resent) == (2, 0, 1)
    assert result.ok


def test_refused_attempts_before_one_gets_through_are_retries():
    attempts = [Attempt("w1", 1, 503), Attempt("w1", 1, None), ok("w1", 1, "a")]
    result = checks.deliveries({"a"}, attempts, [kept("a", 1)])
    assert (result.once, result.retried, result.duplicated, result.resent) == (1, 2, 0, 0)


def test_a_second_webhook_id_or_sequence_for_one_event_is_a_duplicate():
    attempts = [ok("w1", 1, "a"), ok("w9", 2, "a"), ok("w2", 3, "b"), ok("w3", 4, "c"), ok("w3", 5, "c")]
    result = checks.deliveries({"a", "b", "c"}, attempts, [kept("a", 1), kept("b", 3), kept("c", 4)])
    assert (result.duplicated, result.once) == (2, 1)
    assert not result.ok


def test_an_event_never_kept_is_missing_and_its_number_a_gap():
    attempts = [ok("w1", 1, "a"), ok("w3", 3, "c")]
    result = checks.deliveries({"a", "b", "c"}, attempts, [kept("a", 1), kept("c", 3)])
    assert (result.missing, result.missing_examples, result.gaps) == (1, ["b"], [2])
    assert not result.ok


def test_kept_before_a_restart_counts_without_its_attempt_and_extra_events_are_unexpected():
    result = checks.deliveries({"a", "b"}, [ok("w2", 2, "b")], [kept("a", 1), kept("b", 2), kept("z", 3)])
    assert (result.once, result.missing, result.unexpected, result.gaps) == (2, 0, 1, [])


def test_a_lower_sequence_arriving_after_a_higher_one_is_out_of_order():
    result = checks.deliveries({"a", "b"}, [], [kept("b", 2), kept("a", 1)])
    assert result.out_of_order == 1 and not result.ok


# -- per-episode order ---------------------------------------------------------------------------------------


def test_episode_order_holds_when_each_store_arrives_in_stream_order_and_causes_first():
    events = [
        intake("a", "ReferralReceived", "e1", 1),
        intake("b", "HistoryTaken", "e1", 2),
        pathway("p", "EvaluationScheduled", "e1", 1, cause="a"),
    ]
    arrived = [kept("a", 1), kept("p", 2), kept("b", 3)]
    result = checks.episode_order(arrived, events)
    assert (result.episodes, result.violations) == (1, 0)


def test_an_effect_before_its_cause_or_a_stream_going_back_breaks_the_order():
    events = [
        intake("a", "ReferralReceived", "e1", 1),
        intake("b", "HistoryTaken", "e1", 2),
        pathway("p", "EvaluationScheduled", "e1", 1, cause="a"),
        intake("c", "ReferralReceived", "e2", 1),
        intake("d", "HistoryTaken", "e2", 2),
    ]
    arrived = [kept("p", 1), kept("a", 2), kept("b", 3), kept("d", 4, "e2"), kept("c", 5, "e2")]
    result = checks.episode_order(arrived, events)
    assert (result.episodes, result.violations) == (2, 2)
    assert result.examples == [
        "e1: EvaluationScheduled before its cause ReferralReceived",
        "e2: ReferralReceived v1 after v2",
    ]


# -- progress, stalls and recovery ---------------------------------------------------------------------------


def snap(at: float, behind: int = 0, delivered: int = 0, counters: tuple[int, ...] = (), **more) -> Snapshot:
    return Snapshot(at, unrelayed={"intake": behind}, delivered=delivered, counters=counters or (delivered,), **more)


def test_outstanding_names_each_stage_with_work_left():
    s = Snapshot(1.0, {"intake": 3, "pathway": 0}, {"reporting": 2}, held=1, pending_deliveries=4, timers_due=5)
    assert outstanding(s) == {"intake relay": 3, "reporting inbox": 2, "fan-out": 1, "deliveries": 4, "timers due": 5}
    assert backlog(s) == 15
    assert describe(None) == "database unreachable" and describe(Snapshot(1.0)) == "drained"
    assert outstanding(Snapshot(1.0, delivered=5, received=3)) == {"endpoint behind": 2}


def test_a_stall_is_called_only_after_nothing_moved_for_the_whole_wait():
    watch = StallWatch(stall_after=10, started=0)
    assert watch.update(snap(0, behind=5, counters=(1,)), now=0) == "progressing"
    assert watch.update(snap(1, behind=5, counters=(2,)), now=5) == "progressing"
    assert watch.update(None, now=14) == "progressing"  # the database away is no progress …
    assert watch.update(snap(2, behind=5, counters=(2,)), now=15) == "stalled"  # … and 10 s passed since (2,)
    assert watch.update(snap(3, behind=0, counters=(2,)), now=16) == "drained"


def test_progress_resets_the_stall_clock():
    watch = StallWatch(stall_after=10, started=0)
    assert watch.update(snap(0, behind=5, counters=(1,)), now=9) == "progressing"
    assert watch.update(snap(0, behind=5, counters=(3,)), now=18) == "progressing"
    assert watch.update(snap(0, behind=5, counters=(3,)), now=27.9) == "progressing"
    assert watch.update(snap(0, behind=5, counters=(3,)), now=28) == "stalled"


def test_recovery_times_from_the_fault_end():
    samples = [
        snap(3, behind=10, delivered=1),
        snap(4, behind=30, delivered=2),  # baseline: 30, so caught up at ≤ 50
        snap(5, behind=80, delivered=3),  # the fault from 5 to 8
        None,
        snap(8, behind=400, delivered=3),
        snap(9, behind=300, delivered=3),
        snap(10, behind=200, delivered=9),  # deliveries move again: flowing 2 s after the fault ended
        snap(12, behind=45, delivered=20),  # caught up 4 s after
    ]
    result = recovery(samples, fault_start=5, fault_end=8)
    assert (result.flowing_after, result.caught_up_after) == (2, 4)


def test_no_recovery_when_the_backlog_never_comes_back():
    samples = [snap(4, behind=1, delivered=1), snap(9, behind=500, delivered=1), snap(10, behind=500, delivered=1)]
    result = recovery(samples, fault_start=5, fault_end=8)
    assert (result.flowing_after, result.caught_up_after) == (None, None)


@pytest.mark.parametrize("delivered_after", [5, 6])
def test_flowing_compares_with_the_last_sample_before_the_fault_ended(delivered_after):
    samples = [snap(4, behind=1, delivered=5), snap(9, behind=500, delivered=delivered_after)]
    result = recovery(samples, fault_start=5, fault_end=8)
    assert result.flowing_after == (1 if delivered_after > 5 else None)


def test_a_latency_spike_shows_in_the_worst_window_though_the_whole_load_median_hides_it():
    stats = LoadStats()
    stats.answered = [(at / 10, 0.012) for at in range(300)]  # 30 s of 12 ms answers, ten a second …
    stats.answered += [(11.0 + at / 20, 1.5) for at in range(60)]  # … and 60 answers of 1.5 s from 11 s to 14 s
    latency = stats.latency(window=5.0)
    assert latency["p50"] == pytest.approx(0.012)
    assert latency["max"] == pytest.approx(1.5)
    assert latency["worst_window_at"] == 10.0  # 50 fast and 60 slow answers between 10 s and 15 s
    assert latency["worst_window_p50"] == pytest.approx(1.5)
    assert LoadStats().latency() == {}


# -- where the CPU went --------------------------------------------------------------------------------------


def test_the_cpu_watch_names_the_busy_part_and_puts_an_idle_one_near_zero():
    burn = "import time\nend = time.monotonic() + 1.5  # services.burner\nwhile time.monotonic() < end: pass"
    idle = "import time; time.sleep(1.5)  # services.sleeper"
    busy, sleeping = (subprocess.Popen([sys.executable, "-c", code]) for code in (burn, idle))
    try:
        time.sleep(0.3)  # both started; what they used before the first sample is not counted
        watch = CpuWatch()
        time.sleep(1.0)
        watch.sample(1.0)
    finally:
        for process in (busy, sleeping):
            process.kill()
            process.wait()
    (at, parts), *_ = watch.series
    assert at == 1.0
    assert parts["burner"] > 0.5, parts  # one core, less what the machine took from it
    assert parts["sleeper"] < 0.1, parts
    assert "other" in parts and "campaign" in parts


def test_the_cpu_at_the_worst_latency_window_is_that_window_s_mean_busiest_first():
    watch = CpuWatch.__new__(CpuWatch)
    watch.series = [(1.0, {"intake": 0.2, "reporting": 0.1}), (6.0, {"intake": 0.3, "reporting": 1.6})]
    watch.series += [(7.0, {"intake": 0.5, "reporting": 1.8, "other": 0.1})]
    cpu = cpu_summary(watch, {"worst_window_p50": 1.2, "worst_window_at": 5.0})
    assert cpu["at_worst_latency"] == {"reporting": 1.7, "intake": 0.4, "other": 0.05}
    assert list(cpu["mean"])[0] == "reporting"
    assert describe_cpu(cpu).startswith("reporting 1.7, intake 0.4, other 0.05 of ")
