from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import (
    Invitation,
    InvitationStatus,
    Membership,
    Partnership,
    PartnershipInvitation,
    Role,
    StageChange,
)
from tests.factories import OrganizationFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def _token_from_mail(path_fragment: str) -> str:
    body = mail.outbox[-1].body
    link = next(word for word in body.split() if path_fragment in word)
    return link.rstrip("/").split("/")[-1]


def test_member_invitation_end_to_end(world, django_capture_on_commit_callbacks):
    admin = member(world.owner_org, Role.ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        response = world.api(admin).post(
            f"/api/organizations/{world.owner_org.pk}/invitations/",
            {"email": "New.Hire@Owner.test", "role": "sales_rep"},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new.hire@owner.test"]
    token = _token_from_mail("/invite/")
    newcomer = UserFactory(email="new.hire@owner.test")
    accepted = world.api(newcomer).post("/api/invitations/accept/", {"token": token}, format="json")
    assert accepted.status_code == 201, accepted.content
    assert Membership.objects.get(user=newcomer).role == Role.SALES_REP
    # the link works once
    again = world.api(newcomer).post("/api/invitations/accept/", {"token": token}, format="json")
    assert again.status_code == 410
    assert "already been used" in again.json()["detail"]


def test_expired_member_invitation_is_refused_and_marked(world):
    admin = member(world.owner_org, Role.ADMIN)
    invitation = Invitation.objects.create(
        organization=world.owner_org,
        email="late@owner.test",
        role=Role.VIEWER,
        invited_by=admin,
        expires_at=timezone.now() - timedelta(minutes=1),
    )
    late = UserFactory(email="late@owner.test")
    response = world.api(late).post("/api/invitations/accept/", {"token": invitation.token}, format="json")
    assert response.status_code == 410
    assert "expired" in response.json()["detail"]
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.EXPIRED
    assert not Membership.objects.filter(user=late).exists()


def test_invitation_for_someone_else_is_refused(world):
    admin = member(world.owner_org, Role.ADMIN)
    invitation = Invitation.objects.create(
        organization=world.owner_org,
        email="right@owner.test",
        role=Role.ADMIN,
        invited_by=admin,
        expires_at=timezone.now() + timedelta(days=1),
    )
    response = world.api(world.outsider).post(
        "/api/invitations/accept/", {"token": invitation.token}, format="json"
    )
    assert response.status_code == 403
    assert not Membership.objects.filter(user=world.outsider, organization=world.owner_org).exists()
    bogus = world.api(world.outsider).post("/api/invitations/accept/", {"token": "nope"}, format="json")
    assert bogus.status_code == 404


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.PARTNER_MANAGER, Role.VIEWER, Role.FINANCE])
def test_only_admins_invite_members(world, role):
    user = member(world.owner_org, role)
    response = world.api(user).post(
        f"/api/organizations/{world.owner_org.pk}/invitations/",
        {"email": "x@y.test", "role": "admin"},
        format="json",
    )
    assert response.status_code == 403
    assert not Invitation.objects.exists()


def test_outsider_cannot_see_or_invite_into_org(world):
    url = f"/api/organizations/{world.owner_org.pk}/invitations/"
    assert world.api(world.outsider).get(url).status_code == 404
    response = world.api(world.outsider).post(url, {"email": "x@y.test", "role": "admin"}, format="json")
    assert response.status_code == 404
    assert not Invitation.objects.exists()
    members = world.api(world.outsider).get(f"/api/organizations/{world.owner_org.pk}/members/")
    assert members.status_code == 404
    assert "owner@owner.test" not in members.content.decode()


