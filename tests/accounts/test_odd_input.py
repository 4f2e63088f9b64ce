"""Odd input to organizations, invitations and the token endpoint gets a clear 4xx (or a form
error) and changes nothing: JSON nested past any use, NUL, lengths past the column, control
characters in names (which end up in e-mail subjects)."""

import json

import pytest
from django.core import mail
from django.test import Client

from accounts.models import Invitation, Organization
from accounts.services.invitations import invitation_create
from accounts.services.organizations import organization_create, organization_update
from prm.common.errors import ValidationFailed
from tests.factories import member

pytestmark = pytest.mark.django_db


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def portal(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def orgs():
    return list(Organization.objects.order_by("id").values_list("id", "name", "website", "kind"))


@pytest.fixture
def admin(world):
    from accounts.models import Role

    user = member(world.owner_org, Role.ADMIN, email="admin@owner.test")
    from tests.conftest import with_mfa

    with_mfa(user)  # admins must have MFA to use the portal
    return user


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_json_is_a_400_on_organizations_and_the_token_endpoint(world, admin, depth):
    before = orgs()
    client = world.api(admin)
    for method, url in (
        ("post", "/api/organizations/"),
        ("patch", f"/api/organizations/{world.owner_org.pk}/"),
        ("post", f"/api/organizations/{world.owner_org.pk}/invitations/"),
    ):
        response = getattr(client, method)(url, nested(depth), content_type="application/json")
        assert response.status_code == 400, (url, response.content[:200])
        assert "nested too deeply" in response.json()["detail"]
    body = '{"email": "admin@owner.test", "password": ' + nested(depth) + "}"
    response = Client().post("/api/auth/token/", body, content_type="application/json")
    assert response.status_code == 400 and "nested too deeply" in response.json()["detail"]
    assert orgs() == before


def test_too_long_website_is_a_400_on_create_and_update(world, admin):
    before = orgs()
    client = world.api(admin)
    website = "https://example.com/" + "a" * 200
    response = client.post("/api/organizations/", {"name": "New Co", "website": website}, format="json")
    assert response.status_code == 400 and "website" in response.json()["errors"]
    response = client.patch(f"/api/organizations/{world.owner_org.pk}/", {"website": website}, format="json")
    assert response.status_code == 400 and "website" in response.json()["errors"]
    assert orgs() == before


def test_too_long_website_is_a_form_error_in_the_portal(world, admin):
    before = orgs()
    website = "https://example.com/" + "a" * 200
    response = portal(admin).post(
        "/org/", {"action": "update", "name": "Owner Co", "kind": "vendor", "website": website}
    )
    assert response.status_code == 200 and "at most 200 characters" in response.content.decode()
    response = portal(admin).post("/org/new/", {"name": "New Co", "kind": "vendor", "website": website})
    assert response.status_code == 200 and "at most 200 characters" in response.content.decode()
    assert orgs() == before


def test_the_service_checks_lengths_itself(world, admin):
    with pytest.raises(ValidationFailed) as caught:
        organization_create(actor=admin, name="New Co", website="https://e.com/" + "a" * 300)
    assert "website" in caught.value.extra
    with pytest.raises(ValidationFailed):
        organization_update(actor=admin, org=world.owner_org, name="x" * 201)


@pytest.mark.parametrize(
    "name", ["Evil\nBcc: victim@example.com", "Evil\r\nX", "Nul\x00Co", "Tab\tCo", "Sep\u2028Co"]
)
def test_names_with_control_characters_are_refused(world, admin, name):
    before = orgs()
    client = world.api(admin)
    response = client.post("/api/organizations/", {"name": name}, format="json")
    assert response.status_code == 400, response.content
    response = client.patch(f"/api/organizations/{world.owner_org.pk}/", {"name": name}, format="json")
    assert response.status_code == 400, response.content
    response = portal(admin).post("/org/new/", {"name": name, "kind": "vendor"})
    assert response.status_code == 200
    assert "control characters" in response.content.decode() or "Null characters" in response.content.decode()
    assert orgs() == before


def test_invitation_mail_survives_a_name_with_a_line_break(world, admin, django_capture_on_commit_callbacks):
    """Names are checked now, but one stored before (or by the admin) must not break every invitation."""
    Organization.objects.filter(pk=world.owner_org.pk).update(name="Owner\nCo\r\nBcc: x@evil.test")
    admin.full_name = "Ad\nmin"
    admin.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            actor=admin,
            org=Organization.objects.get(pk=world.owner_org.pk),
            email="new@owner.test",
            role="viewer",
        )
    assert len(mail.outbox) == 1
    subject = mail.outbox[0].subject
    assert "\n" not in subject and "\r" not in subject
    assert subject == "[PRM] Ad min invited you to join Owner Co Bcc: x@evil.test"
    mail.outbox[0].message()  # the headers can be built: no BadHeaderError


def test_too_long_invitation_email_is_a_400(world, admin):
    response = world.api(admin).post(
        f"/api/organizations/{world.owner_org.pk}/invitations/",
        {"email": "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "com", "role": "viewer"},
        format="json",
    )
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_nul_in_organization_json_is_a_400(world, admin):
    before = orgs()
    response = world.api(admin).post(
        "/api/organizations/", json.dumps({"name": "A\u0000B"}), content_type="application/json"
    )
    assert response.status_code == 400
    assert orgs() == before
