import pytest

from accounts.models import Membership, Role
from tests.conftest import assert_no_leak
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "method,url,body",
    [
        ("get", "/api/organizations/{org}/", None),
        ("patch", "/api/organizations/{org}/", {"name": "Hijacked"}),
        ("get", "/api/organizations/{org}/members/", None),
        ("get", "/api/organizations/{org}/invitations/", None),
        ("post", "/api/organizations/{org}/invitations/", {"email": "x@y.test", "role": "admin"}),
        ("patch", "/api/organizations/{org}/members/{mid}/", {"role": "viewer"}),
        ("delete", "/api/organizations/{org}/members/{mid}/", None),
    ],
)
@pytest.mark.parametrize("actor", ["partner", "outsider"])
def test_other_orgs_get_404_and_nothing_changes(world, method, url, body, actor):
    mid = Membership.objects.get(user=world.owner).pk
    response = getattr(world.api(getattr(world, actor)), method)(
        url.format(org=world.owner_org.pk, mid=mid), body, format="json"
    )
    assert response.status_code == 404
    assert_no_leak(response, "Owner Co", "owner@owner.test")
    world.owner_org.refresh_from_db()
    assert world.owner_org.name == "Owner Co"
    assert Membership.objects.get(pk=mid).role == Role.PARTNER_MANAGER


def test_member_of_owner_reads_org_and_members(world):
    api = world.api(world.owner)
    assert api.get(f"/api/organizations/{world.owner_org.pk}/").json()["name"] == "Owner Co"
    members = api.get(f"/api/organizations/{world.owner_org.pk}/members/").json()
    assert [m["email"] for m in members["results"]] == ["owner@owner.test"]
    assert [o["name"] for o in api.get("/api/organizations/").json()] == ["Owner Co"]


def test_only_admin_updates_org(world):
    url = f"/api/organizations/{world.owner_org.pk}/"
    assert world.api(world.owner).patch(url, {"name": "New"}, format="json").status_code == 403
    admin = member(world.owner_org, Role.ADMIN)
    response = world.api(admin).patch(url, {"name": "Owner Company", "website": "not a url"}, format="json")
    assert response.status_code == 400 and "website" in response.json()["errors"]
    ok = world.api(admin).patch(url, {"name": "Owner Company"}, format="json")
    assert ok.status_code == 200 and ok.json()["name"] == "Owner Company"


def test_admin_changes_roles_and_removes_members(world):
    admin = member(world.owner_org, Role.ADMIN)
    mid = Membership.objects.get(user=world.owner).pk
    url = f"/api/organizations/{world.owner_org.pk}/members/{mid}/"
    assert world.api(admin).patch(url, {"role": "sales_rep"}, format="json").json()["role"] == "sales_rep"
    assert world.api(admin).patch(url, {"role": "king"}, format="json").status_code == 400
    assert world.api(admin).delete(url).status_code == 204
    assert not Membership.objects.filter(pk=mid).exists()


def test_create_organization_makes_caller_admin(world):
    response = world.api(world.partner).post("/api/organizations/", {"name": "Side Venture"}, format="json")
    assert response.status_code == 201
    assert (
        Membership.objects.get(user=world.partner, organization_id=response.json()["id"]).role == Role.ADMIN
    )
    blank = world.api(world.partner).post("/api/organizations/", {"name": ""}, format="json")
    assert blank.status_code == 400


def test_member_list_query_count(world, django_assert_max_num_queries):
    for _ in range(10):
        member(world.owner_org, Role.SALES_REP)
    with django_assert_max_num_queries(4):
        response = world.api(world.owner).get(f"/api/organizations/{world.owner_org.pk}/members/")
    assert response.json()["count"] == 11


def test_invitation_list_query_count(world, django_assert_max_num_queries):
    admin = member(world.owner_org, Role.ADMIN)
    api = world.api(admin)
    for i in range(8):
        api.post(
            f"/api/organizations/{world.owner_org.pk}/invitations/",
            {"email": f"p{i}@o.test", "role": "viewer"},
        )
    with django_assert_max_num_queries(4):
        response = api.get(f"/api/organizations/{world.owner_org.pk}/invitations/")
    assert response.json()["count"] == 8


def test_partnership_invitation_list_is_scoped(world, django_assert_max_num_queries):
    for i in range(5):
        world.api(world.owner).post("/api/partnership-invitations/", {"email": f"pm{i}@elsewhere.test"})
    with django_assert_max_num_queries(4):
        mine = world.api(world.owner).get("/api/partnership-invitations/")
    assert mine.json()["count"] == 5
    theirs = world.api(world.outsider).get("/api/partnership-invitations/")
    assert theirs.json()["count"] == 0
    assert_no_leak(theirs, "elsewhere.test", "Owner Co")
