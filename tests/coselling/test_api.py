"""Every co-sell endpoint with the three actors (vendor side = owner, partner, outsider), roles,
bad input and query counts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Partnership, Role
from coselling.models import DealRegistration, IntroRequest
from coselling.services import intros as intro_svc
from coselling.services import registrations as reg_svc
from tests.conftest import assert_no_leak
from tests.coselling.conftest import deal, submit
from tests.factories import member
from tests.mapping.test_sharing_helpers import make_list, make_record

pytestmark = pytest.mark.django_db


def api(world, user, org):
    client = world.api(user)
    client.credentials(HTTP_X_ORGANIZATION=str(org.pk))
    return client


def body(**overrides):
    data = deal(**overrides)
    data["expected_close"] = data["expected_close"].isoformat()
    return data


def reg_url(world, reg=None, action=""):
    base = f"/api/partnerships/{world.partnership.pk}/registrations/"
    return base if reg is None else f"{base}{reg.pk}/{action + '/' if action else ''}"


def intro_url(world, intro=None, action=""):
    base = f"/api/partnerships/{world.partnership.pk}/intros/"
    return base if intro is None else f"{base}{intro.pk}/{action + '/' if action else ''}"


REG_ACTIONS = [
    ("request-info", {"note": "Which product?"}),
    ("approve", {}),
    ("reject", {"reason": "Direct deal"}),
    ("extend", {}),
    ("close", {"outcome": "won"}),
    ("resubmit", {}),
]


def test_partner_registers_and_vendor_reviews_over_the_api(world):
    partner = api(world, world.partner, world.partner_org)
    response = partner.post(reg_url(world), body(value="1234.565"), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["value"] == "1234.57" and response.json()["status"] == "submitted"
    reg = DealRegistration.objects.get()
    owner = api(world, world.owner, world.owner_org)
    assert owner.get(reg_url(world)).json()["count"] == 1
    assert owner.get(reg_url(world, reg, "conflicts")).status_code == 200
    assert partner.get(reg_url(world, reg, "conflicts")).status_code == 404  # not disclosed
    response = owner.post(reg_url(world, reg, "approve"), {"protection_days": 30}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert partner.post(reg_url(world, reg, "approve"), {}, format="json").status_code == 403
    history = partner.get(reg_url(world, reg, "history")).json()["results"]
    assert [h["to_status"] for h in history] == ["submitted", "approved"]
    assert history[1]["changed_by"] == world.owner.email


@pytest.mark.parametrize("action,payload", REG_ACTIONS + [("", None), ("history", None), ("conflicts", None)])
def test_outsider_gets_404_and_nothing_of_the_registration(world, action, payload):
    reg = submit(world, account_name="Secretive Industries", website="secretive.com")
    outsider = api(world, world.outsider, world.outsider_org)
    url = reg_url(world, reg, action)
    response = outsider.get(url) if payload is None else outsider.post(url, payload, format="json")
    assert response.status_code == 404
    assert_no_leak(response, "Secretive", "secretive.com")
    assert outsider.get(reg_url(world)).status_code == 404
    assert outsider.post(reg_url(world), body(), format="json").status_code == 404
    assert DealRegistration.objects.get(pk=reg.pk).status == "submitted"


def test_partner_never_learns_of_other_claims(world, other_partner):
    customers = make_list(world.owner_org, "Vendor customers", kind="customers")
    make_record(
        customers,
        "Acme Corporation",
        domain="acme.com",
        domain_norm="acme.com",
        name_norm="acme",
        stem="acme",
        owner_email="vp@owner.test",
    )
    org2, partnership2, pm2 = other_partner
    reg_svc.registration_submit(
        actor=pm2, org=org2, partnership=partnership2, **deal(account_name="ACME Incorporated", website="")
    )
    partner = api(world, world.partner, world.partner_org)
    response = partner.post(reg_url(world), body(), format="json")
    assert response.status_code == 201
    reg = DealRegistration.objects.get(registrant=world.partner_org)
    seen = [
        response,
        partner.get(reg_url(world)),
        partner.get(reg_url(world, reg)),
        partner.get(reg_url(world, reg, "history")),
    ]
    owner = api(world, world.owner, world.owner_org)
    seen.append(owner.post(reg_url(world, reg, "reject"), {"reason": "Registered before"}, format="json"))
    seen.append(partner.get(reg_url(world, reg)))
    for r in seen:
        assert_no_leak(
            r,
            "Second Partner",
            "ACME Incorporated",
            "Acme Corporation",
            "vp@owner.test",
            "Vendor customers",
            "conflict",
        )
    assert seen[-1].json()["decision_reason"] == "Registered before"
    review = owner.get(reg_url(world, reg, "conflicts")).json()["results"]
    kinds = {c["kind"] for c in review}
    assert kinds == {"vendor_record", "registration"}
    earlier = next(c for c in review if c["kind"] == "registration")
    assert (
        earlier["other_first"] is True and earlier["registration"]["registrant"]["name"] == "Second Partner"
    )
    assert "name" in earlier["reasons"] and 0.5 <= earlier["score"] <= 1


def test_duplicate_by_same_partner_is_409(world):
    partner = api(world, world.partner, world.partner_org)
    assert partner.post(reg_url(world), body(), format="json").status_code == 201
    response = partner.post(reg_url(world), body(account_name="Acme Corporation"), format="json")
    assert response.status_code == 409 and "already registered" in response.json()["detail"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"value": "-5"},
        {"value": "12.34567"},
        {"value": 12.5},
        {"value": "9999999999999"},
        {"currency": "ZZZ"},
        {"account_name": ""},
        {"account_name": "a\tb"},
        {"notes": "x" * 4001},
        {"expected_close": "2001-01-01"},
        {"overlap_id": 999999},
        {"country": "Narnia"},
    ],
)
def test_bad_registration_input_is_4xx_and_changes_nothing(world, overrides):
    partner = api(world, world.partner, world.partner_org)
    response = partner.post(reg_url(world), {**body(), **overrides}, format="json")
    assert response.status_code in (400, 404), response.content
    assert response.json()["code"] in ("invalid", "not_found")
    assert DealRegistration.objects.count() == 0


def test_roles_on_the_api(world):
    viewer = member(world.partner_org, Role.VIEWER)
    finance = member(world.owner_org, Role.FINANCE)
    rep = member(world.owner_org, Role.SALES_REP)
    assert (
        api(world, viewer, world.partner_org).post(reg_url(world), body(), format="json").status_code == 403
    )
    reg = submit(world)
    assert api(world, viewer, world.partner_org).get(reg_url(world, reg)).status_code == 200
    assert api(world, finance, world.owner_org).get(reg_url(world, reg)).status_code == 200
    assert (
        api(world, finance, world.owner_org)
        .post(reg_url(world, reg, "approve"), {}, format="json")
        .status_code
        == 403
    )
    assert (
        api(world, rep, world.owner_org)
        .post(reg_url(world, reg, "reject"), {"reason": "x"}, format="json")
        .status_code
        == 403
    )
    assert DealRegistration.objects.get(pk=reg.pk).status == "submitted"


def test_ended_partnership_is_read_only(world):
    reg = submit(world)
    Partnership.objects.filter(pk=world.partnership.pk).update(status="ended")
    owner = api(world, world.owner, world.owner_org)
    assert owner.get(reg_url(world, reg)).status_code == 200
    assert owner.post(reg_url(world, reg, "approve"), {}, format="json").status_code == 409
    partner = api(world, world.partner, world.partner_org)
    assert (
        partner.post(
            reg_url(world), body(account_name="New One", website="newone.com"), format="json"
        ).status_code
        == 409
    )


def test_registration_list_query_count_does_not_grow(world, django_assert_max_num_queries, other_partner):
    owner = api(world, world.owner, world.owner_org)
    submit(world)
    owner.get(reg_url(world))  # warm
    with django_assert_max_num_queries(20) as one:
        owner.get(reg_url(world))
    for i in range(6):
        submit(world, account_name=f"Company {i} Ltd", website=f"company{i}.com")
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = owner.get(reg_url(world))
    assert response.json()["count"] == 7


# ------------------------------------------------------------------ intro requests


def test_intro_flow_three_actors(world, shared_overlap):
    owner = api(world, world.owner, world.owner_org)
    response = owner.post(
        intro_url(world),
        {"overlap_id": shared_overlap.pk, "kind": "introduction", "message": "Can you introduce us?"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["account_name"] == "Initech Owner Name"
    intro = IntroRequest.objects.get()
    assert intro.respond_by > timezone.localdate()
    partner = api(world, world.partner, world.partner_org)
    outsider = api(world, world.outsider, world.outsider_org)
    assert partner.get(intro_url(world) + "?box=inbox").json()["count"] == 1
    assert partner.get(intro_url(world) + "?box=sent").json()["count"] == 0
    for action, payload in [
        ("", None),
        ("accept", {}),
        ("decline", {"reason": "no"}),
        ("reply", {"body": "hi"}),
        ("done", {}),
    ]:
        url = intro_url(world, intro, action)
        r = outsider.get(url) if payload is None else outsider.post(url, payload, format="json")
        assert r.status_code == 404
        assert_no_leak(r, "Initech", "introduce")
    assert outsider.get(intro_url(world)).status_code == 404
    assert (
        owner.post(intro_url(world, intro, "accept"), {}, format="json").status_code == 403
    )  # not the one asked
    assert (
        partner.post(intro_url(world, intro, "decline"), {"reason": "  "}, format="json").status_code == 400
    )
    r = partner.post(intro_url(world, intro, "accept"), {"note": "Sure"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert owner.post(intro_url(world, intro, "reply"), {"body": "Thanks!"}, format="json").status_code == 200
    r = owner.post(intro_url(world, intro, "done"), {}, format="json")
    detail = partner.get(intro_url(world, intro)).json()
    assert [m["body"] for m in detail["messages"]] == ["Can you introduce us?", "Sure", "Thanks!"]
    assert [h["to_status"] for h in detail["history"]] == ["open", "accepted", "done"]
    assert detail == owner.get(intro_url(world, intro)).json()  # both sides see the same thread
    assert_no_leak(owner.get(intro_url(world, intro)), "secret.rep@partner.test")


def test_intro_needs_a_visible_overlap(world, shared_overlap):
    owner = api(world, world.owner, world.owner_org)
    payload = {"overlap_id": shared_overlap.pk, "kind": "intelligence", "message": "Tell me more"}
    from mapping.sharing.models import SharingRule

    SharingRule.objects.filter(account_list__organization=world.partner_org).update(level="counts")  # revoked
    r = owner.post(intro_url(world), payload, format="json")
    assert r.status_code == 404
    assert owner.post(intro_url(world), {**payload, "overlap_id": 999999}, format="json").status_code == 404
    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    SharingRule.objects.filter(account_list__organization=world.partner_org).update(level="overlaps")
    assert owner.post(intro_url(world), {**payload, "respond_by": past}, format="json").status_code == 400
    assert owner.post(intro_url(world), {**payload, "message": "bad\x01"}, format="json").status_code == 400
    viewer = member(world.owner_org, Role.VIEWER)
    assert (
        api(world, viewer, world.owner_org).post(intro_url(world), payload, format="json").status_code == 403
    )
    assert IntroRequest.objects.count() == 0


def test_intro_list_query_count_does_not_grow(world, shared_overlap, django_assert_max_num_queries):
    partner = api(world, world.partner, world.partner_org)
    make = lambda: intro_svc.intro_request_create(  # noqa: E731
        actor=world.owner,
        org=world.owner_org,
        partnership=world.partnership,
        overlap_id=shared_overlap.pk,
        kind="introduction",
        message="m",
    )
    make()
    partner.get(intro_url(world))
    with django_assert_max_num_queries(20) as one:
        partner.get(intro_url(world))
    for _ in range(5):
        make()
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert partner.get(intro_url(world)).json()["count"] == 6


def test_reminder_and_expiry_job_twice_sends_one_reminder(world, shared_overlap, mailoutbox):
    from django.test import TestCase

    intro = intro_svc.intro_request_create(
        actor=world.owner,
        org=world.owner_org,
        partnership=world.partnership,
        overlap_id=shared_overlap.pk,
        kind="joint_meeting",
        message="m",
    )
    day_before = intro.respond_by - timedelta(days=1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert intro_svc.intros_remind_and_expire(today=day_before) == {"reminded": 1, "expired": 0}
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert intro_svc.intros_remind_and_expire(today=day_before) == {"reminded": 0, "expired": 0}
    assert len(mailoutbox) == 1 and world.partner.email in mailoutbox[0].to
    after = intro.respond_by + timedelta(days=1)
    assert intro_svc.intros_remind_and_expire(today=after)["expired"] == 1
    assert intro_svc.intros_remind_and_expire(today=after)["expired"] == 0
    intro.refresh_from_db()
    assert intro.status == "expired" and intro.changes.filter(to_status="expired").count() == 1


def test_unknown_filter_values_are_400(world):
    owner = api(world, world.owner, world.owner_org)
    assert owner.get(reg_url(world) + "?status=AAA").status_code == 400
    assert owner.get(intro_url(world) + "?box=AAA").status_code == 400
    assert owner.get(reg_url(world) + "?status=approved").status_code == 200
