"""The reads every API request makes (token and user, membership, partnership) are plain queries
(prm.common.rows): they must give what the ORM gives, and refuse what the ORM refused."""

import pytest
from rest_framework.authtoken.models import Token

from accounts.models import Membership, Organization, Partnership, User
from accounts.selectors import partnership_for
from prm.common.errors import NotFound
from prm.common.rows import columns, fetch_one

pytestmark = pytest.mark.django_db


def _values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_fetch_one_gives_what_the_orm_gives(world):
    Token.objects.create(user=world.owner)
    for model, pk in (
        (User, world.owner.pk),
        (Organization, world.owner_org.pk),
        (Partnership, world.partnership.pk),
        (Token, Token.objects.get().pk),
        (Membership, Membership.objects.get(user=world.owner).pk),
    ):
        (plain,) = fetch_one(
            f"SELECT {columns(model, 't')} FROM {model._meta.db_table} t WHERE t.{model._meta.pk.column} = %s",
            [pk],
            model,
        )
        assert _values(plain) == _values(model.objects.get(pk=pk)), model
        assert not plain._state.adding  # a saved instance: save() updates it
    assert (
        fetch_one(f"SELECT {columns(User, 'u')} FROM {User._meta.db_table} u WHERE u.id = %s", [-1], User)
        is None
    )


def test_partnership_for_attaches_both_sides_and_refuses_outsiders(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        partnership = partnership_for(org=world.partner_org, partnership_id=world.partnership.pk)
        assert (partnership.initiator.name, partnership.partner.name) == ("Owner Co", "Partner Co")
    assert partnership == world.partnership
    for org, pid in (
        (world.outsider_org, world.partnership.pk),
        (world.owner_org, 10**30),
        (world.owner_org, "²"),
        (world.owner_org, "-1"),
        (world.owner_org, None),
    ):
        with pytest.raises(NotFound):
            partnership_for(org=org, partnership_id=pid)


def test_api_token_reads_and_refusals(world, client):
    key = Token.objects.create(user=world.owner).key
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    assert client.get("/api/partnerships/", **auth).status_code == 200
    User.objects.filter(pk=world.owner.pk).update(is_active=False)
    inactive = client.get("/api/partnerships/", **auth)
    assert inactive.status_code == 401 and "inactive" in inactive.json()["detail"]
    assert client.get("/api/partnerships/", HTTP_AUTHORIZATION="Token x' OR '1'='1").status_code == 401


def test_x_organization_header_odd_values_are_404(world):
    api = world.api(world.owner)
    for value in ("²", "9" * 30, "-3", "", " 1"):
        assert api.get("/api/partnerships/", HTTP_X_ORGANIZATION=value).status_code == 404, value
    assert api.get(f"/api/partnerships/{10**25}/overlap-matrix/").status_code == 404


def test_session_organization_falls_back_to_the_first_membership(world):
    from types import SimpleNamespace

    from accounts.context import SESSION_KEY, current_membership

    second = Organization.objects.create(name="Aardvark Ltd", slug="aardvark")
    Membership.objects.create(user=world.owner, organization=second, role="viewer")

    def request(session):
        return SimpleNamespace(META={}, user=world.owner, session=session)

    # not a member of the session's organization: the first membership by name
    membership = current_membership(request({SESSION_KEY: world.outsider_org.pk}))
    assert membership.organization == second and membership.organization.name == "Aardvark Ltd"
    assert (
        current_membership(request({SESSION_KEY: world.owner_org.pk})).organization_id == world.owner_org.pk
    )
    assert current_membership(request({SESSION_KEY: "²"})).organization_id == second.pk
