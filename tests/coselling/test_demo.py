import io

import pytest
from django.core.management import call_command

from coselling.models import DealRegistration, IntroRequest, RegistrationConflict

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_co_selling_once():
    call_command("seed_demo", stdout=io.StringIO())
    statuses = set(DealRegistration.objects.values_list("status", flat=True))
    assert {"submitted", "info_requested", "approved", "rejected", "won", "lost"} <= statuses
    conflict = RegistrationConflict.objects.get(registration__account_name="ACME Corp.")
    assert conflict.other.account_name == "ACME Incorporated" and conflict.other_first
    assert {"open", "accepted", "declined", "done"} <= set(
        IntroRequest.objects.values_list("status", flat=True)
    )
    counts = DealRegistration.objects.count(), IntroRequest.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert (DealRegistration.objects.count(), IntroRequest.objects.count()) == counts
