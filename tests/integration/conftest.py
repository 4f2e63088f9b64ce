"""Real Celery worker processes on the real Redis broker, against the PostgreSQL test database."""

import os
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


def start_worker(queue: str, **extra_env: str) -> subprocess.Popen:
    """A real `celery worker` process on its own queue, against the test database."""
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
           "DEBUG": "0", "CELERY_TASK_DEFAULT_QUEUE": queue, **extra_env}
    log_dir = ROOT / ".pytest_cache"
    log_dir.mkdir(exist_ok=True)
    with open(log_dir / f"worker-{queue}.log", "a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "prm", "worker", "--pool=solo", "-Q", queue, "-l", "info",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )


def stop_worker(proc: subprocess.Popen, *, kill: bool = False) -> None:
    if proc.poll() is not None:
        return
    proc.kill() if kill else proc.terminate()
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