def test_invalid_invitation_input(world):
    admin = member(world.owner_org, Role.ADMIN)
    url = f"/api/organizations/{world.owner_org.pk}/invitations/"
    response = world.api(admin).post(url, {"email": "not-an-email", "role": "emperor"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "role"}
    dup = world.api(admin).post(url, {"email": "owner@owner.test", "role": "viewer"}, format="json")
    assert dup.status_code == 409


def test_last_admin_cannot_be_demoted(world):
    admin = member(world.owner_org, Role.ADMIN)
    mid = Membership.objects.get(user=admin).pk
    url = f"/api/organizations/{world.owner_org.pk}/members/{mid}/"
    response = world.api(admin).patch(url, {"role": "viewer"}, format="json")
    assert response.status_code == 409
    assert Membership.objects.get(pk=mid).role == Role.ADMIN


def test_dual_opt_in_partnership_flow(world, django_capture_on_commit_callbacks):
    vendor, newco = world.owner_org, OrganizationFactory(name="NewCo")
    newco_pm = member(newco, Role.PARTNER_MANAGER, email="pm@newco.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = world.api(world.owner).post(
            "/api/partnership-invitations/", {"email": "pm@newco.test", "message": "Hi"}, format="json"
        )
    assert response.status_code == 201, response.content
    assert response.json()["invitee"]["name"] == "NewCo"
    # one side's consent is not a partnership
    assert not Partnership.objects.filter(partner=newco).exists()
    token = _token_from_mail("/partnerships/invite/")
    # a sales rep of the invited org cannot accept for it
    rep = member(newco, Role.SALES_REP)
    assert (
        world.api(rep)
        .post("/api/partnership-invitations/accept/", {"token": token}, format="json")
        .status_code
        == 403
    )
    # an outsider cannot accept either
    outsider = world.api(world.outsider).post(
        "/api/partnership-invitations/accept/", {"token": token}, format="json"
    )
    assert outsider.status_code == 403
    accepted = world.api(newco_pm).post(
        "/api/partnership-invitations/accept/", {"token": token}, format="json"
    )
    assert accepted.status_code == 201, accepted.content
    partnership = Partnership.objects.get(initiator=vendor, partner=newco)
    assert partnership.status == "active" and partnership.stage == "onboard"
    assert StageChange.objects.get(partnership=partnership).changed_by == newco_pm
    reused = world.api(newco_pm).post("/api/partnership-invitations/accept/", {"token": token}, format="json")
    assert reused.status_code == 410
    # and a second invitation while active is a conflict
    again = world.api(world.owner).post(
        "/api/partnership-invitations/", {"email": "pm@newco.test"}, format="json"
    )
    assert again.status_code == 409


def test_expired_partnership_invitation(world):
    newco = OrganizationFactory()
    pm = member(newco, Role.PARTNER_MANAGER, email="pm@late.test")
    invitation = PartnershipInvitation.objects.create(
        inviter=world.owner_org,
        email="pm@late.test",
        invitee=newco,
        invited_by=world.owner,
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    response = world.api(pm).post(
        "/api/partnership-invitations/accept/", {"token": invitation.token}, format="json"
    )
    assert response.status_code == 410
    assert "expired" in response.json()["detail"]
    assert not Partnership.objects.filter(partner=newco).exists()
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.EXPIRED


def test_decline_and_revoke(world):
    newco = OrganizationFactory()
    pm = member(newco, Role.PARTNER_MANAGER, email="pm@decline.test")
    inv = world.api(world.owner).post(
        "/api/partnership-invitations/", {"email": "pm@decline.test"}, format="json"
    )
    token = PartnershipInvitation.objects.get(pk=inv.json()["id"]).token
    declined = world.api(pm).post("/api/partnership-invitations/decline/", {"token": token}, format="json")
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert (
        world.api(pm)
        .post("/api/partnership-invitations/accept/", {"token": token}, format="json")
        .status_code
        == 410
    )

    inv2 = world.api(world.owner).post(
        "/api/partnership-invitations/", {"email": "pm@decline.test"}, format="json"
    )
    iid = inv2.json()["id"]
    assert world.api(world.outsider).post(f"/api/partnership-invitations/{iid}/revoke/").status_code == 404
    assert world.api(pm).post(f"/api/partnership-invitations/{iid}/revoke/").status_code == 403
    assert world.api(world.owner).post(f"/api/partnership-invitations/{iid}/revoke/").status_code == 200


def test_cannot_partner_with_self(world):
    colleague = member(world.owner_org, Role.ADMIN, email="colleague@owner.test")
    response = world.api(world.owner).post(
        "/api/partnership-invitations/", {"email": colleague.email}, format="json"
    )
    assert response.status_code == 400
    assert not PartnershipInvitation.objects.exists()


def test_expire_invitations_task_is_idempotent(world):
    from accounts.tasks import expire_invitations

    Invitation.objects.create(
        organization=world.owner_org,
        email="a@b.test",
        role=Role.VIEWER,
        expires_at=timezone.now() - timedelta(hours=1),
    )
    assert expire_invitations() == 1
    assert expire_invitations() == 0
