"""The demo data gives every account-mapping page something to show."""

import io

import pytest
from django.core.management import call_command

from accounts.models import Organization, Partnership
from mapping.models import AccountRecord, SharingRule, SharingRuleChange
from mapping.sharing.selectors import overlap_matrix_for, partner_white_space_for
from mapping.sharing.selectors.review import review_queue_for

pytestmark = pytest.mark.django_db


def test_seed_demo_shares_lists_keeps_some_records_private_and_is_idempotent(
    django_capture_on_commit_callbacks,
):
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # the lists' commits run matching
        call_command("seed_demo", stdout=out)
    assert "Password for every demo user" in out.getvalue() and "pm@northwind.example" in out.getvalue()
    levels = {
        (r.partnership.partner.slug, r.account_list.organization.slug, r.account_list.name): r.level
        for r in SharingRule.objects.select_related("partnership__partner", "account_list__organization")
    }
    assert levels[("bluefin", "bluefin", "Customers")] == "all"
    assert levels[("cobalt", "cobalt", "Prospects")] == "counts"
    assert {levels[(slug, "northwind", "Customers")] for slug in ("bluefin", "cobalt", "datapath")} == {
        "overlaps"
    }
    assert AccountRecord.objects.filter(private=True).count() == 3

    vendor = Organization.objects.get(slug="northwind")
    waiting = 0
    for partnership in Partnership.objects.filter(initiator=vendor).select_related("initiator", "partner"):
        for org in (partnership.initiator, partnership.partner):
            matrix = overlap_matrix_for(org=org, partnership=partnership)
            assert any(cell.count and cell.opens for row in matrix.rows for cell in row.cells), (
                org,
                partnership,
            )
        waiting += review_queue_for(org=vendor, partnership=partnership).count()
        if partnership.partner.slug == "bluefin":
            columns = overlap_matrix_for(org=vendor, partnership=partnership).columns
            their_customers = next(s for s, _size in columns if s.name == "Customers")
            assert (
                partner_white_space_for(
                    org=vendor, partnership=partnership, their_list_id=their_customers.id
                ).count()
                > 0
            )
    assert waiting > 0  # near misses wait for review

    changes = SharingRuleChange.objects.count()
    again = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=again)
    assert SharingRuleChange.objects.count() == changes
    assert "Demo sharing rules" not in again.getvalue() and "Password for every demo user" in again.getvalue()
