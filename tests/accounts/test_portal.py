from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Invitation, PartnershipInvitation, Role, StageChange
from tests.conftest import assert_no_leak
from tests.factories import OrganizationFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.mark.parametrize("url", ["/", "/partnerships/", "/org/"])
@pytest.mark.parametrize("actor", ["owner", "partner", "outsider"])
def test_pages_render_for_each_actor_and_show_only_their_data(world, login, url, actor):
    client = login(getattr(world, actor))
    response = client.get(url)
    assert response.status_code == 200
    if actor == "outsider":
        assert_no_leak(response, "Owner Co", "Partner Co", "owner@owner.test")


def test_partnership_detail_three_actors(world, login):
    url = f"/partnerships/{world.partnership.pk}/"
    assert login(world.owner).get(url).status_code == 200
    assert "Partner Co" in login(world.partner).get(url).content.decode()
    response = login(world.outsider).get(url)
    assert response.status_code == 404
    assert_no_leak(response, "Owner Co", "Partner Co")


def test_outsider_cannot_change_stage_via_portal(world, login):
    url = f"/partnerships/{world.partnership.pk}/"
    response = login(world.outsider).post(url, {"action": "stage", "stage": "sell"})
    assert response.status_code == 404
    world.partnership.refresh_from_db()
    assert world.partnership.stage == "onboard"


def test_stage_change_via_portal_and_htmx(world, login):
    client = login(world.owner)
    url = f"/partnerships/{world.partnership.pk}/"
    response = client.post(url, {"action": "stage", "stage": "enable", "note": "kickoff"})
    assert response.status_code == 302
    world.partnership.refresh_from_db()
    assert world.partnership.stage == "enable"
    htmx = client.post(url, {"action": "stage", "stage": "market"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200
    assert "<html" not in htmx.content.decode()  # a fragment
    assert 'id="current-stage">Market<' in htmx.content.decode()
    assert StageChange.objects.filter(partnership=world.partnership).count() == 3


def test_invalid_stage_in_portal_is_a_form_error(world, login):
    client = login(world.owner)
    url = f"/partnerships/{world.partnership.pk}/"
    response = client.post(url, {"action": "stage", "stage": "bogus"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    same = client.post(url, {"action": "stage", "stage": "onboard"}, HTTP_HX_REQUEST="true")
    assert "already at the Onboard stage" in same.content.decode()


def test_sales_rep_sees_no_stage_form_and_cannot_post(world, login):
    rep = member(world.owner_org, Role.SALES_REP)
    client = login(rep)
    url = f"/partnerships/{world.partnership.pk}/"
    assert 'id="change-stage"' not in client.get(url).content.decode()
    response = client.post(url, {"action": "stage", "stage": "sell"}, follow=True)
    assert "does not allow" in response.content.decode()
    world.partnership.refresh_from_db()
    assert world.partnership.stage == "onboard"


def test_viewer_cannot_invite_members_in_portal(world, login):
    viewer = member(world.owner_org, Role.VIEWER)
    client = login(viewer)
    assert "Invite a colleague" not in client.get("/org/").content.decode()
    response = client.post("/org/", {"action": "invite", "email": "a@b.test", "role": "admin"}, follow=True)
    assert response.status_code == 200
    assert "does not allow" in response.content.decode()
    assert not Invitation.objects.exists()


def test_member_invitation_link_pages(world, login):
    invitation = Invitation.objects.create(
        organization=world.owner_org,
        email="new@owner.test",
        role=Role.SALES_REP,
        expires_at=timezone.now() + timedelta(days=1),
    )
    newcomer = UserFactory(email="new@owner.test")
    client = login(newcomer)
    page = client.get(f"/invite/{invitation.token}/")
    assert page.status_code == 200 and "Accept and join" in page.content.decode()
    assert client.post(f"/invite/{invitation.token}/").status_code == 302
    used = client.get(f"/invite/{invitation.token}/")
    assert used.status_code == 410 and "already been used" in used.content.decode()
    assert client.get("/invite/not-a-token/").status_code == 404


def test_expired_invitation_page(world, login):
    invitation = Invitation.objects.create(
        organization=world.owner_org,
        email="late@owner.test",
        role=Role.SALES_REP,
        expires_at=timezone.now() - timedelta(days=1),
    )
    response = login(UserFactory(email="late@owner.test")).get(f"/invite/{invitation.token}/")
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_partnership_invitation_page_accept(world, login):
    newco = OrganizationFactory(name="Portal NewCo")
    pm = member(newco, Role.PARTNER_MANAGER, email="pm@portalnew.test")
    invitation = PartnershipInvitation.objects.create(
        inviter=world.owner_org,
        email=pm.email,
        invitee=newco,
        invited_by=world.owner,
        expires_at=timezone.now() + timedelta(days=1),
    )
    client = login(pm)
    page = client.get(f"/partnerships/invite/{invitation.token}/")
    assert "Owner Co invites you to partner" in page.content.decode()
    response = client.post(
        f"/partnerships/invite/{invitation.token}/", {"organization": newco.pk, "decision": "accept"}
    )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.status == "accepted" and invitation.partnership.partner == newco
    # an organization the user does not manage is not a valid choice
    other = client.post(
        f"/partnerships/invite/{invitation.token}/",
        {"organization": world.outsider_org.pk, "decision": "accept"},
    )
    assert other.status_code == 200


def test_user_without_org_is_sent_to_create_one(client):
    user = UserFactory()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 302 and response.url == "/org/new/"
    created = client.post("/org/new/", {"name": "Fresh Co", "kind": "reseller"})
    assert created.status_code == 302
    assert user.memberships.get().role == Role.ADMIN


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/partnerships/")
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_switching_to_a_foreign_org_is_404(world, login):
    client = login(world.owner)
    assert client.post("/org/switch/", {"organization": world.outsider_org.pk}).status_code == 404
    assert client.post("/org/switch/", {"organization": "x"}).status_code == 404


def test_api_docs_and_schema_need_no_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/partnerships/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn." not in html and "unpkg" not in html and "jsdelivr" not in html


def test_404_page_is_friendly(world, login):
    response = login(world.owner).get("/partnerships/987654/")
    assert response.status_code == 404
    assert "does not exist" in response.content.decode()
