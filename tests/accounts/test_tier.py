"""The partnership's tier: only the initiator's side sets it, every change is recorded, and both
sides read the history (API and portal). The partner and outsiders change nothing."""

import pytest

from accounts.models import Role, TierChange
from tests.conftest import assert_no_leak
from tests.factories import member
from tests.mapping.test_sharing_helpers import portal

pytestmark = pytest.mark.django_db


def _url(world, tail="tier/"):
    return f"/api/partnerships/{world.partnership.pk}/{tail}"


def test_initiator_sets_the_tier_and_the_change_is_recorded(world):
    response = world.api(world.owner).post(_url(world), {"tier": "gold"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["tier"] == "gold"
    change = TierChange.objects.get(partnership=world.partnership)
    assert (change.from_tier, change.to_tier, change.changed_by, change.changed_by_organization) == (
        "registered",
        "gold",
        world.owner,
        world.owner_org,
    )
    # the same tier again records nothing
    assert world.api(world.owner).post(_url(world), {"tier": "gold"}, format="json").status_code == 200
    assert TierChange.objects.count() == 1
    for user in (world.owner, world.partner):
        history = world.api(user).get(_url(world, "tier-changes/"))
        assert history.status_code == 200
        rows = history.json()["results"]
        assert [
            (r["from_tier"], r["to_tier"], r["changed_by"], r["changed_by_organization"]) for r in rows
        ] == [("registered", "gold", "owner@owner.test", "Owner Co")]


def test_the_partner_cannot_set_its_own_tier(world):
    response = world.api(world.partner).post(_url(world), {"tier": "platinum"}, format="json")
    assert response.status_code == 403
    assert "Owner Co sets the tier" in response.json()["detail"]
    world.partnership.refresh_from_db()
    assert world.partnership.tier == "registered" and not TierChange.objects.exists()
    # not even its admin
    admin = member(world.partner_org, Role.ADMIN)
    assert world.api(admin).post(_url(world), {"tier": "platinum"}, format="json").status_code == 403
    world.partnership.refresh_from_db()
    assert world.partnership.tier == "registered"


def test_outsider_and_readers_change_nothing(world):
    for url in (_url(world), _url(world, "tier-changes/")):
        response = (
            world.api(world.outsider).post(url, {"tier": "gold"}, format="json")
            if url.endswith("tier/")
            else world.api(world.outsider).get(url)
        )
        assert response.status_code == 404
        assert_no_leak(response, "Owner Co", "Partner Co")
    rep = member(world.owner_org, Role.SALES_REP)
    assert world.api(rep).post(_url(world), {"tier": "gold"}, format="json").status_code == 403
    world.partnership.refresh_from_db()
    assert world.partnership.tier == "registered" and not TierChange.objects.exists()


def test_portal_shows_the_tier_form_to_the_initiator_only_and_the_history_to_both(world):
    url = f"/partnerships/{world.partnership.pk}/"
    response = portal(world.partner).post(
        url, {"action": "tier", "tier": "platinum"}, HTTP_REFERER=url, follow=True
    )
    assert "Owner Co sets the tier" in response.content.decode()  # a message, nothing changed
    world.partnership.refresh_from_db()
    assert world.partnership.tier == "registered"
    assert 'id="set-tier"' not in portal(world.partner).get(url).content.decode()
    assert 'id="set-tier"' in portal(world.owner).get(url).content.decode()
    portal(world.owner).post(url, {"action": "tier", "tier": "silver"})
    world.partnership.refresh_from_db()
    assert world.partnership.tier == "silver"
    page = portal(world.partner).get(url).content.decode()
    assert 'id="tier-history"' in page and "owner@owner.test" in page and "Silver" in page
