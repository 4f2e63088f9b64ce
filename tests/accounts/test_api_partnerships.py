import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.models import Partnership, Role, Stage, StageChange
from tests.conftest import assert_no_leak
from tests.factories import PASSWORD, member

pytestmark = pytest.mark.django_db

OBJECT_URLS = [
    ("get", "/api/partnerships/{id}/", None),
    ("get", "/api/partnerships/{id}/stage-changes/", None),
    ("post", "/api/partnerships/{id}/stage/", {"stage": "enable"}),
    ("post", "/api/partnerships/{id}/tier/", {"tier": "gold"}),
    ("post", "/api/partnerships/{id}/end/", {"reason": "x"}),
]


@pytest.mark.parametrize("method,url,body", OBJECT_URLS)
def test_outsider_gets_404_and_no_data(world, method, url, body):
    response = getattr(world.api(world.outsider), method)(
        url.format(id=world.partnership.pk), body, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert_no_leak(response, "Owner Co", "Partner Co")
    world.partnership.refresh_from_db()
    assert world.partnership.status == Partnership.Status.ACTIVE
    assert world.partnership.stage == Stage.ONBOARD
    assert world.partnership.tier == "registered"


@pytest.mark.parametrize("actor", ["owner", "partner"])
def test_both_sides_read_the_partnership(world, actor):
    response = world.api(getattr(world, actor)).get(f"/api/partnerships/{world.partnership.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert data["initiator"]["name"] == "Owner Co"
    assert data["partner"]["name"] == "Partner Co"
    assert data["stage"] == "onboard"


def test_partnership_list_is_scoped(world):
    assert world.api(world.owner).get("/api/partnerships/").json()["count"] == 1
    assert world.api(world.partner).get("/api/partnerships/").json()["count"] == 1
    response = world.api(world.outsider).get("/api/partnerships/")
    assert response.json()["count"] == 0
    assert_no_leak(response, "Owner Co", "Partner Co")


def test_stage_change_is_recorded_with_who_and_when(world):
    url = f"/api/partnerships/{world.partnership.pk}/stage/"
    response = world.api(world.partner).post(url, {"stage": "enable", "note": "training done"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "enable"
    change = StageChange.objects.filter(partnership=world.partnership).first()
    assert (change.from_stage, change.to_stage, change.changed_by, change.note) == (
        "onboard",
        "enable",
        world.partner,
        "training done",
    )
    assert change.changed_by_organization == world.partner_org
    history = world.api(world.owner).get(f"/api/partnerships/{world.partnership.pk}/stage-changes/").json()
    assert [r["to_stage"] for r in history["results"]] == ["enable", "onboard"]


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.VIEWER, Role.FINANCE])
def test_roles_without_partnership_rights_cannot_change_stage(world, role):
    user = member(world.owner_org, role)
    url = f"/api/partnerships/{world.partnership.pk}/stage/"
    response = world.api(user).post(url, {"stage": "sell"}, format="json")
    assert response.status_code == 403
    assert "role" in response.json()["detail"].lower()
    world.partnership.refresh_from_db()
    assert world.partnership.stage == Stage.ONBOARD
    # but they can read it
    assert world.api(user).get(f"/api/partnerships/{world.partnership.pk}/").status_code == 200


@pytest.mark.parametrize(
    "body,field",
    [({"stage": "nirvana"}, "stage"), ({}, "stage"), ({"stage": "sell", "note": "x" * 2001}, "note")],
)
def test_invalid_stage_input_is_400_and_changes_nothing(world, body, field):
    url = f"/api/partnerships/{world.partnership.pk}/stage/"
    response = world.api(world.owner).post(url, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert StageChange.objects.filter(partnership=world.partnership).count() == 1


def test_same_stage_is_refused(world):
    url = f"/api/partnerships/{world.partnership.pk}/stage/"
    response = world.api(world.owner).post(url, {"stage": "onboard"}, format="json")
    assert response.status_code == 400
    assert "already" in response.json()["detail"]


def test_malformed_json_is_400(world):
    url = f"/api/partnerships/{world.partnership.pk}/stage/"
    response = world.api(world.owner).generic("POST", url, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_oversized_body_is_413(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    url = f"/api/partnerships/{world.partnership.pk}/stage/"
    body = json.dumps({"stage": "sell", "note": "x" * 5000})
    response = world.api(world.owner).generic("POST", url, body, content_type="application/json")
    assert response.status_code == 413
    world.partnership.refresh_from_db()
    assert world.partnership.stage == Stage.ONBOARD


@pytest.mark.parametrize("bad_id", ["999999", "abc"])
def test_unknown_ids_are_404(world, bad_id):
    response = world.api(world.owner).get(f"/api/partnerships/{bad_id}/")
    assert response.status_code == 404


def test_either_side_can_end_and_ended_is_final(world):
    url = f"/api/partnerships/{world.partnership.pk}/end/"
    response = world.api(world.partner).post(url, {"reason": "strategy change"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "ended"
    assert world.api(world.owner).post(url, {}, format="json").status_code == 409
    stage = world.api(world.owner).post(
        f"/api/partnerships/{world.partnership.pk}/stage/", {"stage": "sell"}, format="json"
    )
    assert stage.status_code == 409


def test_token_auth_and_expiry(world, settings, client):
    response = client.post("/api/auth/token/", {"email": world.owner.email, "password": PASSWORD})
    assert response.status_code == 200
    key = response.json()["token"]
    ok = client.get("/api/partnerships/", HTTP_AUTHORIZATION=f"Token {key}")
    assert ok.status_code == 200 and ok.json()["count"] == 1
    Token.objects.filter(key=key).update(
        created=timezone.now() - settings.API_TOKEN_TTL - timedelta(minutes=1)
    )
    expired = client.get("/api/partnerships/", HTTP_AUTHORIZATION=f"Token {key}")
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]
    bogus = client.get("/api/partnerships/", HTTP_AUTHORIZATION="Token nope")
    assert bogus.status_code == 401


def test_wrong_credentials_are_401(world, client):
    response = client.post("/api/auth/token/", {"email": world.owner.email, "password": "wrong"})
    assert response.status_code == 401
    assert "credentials" in response.json()["detail"]
    assert not Token.objects.exists()


def test_anonymous_is_refused(world, client):
    assert client.get("/api/partnerships/").status_code in (401, 403)


def test_x_organization_header_selects_org_and_refuses_others(world):
    api = world.api(world.owner)
    assert api.get("/api/partnerships/", HTTP_X_ORGANIZATION=str(world.owner_org.pk)).status_code == 200
    response = api.get("/api/partnerships/", HTTP_X_ORGANIZATION=str(world.outsider_org.pk))
    assert response.status_code == 404
    assert api.get("/api/partnerships/", HTTP_X_ORGANIZATION="x").status_code == 404


def test_partnership_list_query_count(world, django_assert_max_num_queries):
    from tests.factories import OrganizationFactory, PartnershipFactory

    for _ in range(5):
        PartnershipFactory(initiator=world.owner_org, partner=OrganizationFactory())
    api = world.api(world.owner)
    with django_assert_max_num_queries(4):
        response = api.get("/api/partnerships/")
    assert response.json()["count"] == 6


def test_stage_changes_list_query_count(world, django_assert_max_num_queries):
    for stage in ["enable", "market", "sell", "incentivize"]:
        world.api(world.owner).post(
            f"/api/partnerships/{world.partnership.pk}/stage/", {"stage": stage}, format="json"
        )
    with django_assert_max_num_queries(5):
        response = world.api(world.owner).get(f"/api/partnerships/{world.partnership.pk}/stage-changes/")
    assert response.json()["count"] == 5
