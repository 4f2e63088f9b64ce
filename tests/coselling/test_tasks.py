from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from coselling.models import DealRegistration
from coselling.services import registrations as svc
from coselling.tasks import expire_and_remind
from tests.coselling.conftest import submit

pytestmark = pytest.mark.django_db


def test_periodic_job_is_scheduled_and_safe_to_run_twice(world):
    assert settings.CELERY_BEAT_SCHEDULE["expire-co-selling"]["task"] == expire_and_remind.name
    reg = svc.registration_approve(
        actor=world.owner, org=world.owner_org, registration=submit(world), protection_days=1
    )
    DealRegistration.objects.filter(pk=reg.pk).update(
        protection_until=timezone.localdate() - timedelta(days=1)
    )
    first = expire_and_remind.delay().get()
    second = expire_and_remind.delay().get()
    assert first["registrations_expired"] == 1 and second["registrations_expired"] == 0
    assert reg.changes.filter(to_status="expired").count() == 1
