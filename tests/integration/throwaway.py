"""Throwaway Redis and PostgreSQL servers for the fault tests: they are stopped, killed and restarted
on purpose, so they must never be the shared ones. Each lives in its own temporary directory, on a
free port, and is removed at the end."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class ThrowawayRedis:
    def __init__(self):
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="prm-faults-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> bool:
        if not self.binary:
            return False
        log = open(self.dir / "redis.log", "a")  # noqa: SIM115 - kept open for the server's life
        # No persistence: a restart loses every message, as a crashed broker without AOF would.
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return _wait_port(self.port, 10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def restart(self, down_for: float = 1.0) -> bool:
        self.stop()
        time.sleep(down_for)
        return self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own (initdb in a temporary directory), run as the postgres user
    when we are root (PostgreSQL refuses to run as root)."""

    def __init__(self):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        self.bin = Path(bins[-1]).parent if bins else None
        if self.bin is None and shutil.which("initdb"):
            self.bin = Path(shutil.which("initdb")).parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="prm-faults-pg-"))
        self.data = self.dir / "data"
        self.sockets = self.dir / "sock"
        self.error = ""

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)

    def start(self) -> bool:
        if self.bin is None:
            self.error = "no initdb found"
            return False
        self.sockets.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.sockets, "postgres")
        if not self.data.exists():
            done = self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"
            )
            if done.returncode:
                self.error = done.stderr[-2000:]
                return False
        return self._pg_ctl("start")

    def _pg_ctl(self, action: str, *extra: str) -> bool:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        done = self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.dir / "server.log"),
            "-w",
            "-t",
            "60",
            "-o",
            options,
            *extra,
            action,
        )
        if done.returncode:
            self.error = (done.stderr + done.stdout)[-2000:]
            return False
        return action == "stop" or _wait_port(self.port, 20)

    def restart(self) -> bool:
        """A fast restart: every session is cut, as a crash or a failover would."""
        return self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if self.data.exists() and self.bin is not None:
            self._pg_ctl("stop", "-m", "immediate")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
