"""The co-sell pages with the three actors: the partner's form and list, the vendor's review with
the conflicts side by side, the intro inbox and thread; the links from the partnership page and
the overlap rows; the admin pages."""

import pytest
from django.urls import reverse

from accounts.models import User
from coselling.models import DealRegistration, IntroRequest
from coselling.services import intros as intro_svc
from tests.conftest import assert_no_leak, with_mfa
from tests.coselling.conftest import deal, submit
from tests.coselling.test_api import api
from tests.mapping.test_sharing_helpers import make_list, make_record, portal

pytestmark = pytest.mark.django_db


def hub(world):
    return f"/partnerships/{world.partnership.pk}/cosell/"


def test_partnership_page_links_to_co_selling(world):
    page = portal(world.owner).get(f"/partnerships/{world.partnership.pk}/").content.decode()
    assert hub(world) in page


def test_partner_registers_in_the_portal_and_vendor_reviews_side_by_side(world, other_partner):
    customers = make_list(world.owner_org, "Vendor customers", kind="customers")
    make_record(
        customers,
        "Acme Corporation",
        domain="acme.com",
        domain_norm="acme.com",
        name_norm="acme",
        stem="acme",
    )
    partner = portal(world.partner)
    form = deal()
    form["expected_close"] = form["expected_close"].isoformat()
    assert partner.get(hub(world) + "registrations/new/").status_code == 200
    bad = partner.post(hub(world) + "registrations/new/", {**form, "value": "-3"})
    assert bad.status_code == 200 and DealRegistration.objects.count() == 0
    bad = partner.post(hub(world) + "registrations/new/", {**form, "currency": "QQQ"})
    assert "ISO 4217" in bad.content.decode() and DealRegistration.objects.count() == 0
    response = partner.post(hub(world) + "registrations/new/", form)
    assert response.status_code == 302
    reg = DealRegistration.objects.get()
    detail = f"{hub(world)}registrations/{reg.pk}/"
    partner_page = partner.get(detail)
    assert partner_page.status_code == 200
    assert_no_leak(partner_page, "Acme Corporation", "Vendor customers", 'id="conflicts"')
    assert "ACME Corp." in partner.get(hub(world)).content.decode()
    owner = portal(world.owner)
    review = owner.get(detail).content.decode()
    assert 'id="conflicts"' in review and "Acme Corporation" in review and "domain equal" in review
    owner.post(detail, {"action": "reject", "reason": ""})
    assert DealRegistration.objects.get().status == "submitted"  # a reason is required
    owner.post(detail, {"action": "approve", "protection_days": "90"})
    assert DealRegistration.objects.get().status == "approved"
    assert portal(world.outsider).get(detail).status_code == 404
    assert portal(world.outsider).get(hub(world)).status_code == 404
    assert portal(world.outsider).post(detail, {"action": "close", "outcome": "won"}).status_code == 404
    assert DealRegistration.objects.get().status == "approved"


def test_overlap_row_links_to_intro_and_the_partner_answers(world, shared_overlap):
    owner = portal(world.owner)
    rows = owner.get(reverse("overlaps:overlaps", args=[world.partnership.pk])).content.decode()
    assert f"cosell/intros/new/?overlap={shared_overlap.pk}" in rows
    new = owner.get(f"{hub(world)}intros/new/?overlap={shared_overlap.pk}")
    assert new.status_code == 200
    assert_no_leak(new, "secret.rep@partner.test")
    assert (
        portal(world.outsider).get(f"{hub(world)}intros/new/?overlap={shared_overlap.pk}").status_code == 404
    )
    response = owner.post(
        f"{hub(world)}intros/new/",
        {"overlap_id": shared_overlap.pk, "kind": "introduction", "message": "Please introduce us"},
    )
    assert response.status_code == 302
    intro = IntroRequest.objects.get()
    page = f"{hub(world)}intros/{intro.pk}/"
    partner = portal(world.partner)
    assert "Initech Owner Name" in partner.get(hub(world)).content.decode()
    partner.post(page, {"action": "decline", "reason": "  "})
    assert IntroRequest.objects.get().status == "open"
    partner.post(page, {"action": "accept", "note": "Happy to"})
    assert IntroRequest.objects.get().status == "accepted"
    owner.post(page, {"action": "reply", "body": "Thanks"})
    thread = owner.get(page).content.decode()
    assert "Happy to" in thread and "Thanks" in thread
    assert portal(world.outsider).get(page).status_code == 404


def test_admin_pages_list_filter_and_search(world, shared_overlap):
    submit(world)
    intro_svc.intro_request_create(
        actor=world.owner,
        org=world.owner_org,
        partnership=world.partnership,
        overlap_id=shared_overlap.pk,
        kind="introduction",
        message="m",
    )
    admin = User.objects.create_superuser(email="root@example.test", password="x-Long-password-1")
    with_mfa(admin)
    client = portal(admin)
    for url in [
        "/admin/coselling/dealregistration/?status__exact=submitted&q=acme",
        "/admin/coselling/introrequest/?status__exact=open&q=Initech",
        "/admin/coselling/registrationchange/",
        f"/admin/coselling/dealregistration/{DealRegistration.objects.get().pk}/change/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert "ACME Corp." in client.get("/admin/coselling/dealregistration/?q=acme").content.decode()


def test_viewer_sees_but_cannot_write(world):
    from accounts.models import Role
    from tests.factories import member

    reg = submit(world)
    viewer = member(world.owner_org, Role.VIEWER)
    client = portal(viewer)
    detail = f"{hub(world)}registrations/{reg.pk}/"
    page = client.get(detail).content.decode()
    assert "ACME Corp." in page and 'id="approve-form"' not in page
    client.post(detail, {"action": "approve", "protection_days": "90"})
    assert DealRegistration.objects.get().status == "submitted"
    assert (
        api(world, viewer, world.owner_org)
        .get(f"/api/partnerships/{world.partnership.pk}/registrations/")
        .status_code
        == 200
    )
