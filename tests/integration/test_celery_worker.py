"""A real Celery worker process, the real Redis broker and the real PostgreSQL test database."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from accounts.models import Invitation, InvitationStatus, Role
from tests.factories import OrganizationFactory


@pytest.mark.celery_worker
def test_task_sent_through_broker_runs_in_worker_and_changes_the_database(worker):
    org = OrganizationFactory()
    invitation = Invitation.objects.create(
        organization=org,
        email="late@example.test",
        role=Role.VIEWER,
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
