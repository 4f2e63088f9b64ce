"""A real Celery worker process, the real Redis broker and the real PostgreSQL test database."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from accounts.models import Invitation, InvitationStatus, Role
from tests.conftest import require_service
from tests.factories import OrganizationFactory

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


@pytest.fixture
def worker(transactional_db, settings):
    from prm.celery import app

    broker = settings.CELERY_BROKER_URL
    require_service("Celery broker", bool(broker), "set CELERY_BROKER_URL")
    require_service("Redis broker", broker.startswith("redis") and _broker_reachable(broker), broker)
    require_service("PostgreSQL", connection.vendor == "postgresql", "set DATABASE_URL to PostgreSQL")
    queue = f"test-{uuid.uuid4().hex[:8]}"  # our own queue: no other worker takes our message
    env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": broker, "DEBUG": "0"}
    log = open(ROOT / ".pytest_cache" / f"worker-{queue}.log", "w") if (ROOT / ".pytest_cache").exists() else None
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "prm", "worker", "--pool=solo", "-Q", queue, "-l", "info",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    default_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue  # what the code under test dispatches goes to this worker
    try:
        yield queue
    finally:
        app.conf.task_default_queue = default_queue
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if log:
            log.close()


@pytest.mark.celery_worker
def test_task_sent_through_broker_runs_in_worker_and_changes_the_database(worker):
    org = OrganizationFactory()
    invitation = Invitation.objects.create(
        organization=org, email="late@example.test", role=Role.VIEWER,
        expires_at=timezone.now() - timedelta(hours=1),
    )
    from accounts.tasks import expire_invitations

    assert not settings.CELERY_TASK_ALWAYS_EAGER
    expire_invitations.delay()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        invitation.refresh_from_db()
        if invitation.status == InvitationStatus.EXPIRED:
            break
        time.sleep(0.3)
    assert invitation.status == InvitationStatus.EXPIRED
