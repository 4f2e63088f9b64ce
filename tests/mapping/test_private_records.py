"""Private accounts: marking and unmarking them (service, API, portal), roles and outsiders, and
the counts that follow at once (PostgreSQL: the tally's trigger on the private flag)."""

import pytest
from django.db import connection

from accounts.models import Role
from mapping.models import AccountRecord, OverlapTally
from tests.factories import member
from tests.mapping.test_sharing_helpers import assert_hidden, link, make_list, make_record, portal, share

pytestmark = pytest.mark.django_db


@pytest.fixture
def m(world):
    class M:
        pass

    x = M()
    x.w = world
    x.oc = make_list(world.owner_org, "O-Customers")
    x.pc = make_list(world.partner_org, "P-Customers")
    x.acme = make_record(x.oc, "Acme")
    x.hooli = make_record(x.oc, "Hooli")
    x.p_acme = make_record(x.pc, "PARTNERSECRET Acme")
    x.p_hooli = make_record(x.pc, "Partner Hooli")
    link(world.partnership, x.acme, x.p_acme)
    link(world.partnership, x.hooli, x.p_hooli)
    share(world.partner, world.partnership, x.pc, "overlaps", fields=["name"])
    share(world.owner, world.partnership, x.oc, "overlaps", fields=["name"])
    return x


def matrix_count(w, user):
    body = w.api(user).get(f"/api/partnerships/{w.partnership.pk}/overlap-matrix/").json()
    return body["rows"][0]["cells"][0]["count"], body["columns"][0]["size"]


def overlap_count(w, user):
    return w.api(user).get(f"/api/partnerships/{w.partnership.pk}/overlaps/").json()["count"]


def test_marking_private_hides_a_record_from_the_partner_at_once_and_unmarking_brings_it_back(m):
    w = m.w
    assert matrix_count(w, w.owner) == (2, 2) and overlap_count(w, w.owner) == 2
    url = f"/api/lists/{m.pc.pk}/private-records/"
    response = w.api(w.partner).post(url, {"record_ids": [m.p_acme.pk], "private": True}, format="json")
    assert response.status_code == 200 and response.json() == {"changed": 1}
    # the owner: one overlap and one account fewer, and not a byte of the private one
    assert matrix_count(w, w.owner) == (1, 1) and overlap_count(w, w.owner) == 1
    for path in ("overlap-matrix/", "overlaps/", "overlaps/export.csv"):
        assert_hidden(w.api(w.owner).get(f"/api/partnerships/{w.partnership.pk}/{path}"), "PARTNERSECRET")
    eco = w.api(w.owner).get("/api/ecosystem/").json()
    assert eco[0]["counts"]["customers__customers"] == 1
    # the partner still sees its own record counted (it is theirs)
    assert matrix_count(w, w.partner)[0] == 2
    if connection.vendor == "postgresql":
        tally = OverlapTally.objects.get(partnership_id=w.partnership.pk)
        assert (tally.matches, tally.left_private, tally.right_private) == (2, 0, 1)
    # again: nothing changes; then back
    assert w.api(w.partner).post(
        url, {"record_ids": [m.p_acme.pk], "private": True}, format="json"
    ).json() == {"changed": 0}
    assert w.api(w.partner).post(
        url, {"record_ids": [m.p_acme.pk], "private": False}, format="json"
    ).json() == {"changed": 1}
    assert matrix_count(w, w.owner) == (2, 2) and overlap_count(w, w.owner) == 2


def test_deleting_overlaps_of_private_records_keeps_the_tally_exact(m):
    w = m.w
    AccountRecord.objects.filter(pk=m.acme.pk).update(private=True)
    assert matrix_count(w, w.partner)[0] == 1
    m.acme.delete()  # its overlap goes with it
    assert matrix_count(w, w.partner)[0] == 1 and matrix_count(w, w.owner)[0] == 1
    if connection.vendor == "postgresql":
        tally = OverlapTally.objects.get(partnership_id=w.partnership.pk)
        assert (tally.matches, tally.left_private, tally.right_private) == (1, 0, 0)


def test_bad_input_changes_nothing(m):
    w = m.w
    url = f"/api/lists/{m.pc.pk}/private-records/"
    api = w.api(w.partner)
    for body in (
        {},
        {"record_ids": [], "private": True},
        {"record_ids": ["x"], "private": True},
        {"record_ids": [m.p_acme.pk]},
        {"record_ids": [m.p_acme.pk], "private": "maybe"},
        {"record_ids": list(range(1, 10_002)), "private": True},
    ):
        response = api.post(url, body, format="json")
        assert response.status_code == 400, body
        assert "detail" in response.json()
    # a record of another list (the owner's) among them: 404, and the good one unchanged too
    response = api.post(url, {"record_ids": [m.p_acme.pk, m.acme.pk], "private": True}, format="json")
    assert response.status_code == 404
    assert not AccountRecord.objects.filter(private=True).exists()
    assert api.post(url, "{not json", content_type="application/json").status_code == 400


def test_roles_and_outsiders(m):
    w = m.w
    url = f"/api/lists/{m.pc.pk}/private-records/"
    body = {"record_ids": [m.p_acme.pk], "private": True}
    viewer = member(w.partner_org, Role.VIEWER)
    assert w.api(viewer).post(url, body, format="json").status_code == 403
    assert w.api(w.owner).post(url, body, format="json").status_code == 404  # the partner's list
    response = w.api(w.outsider).post(url, body, format="json")
    assert response.status_code == 404
    assert_hidden(response, "P-Customers", "PARTNERSECRET")
    assert not AccountRecord.objects.filter(private=True).exists()


def test_portal_toggle_on_the_list_page(m):
    w = m.w
    client = portal(w.partner)
    page = client.get(f"/lists/{m.pc.pk}/")
    assert page.status_code == 200 and "Make private" in page.content.decode()
    response = client.post(f"/lists/{m.pc.pk}/records/{m.p_acme.pk}/private/", {"private": "1", "page": "1"})
    assert response.status_code == 302 and response["Location"].startswith(f"/lists/{m.pc.pk}/")
    m.p_acme.refresh_from_db()
    assert m.p_acme.private
    page = client.get(f"/lists/{m.pc.pk}/").content.decode()
    assert "Private" in page and "Make shareable" in page
    # bad input: the portal's way, back with a message, nothing changed
    response = client.post(f"/lists/{m.pc.pk}/records/{m.p_acme.pk}/private/", {"private": "x"}, follow=True)
    assert response.status_code == 200 and "Choose private or shareable" in response.content.decode()
    m.p_acme.refresh_from_db()
    assert m.p_acme.private
    assert client.get(f"/lists/{m.pc.pk}/records/{m.p_acme.pk}/private/").status_code == 405
    # the owner cannot flip the partner's record; a viewer of the partner cannot either
    assert (
        portal(w.owner).post(f"/lists/{m.pc.pk}/records/{m.p_acme.pk}/private/", {"private": "0"}).status_code
        == 404
    )
    viewer = member(w.partner_org, Role.VIEWER)
    assert "Make private" not in portal(viewer).get(f"/lists/{m.pc.pk}/").content.decode()
    refused = portal(viewer).post(
        f"/lists/{m.pc.pk}/records/{m.p_acme.pk}/private/", {"private": "0"}, follow=True
    )
    assert refused.status_code == 200 and "does not allow this action" in refused.content.decode()
    m.p_acme.refresh_from_db()
    assert m.p_acme.private
