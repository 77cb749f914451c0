"""The local system's environment and workers for its service processes (no processes started here)."""

import json
import socket
from pathlib import Path

import pytest

from deploy.local import EPHEMERAL_PORTS, LISTEN_PORTS_FROM, LocalSystem, ServiceProcess, free_port


def _system(**extra_env: str) -> LocalSystem:
    return LocalSystem("postgresql://localhost/x", "127.0.0.1:9092", Path("/nonexistent"), extra_env=extra_env)


def test_one_partition_per_topic_for_one_worker_per_service(monkeypatch):
    monkeypatch.delenv("KAFKA_TOPIC_PARTITIONS", raising=False)
    assert _system().env()["KAFKA_TOPIC_PARTITIONS"] == "1"


def test_the_environment_and_the_caller_choose_more_partitions(monkeypatch):
    monkeypatch.setenv("KAFKA_TOPIC_PARTITIONS", "6")
    assert _system().env()["KAFKA_TOPIC_PARTITIONS"] == "6"
    assert _system(KAFKA_TOPIC_PARTITIONS="3").env()["KAFKA_TOPIC_PARTITIONS"] == "3"


def test_more_workers_per_service_get_six_partitions(monkeypatch):
    monkeypatch.delenv("KAFKA_TOPIC_PARTITIONS", raising=False)
    system = _system()
    system.worker_count = 2
    assert system.env()["KAFKA_TOPIC_PARTITIONS"] == "6"


def test_fewer_partitions_than_workers_are_refused(monkeypatch):
    monkeypatch.setenv("KAFKA_TOPIC_PARTITIONS", "2")
    system = _system()
    system.worker_count = 3
    with pytest.raises(ValueError, match="3 workers"):
        system.env()


def test_each_worker_has_a_port_and_log_of_its_own_and_services_names_the_first(monkeypatch, tmp_path):
    monkeypatch.delenv("KAFKA_TOPIC_PARTITIONS", raising=False)
    started = []
    monkeypatch.setattr(ServiceProcess, "start", lambda self: started.append(self))
    monkeypatch.setattr(ServiceProcess, "wait_ready", lambda self, timeout=90.0: None)
    system = LocalSystem("postgresql://localhost/x", "127.0.0.1:9092", tmp_path)
    system.start(("intake", "pathway"), ports={"intake": 18001}, workers=2)

    assert [p.name for p in started] == ["intake", "intake", "pathway", "pathway"]
    intake = system.workers["intake"]
    assert system.services["intake"] is intake[0] and intake[0].port == 18001
    assert len({p.port for p in started}) == 4
    assert [p.log_path.name for p in intake] == ["intake.log", "intake.2.log"]
    assert system.urls("intake") == [f"http://127.0.0.1:{p.port}" for p in intake]
    assert {p.env["KAFKA_TOPIC_PARTITIONS"] for p in started} == {"6"}
    peers = json.loads(started[3].env["PEER_URLS"])
    assert peers == {"intake": "http://127.0.0.1:18001", "pathway": system.url("pathway")}
    assert system.worker("pathway", 1) is system.workers["pathway"][1]


def test_a_free_port_lies_below_the_range_outgoing_connections_take_their_ports_from():
    # An outgoing connection (a service's to PostgreSQL) took a port picked inside that range before the service
    # bound it: "address already in use". Below the range no connection takes it.
    below = int(EPHEMERAL_PORTS.read_text().split()[0])
    ports = {free_port() for _ in range(50)}
    assert all(LISTEN_PORTS_FROM <= port < below for port in ports), sorted(ports)
    assert len(ports) > 1  # picked at random, so two launchers seldom pick the same one
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports.pop()))  # and free to listen on


def test_one_process_never_hands_out_a_port_twice_even_before_it_is_bound():
    # Two services given the same port before either bound it: one exits with 'address already in use'.
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
