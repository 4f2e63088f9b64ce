"""Real Celery worker processes on the real Redis broker, against the PostgreSQL test database."""

import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


def _broker_reachable(url: str) -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except Exception:
        return False


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class Worker:
    queue: str
    process: subprocess.Popen


def start_worker(queue: str, *, concurrency: int = 0, **extra_env: str) -> subprocess.Popen:
    """A real `celery worker` process on its own queue, against the test database: solo pool, or
    prefork with `concurrency` processes (in its own process group, so that a kill takes them all)."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "DEBUG": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **extra_env,
    }
    log_dir = ROOT / ".pytest_cache"
    log_dir.mkdir(exist_ok=True)
    pool = ["--pool=prefork", f"--concurrency={concurrency}"] if concurrency else ["--pool=solo"]
    with open(log_dir / f"worker-{queue}.log", "a") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "prm",
                "worker",
                *pool,
                "-Q",
                queue,
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def worker_log(queue: str) -> str:
    path = ROOT / ".pytest_cache" / f"worker-{queue}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def stop_worker(proc: subprocess.Popen, *, kill: bool = False) -> None:
    if proc.poll() is not None:
        return
    if kill:  # SIGKILL to the whole group: the pool processes die with their parent
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    else:
        proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture
def worker(transactional_db, settings):
    """A worker process; what the code under test dispatches goes to its queue."""
    from prm.celery import app

    broker = settings.CELERY_BROKER_URL
    require_service("Celery broker", not broker.startswith("memory://"), "set CELERY_BROKER_URL")
    require_service("Redis broker", broker.startswith("redis") and _broker_reachable(broker), broker)
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL to PostgreSQL")
    queue = f"test-{uuid.uuid4().hex[:8]}"  # our own queue: no other worker takes our messages
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    handle = Worker(queue=queue, process=start_worker(queue))
    try:
        yield handle
    finally:
        app.conf.task_default_queue = default_queue
        stop_worker(handle.process)
