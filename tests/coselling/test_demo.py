import io

import pytest
from django.core.management import call_command
from django.test import TestCase

from coselling.models import DealRegistration, IntroRequest, RegistrationConflict

pytestmark = pytest.mark.django_db


def seed():
    # Matching runs after the lists' commit; in a test's transaction that is the end of this block.
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())


def test_seed_demo_adds_co_selling_once():
    seed()
    statuses = set(DealRegistration.objects.values_list("status", flat=True))
    assert {"submitted", "info_requested", "approved", "rejected", "won", "lost"} <= statuses
    conflict = RegistrationConflict.objects.get(registration__account_name="ACME Corp.")
    assert conflict.other.account_name == "ACME Incorporated" and conflict.other_first
    seed()  # the overlaps exist now (run outside a test, the first run has them already)
    assert {"open", "accepted", "declined", "done"} <= set(
        IntroRequest.objects.values_list("status", flat=True)
    )
    counts = DealRegistration.objects.count(), IntroRequest.objects.count()
    seed()
    assert (DealRegistration.objects.count(), IntroRequest.objects.count()) == counts
