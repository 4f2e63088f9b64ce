"""The review queue: near-miss pairs seen from each side through the other side's sharing rules,
decided from the API and the portal; roles, tenant isolation and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.services.partnerships import partnership_end
from mapping.matching.models import SideDecision
from mapping.models import MatchDecision, MatchRun
from tests.conftest import assert_no_leak
from tests.factories import member
from tests.mapping.test_sharing_helpers import link, make_list, make_record, portal, share

pytestmark = pytest.mark.django_db

# Never to be seen by the owner: the partner's private record, its record in a hidden list, its
# record in a counts-only list, fields it does not allow, and names of lists it does not show.
PARTNER_SECRETS = (
    "PARTNERPRIVATE",
    "PARTNERHIDDEN",
    "PARTNERCOUNTS",
    "secret-rep@partner.test",
    "SECRETINDUSTRY",
    "EXTRASECRET",
    "P-Hidden",
    "P-Prospects",
)


class Queue:
    pass


@pytest.fixture
def q(world):
    """Review pairs on every kind of partner list; the partner shares P-Customers at record level
    (name and region), P-Prospects at counts only, P-Hidden not at all. PARTNERNAME Acme is
    already shown to the owner (it overlaps Acme Twin), so its near miss with Acme may be too."""
    x = Queue()
    x.w = w = world
    p = w.partnership
    x.oc = make_list(w.owner_org, "O-Customers", "customers")
    x.op = make_list(w.owner_org, "O-Prospects", "prospects")
    x.pc = make_list(w.partner_org, "P-Customers", "customers")
    x.pp = make_list(w.partner_org, "P-Prospects", "prospects")
    x.ph = make_list(w.partner_org, "P-Hidden", "customers")
    x.acme = make_record(x.oc, "Acme", owner_email="owner@owner.test")
    x.hooli = make_record(x.oc, "Hooli")
    x.globex = make_record(x.oc, "Globex")
    x.initech = make_record(x.op, "Initech")
    x.umbrella = make_record(x.oc, "Umbrella")
    x.wayne = make_record(x.oc, "Wayne")
    x.p_acme = make_record(
        x.pc,
        "PARTNERNAME Acme",
        owner_email="secret-rep@partner.test",
        industry="SECRETINDUSTRY",
        region="EMEA",
        extra={"tier": "EXTRASECRET", "segment": "Mid"},
    )
    x.p_private = make_record(x.pc, "PARTNERPRIVATE Hooli", private=True)
    x.p_hidden = make_record(x.ph, "PARTNERHIDDEN Globex")
    x.p_counts = make_record(x.pp, "PARTNERCOUNTS Initech")
    x.p_umbrella = make_record(x.pc, "PARTNERNAME Umbrella")
    x.p_wayne = make_record(x.pc, "PARTNERNAME Wayne")
    x.acme_twin = make_record(x.oc, "Acme Twin")
    x.twin_pair = link(p, x.acme_twin, x.p_acme, score=0.95)
    x.acme_pair = link(p, x.acme, x.p_acme, status="review", score=0.45)
    x.private_pair = link(p, x.hooli, x.p_private, status="review", score=0.44)
    x.hidden_pair = link(p, x.globex, x.p_hidden, status="review", score=0.43)
    x.counts_pair = link(p, x.initech, x.p_counts, status="review", score=0.42)
    x.match_pair = link(p, x.umbrella, x.p_umbrella, score=0.9)  # a match: not waiting for review
    x.decided_pair = link(p, x.wayne, x.p_wayne, status="review", score=0.3)
    MatchDecision.objects.create(
        partnership=p, left_record=x.wayne, right_record=x.p_wayne, decision="rejected"
    )
    share(w.partner, p, x.pc, "overlaps", fields=["name", "region"], extra_fields=["segment"])
    share(w.partner, p, x.pp, "counts")
    return x


def api_url(x):
    return f"/api/partnerships/{x.w.partnership.pk}/review-queue/"


def page_url(x):
    return f"/partnerships/{x.w.partnership.pk}/review/"


def decide_url(x, pair):
    return f"/partnerships/{x.w.partnership.pk}/review/{pair.pk}/"


# ------------------------------------------------------------------------------------ visibility


def test_owner_sees_only_pairs_whose_partner_record_is_shared_at_record_level(q):
    w = q.w
    response = w.api(w.owner).get(api_url(q))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1 and [r["id"] for r in body["results"]] == [q.acme_pair.pk]
    row = body["results"][0]
    assert (row["left_record"], row["right_record"], row["score"]) == (q.acme.pk, q.p_acme.pk, 0.45)
    assert row["mine"]["name"] == "Acme" and row["mine"]["owner_email"] == "owner@owner.test"
    assert row["mine"]["list_name"] == "O-Customers"
    assert row["partner"]["fields"] == {"name": "PARTNERNAME Acme", "region": "EMEA"}
    assert row["partner"]["extra"] == {"segment": "Mid"}
    assert row["partner"]["lists"] == [{"id": q.pc.pk, "name": "P-Customers", "kind": "customers"}]
    assert row["reasons"] == "name equal"  # domain, country, CRM id parts speak of fields not allowed
    assert_no_leak(response, *PARTNER_SECRETS)

    page = portal(w.owner).get(page_url(q))
    assert page.status_code == 200
    html = page.content.decode()
    assert "PARTNERNAME Acme" in html and f'id="review-pair-{q.acme_pair.pk}"' in html
    assert_no_leak(page, *PARTNER_SECRETS)
    for pair in (q.private_pair, q.hidden_pair, q.counts_pair, q.match_pair, q.decided_pair):
        assert f'id="review-pair-{pair.pk}"' not in html

    status = portal(w.owner).get(f"/partnerships/{w.partnership.pk}/matching/")
    assert status.status_code == 200
    assert 'id="review-count">1<' in status.content.decode()
    assert page_url(q) in status.content.decode()


def test_partner_sees_its_own_records_in_full_and_mine_through_my_rules(q):
    w = q.w
    assert w.api(w.partner).get(api_url(q)).json()["count"] == 0  # I share nothing yet
    share(w.owner, w.partnership, q.oc, "overlaps", fields=["name"])
    # my near-miss records overlap nothing: white space, which "overlapping accounts" does not show
    assert w.api(w.partner).get(api_url(q)).json()["count"] == 0
    share(w.owner, w.partnership, q.oc, "all", fields=["name"])
    body = w.api(w.partner).get(api_url(q)).json()
    # their own private record and their hidden list are theirs to see; my O-Prospects stays hidden
    assert [r["id"] for r in body["results"]] == [q.acme_pair.pk, q.private_pair.pk, q.hidden_pair.pk]
    mine = {r["id"]: r["mine"] for r in body["results"]}
    assert mine[q.private_pair.pk]["name"] == "PARTNERPRIVATE Hooli" and mine[q.private_pair.pk]["private"]
    assert mine[q.acme_pair.pk]["owner_email"] == "secret-rep@partner.test"
    assert {r["partner"]["fields"]["name"] for r in body["results"]} == {"Acme", "Hooli", "Globex"}
    assert all(set(r["partner"]["fields"]) == {"name"} for r in body["results"])
    assert "owner@owner.test" not in str(body) and "Initech" not in str(body)


def test_private_hidden_and_counts_only_pairs_never_show_whatever_the_filters(q):
    w = q.w
    for params in (
        {},
        {"search": "Hooli"},
        {"search": "Globex"},
        {"search": "Initech"},
        {"my_list": q.op.pk},
        {"min_score": 0, "max_score": 1},
    ):
        response = w.api(w.owner).get(api_url(q), params)
        assert response.status_code == 200
        assert {r["id"] for r in response.json()["results"]} <= {q.acme_pair.pk}
        assert_no_leak(response, *PARTNER_SECRETS)
        page = portal(w.owner).get(
            page_url(q), {"q": params.get("search", ""), "my_list": params.get("my_list", "")}
        )
        assert page.status_code == 200
        assert_no_leak(page, *PARTNER_SECRETS)
    # revoking the rule empties the queue at the very next request
    share(w.partner, w.partnership, q.pc, "counts")
    assert w.api(w.owner).get(api_url(q)).json()["count"] == 0
    assert_no_leak(portal(w.owner).get(page_url(q)), "PARTNERNAME", *PARTNER_SECRETS)


def test_ended_partnership_has_nothing_to_review(q):
    w = q.w
    partnership_end(actor=w.owner, org=w.owner_org, partnership=w.partnership)
    assert w.api(w.owner).get(api_url(q)).json()["count"] == 0
    page = portal(w.owner).get(page_url(q))
    assert page.status_code == 200 and "PARTNERNAME" not in page.content.decode()
    assert portal(w.owner).post(decide_url(q, q.acme_pair), {"decision": "confirmed"}).status_code == 404
    assert not MatchDecision.objects.filter(left_record=q.acme).exists()


def test_outsider_gets_404_and_not_one_byte(q):
    w = q.w
    outsider_pm = member(w.outsider_org, Role.PARTNER_MANAGER)
    secrets = ("Owner Co", "Partner Co", "Acme", "O-Customers", "P-Customers")
    response = w.api(w.outsider).get(api_url(q))
    assert response.status_code == 404
    assert_no_leak(response, *secrets)
    client = portal(outsider_pm)
    for response in (
        client.get(page_url(q)),
        client.get(f"/partnerships/{w.partnership.pk}/matching/"),
        client.post(decide_url(q, q.acme_pair), {"decision": "confirmed"}),
    ):
        assert response.status_code == 404
        assert_no_leak(response, *secrets)
    decision = w.api(w.outsider).post(
        f"/api/partnerships/{w.partnership.pk}/match-decisions/",
        {"left_record": q.acme.pk, "right_record": q.p_acme.pk, "decision": "confirmed"},
        format="json",
    )
    assert decision.status_code == 404
    assert not MatchDecision.objects.filter(left_record=q.acme).exists()


# ------------------------------------------------------------------------------------ filters


def test_filters_and_pagination(q):
    w = q.w
    share(w.partner, w.partnership, q.pc, "all", fields=["name", "region"], extra_fields=["segment"])
    more = [
        link(
            w.partnership,
            make_record(q.oc, f"Bulk {i}"),
            make_record(q.pc, f"PARTNERNAME Bulk {i}"),
            status="review",
            score=0.2 + i / 100,
        )
        for i in range(3)
    ]
    results = w.api(w.owner).get(api_url(q)).json()["results"]
    assert [r["id"] for r in results] == [q.acme_pair.pk] + [p.pk for p in reversed(more)]  # best score first

    def ids(**params):
        response = w.api(w.owner).get(api_url(q), params)
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["results"]]

    assert ids(search="bulk") == [p.pk for p in reversed(more)]
    assert ids(search="PARTNERNAME") == []  # searches my record's name only
    assert ids(min_score=0.21, max_score=0.45) == [q.acme_pair.pk, more[2].pk, more[1].pk]
    assert ids(my_list=q.oc.pk) == [q.acme_pair.pk] + [p.pk for p in reversed(more)]
    assert ids(my_list=q.op.pk) == []
    page = w.api(w.owner).get(api_url(q), {"page_size": 2}).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"] and page["previous"] is None
    assert w.api(w.owner).get(api_url(q), {"page": 9}).status_code == 404


@pytest.mark.parametrize(
    "params,status",
    [
        ({"min_score": 0.6, "max_score": 0.4}, 400),
        ({"min_score": 2}, 400),
        ({"max_score": "high"}, 400),
        ({"my_list": "x"}, 400),
    ],
)
def test_invalid_filters_are_400(q, params, status):
    response = q.w.api(q.w.owner).get(api_url(q), params)
    assert response.status_code == status
    assert response.json()["code"] == "invalid"


def test_someone_elses_list_is_404(q):
    w = q.w
    assert w.api(w.owner).get(api_url(q), {"my_list": q.pc.pk}).status_code == 404
    assert_no_leak(w.api(w.owner).get(api_url(q), {"my_list": q.pc.pk}), "P-Customers")


@pytest.mark.parametrize(
    "params",
    [
        {"min_score": "0.6", "max_score": "0.4"},
        {"min_score": "2"},
        {"max_score": "high"},
        {"my_list": "999999"},
    ],
)
def test_portal_bad_filters_are_form_errors(q, params):
    response = portal(q.w.owner).get(page_url(q), params)
    assert response.status_code == 400
    assert 'class="msg error"' in response.content.decode()
    assert_no_leak(response, *PARTNER_SECRETS)


# ------------------------------------------------------------------------------------ decisions


def test_confirm_from_the_page_records_the_decision_and_leaves_the_queue(q):
    w = q.w
    client = portal(w.owner)
    assert f'action="{decide_url(q, q.acme_pair)}"' in client.get(page_url(q)).content.decode()
    response = client.post(decide_url(q, q.acme_pair), {"decision": "confirmed"})
    assert response.status_code == 302 and response["Location"] == page_url(q)
    decision = SideDecision.objects.get(left_record=q.acme, right_record=q.p_acme)
    assert (
        decision.decision == "confirmed" and decision.decided_by == w.owner and decision.side == "initiator"
    )
    assert decision.decided_by_organization == w.owner_org
    assert not MatchDecision.objects.filter(left_record=q.acme).exists()  # one side's word is no decision
    assert MatchRun.objects.filter(partnership=w.partnership, trigger="review decision").exists()
    assert f'id="review-pair-{q.acme_pair.pk}"' not in client.get(page_url(q)).content.decode()
    assert w.api(w.owner).get(api_url(q)).json()["count"] == 0
    assert client.post(decide_url(q, q.acme_pair), {"decision": "rejected"}).status_code == 404
    # my confirmation alone changes nothing for the partner: the pair waits for its word too
    share(w.owner, w.partnership, q.oc, "all", fields=["name"])
    assert q.acme_pair.pk in [r["id"] for r in w.api(w.partner).get(api_url(q)).json()["results"]]
    assert portal(w.partner).post(decide_url(q, q.acme_pair), {"decision": "confirmed"}).status_code == 302
    assert q.acme_pair.pk not in [r["id"] for r in w.api(w.partner).get(api_url(q)).json()["results"]]
    assert SideDecision.objects.filter(left_record=q.acme, right_record=q.p_acme).count() == 2
    assert MatchDecision.objects.get(left_record=q.acme, right_record=q.p_acme).decision == "confirmed"


def test_reject_with_htmx_swaps_the_row_for_the_decision(q):
    w = q.w
    response = portal(w.partner).post(
        decide_url(q, q.acme_pair), {"decision": "rejected"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 404  # the partner does not see this pair: I share nothing
    share(w.owner, w.partnership, q.oc, "all", fields=["name"])
    response = portal(w.partner).post(
        decide_url(q, q.acme_pair), {"decision": "rejected"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="review-pair-{q.acme_pair.pk}"')
    assert 'data-decision="rejected"' in html and "Confirm</button>" not in html
    assert "owner@owner.test" not in html  # my e-mail: not in my allow-list
    decision = MatchDecision.objects.get(left_record=q.acme, right_record=q.p_acme)  # one rejection is enough
    assert decision.decision == "rejected" and decision.decided_by_organization == w.partner_org


def test_decisions_on_pairs_outside_my_queue_are_404(q):
    client = portal(q.w.owner)
    for pair in (q.private_pair, q.hidden_pair, q.counts_pair, q.match_pair, q.decided_pair):
        response = client.post(decide_url(q, pair), {"decision": "confirmed"})
        assert response.status_code == 404
        assert_no_leak(response, *PARTNER_SECRETS)
    assert (
        client.post(
            f"/partnerships/{q.w.partnership.pk}/review/999999/", {"decision": "confirmed"}
        ).status_code
        == 404
    )
    assert MatchDecision.objects.count() == 1  # the fixture's


def test_bad_decision_is_a_form_error(q):
    client = portal(q.w.owner)
    response = client.post(decide_url(q, q.acme_pair), {"decision": "maybe"})
    assert response.status_code == 400 and "Choose Confirm or Reject" in response.content.decode()
    htmx = client.post(decide_url(q, q.acme_pair), {}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and 'class="msg error"' in htmx.content.decode()
    assert client.get(decide_url(q, q.acme_pair)).status_code == 405
    assert not MatchDecision.objects.filter(left_record=q.acme).exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SALES_REP, Role.FINANCE])
def test_readers_can_read_the_queue_but_not_decide(q, role):
    w = q.w
    reader = member(w.owner_org, role)
    assert w.api(reader).get(api_url(q)).json()["count"] == 1
    page = portal(reader).get(page_url(q))
    assert page.status_code == 200 and "PARTNERNAME Acme" in page.content.decode()
    assert "Confirm</button>" not in page.content.decode()
    api = w.api(reader).post(
        f"/api/partnerships/{w.partnership.pk}/match-decisions/",
        {"left_record": q.acme.pk, "right_record": q.p_acme.pk, "decision": "confirmed"},
        format="json",
    )
    assert api.status_code == 403
    response = portal(reader).post(decide_url(q, q.acme_pair), {"decision": "confirmed"})
    assert response.status_code == 403 and "does not allow" in response.content.decode()
    htmx = portal(reader).post(decide_url(q, q.acme_pair), {"decision": "confirmed"}, HTTP_HX_REQUEST="true")
    assert "does not allow" in htmx.content.decode()
    assert not MatchDecision.objects.filter(left_record=q.acme).exists()


def test_decision_api_confirms_a_pair_of_the_queue(q):
    w = q.w
    row = w.api(w.owner).get(api_url(q)).json()["results"][0]
    response = w.api(w.owner).post(
        f"/api/partnerships/{w.partnership.pk}/match-decisions/",
        {"left_record": row["left_record"], "right_record": row["right_record"], "decision": "confirmed"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert w.api(w.owner).get(api_url(q)).json()["count"] == 0


# ------------------------------------------------------------------------------------ query counts


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_the_queue(q):
    w = q.w
    share(w.owner, w.partnership, q.oc, "all", fields=["name"])
    share(w.partner, w.partnership, q.pc, "all", fields=["name", "region"], extra_fields=["segment"])
    client = portal(w.owner)
    counts = []
    for target in (5, 25):
        waiting = w.api(w.owner).get(api_url(q)).json()["count"]
        for i in range(waiting, target):
            link(
                w.partnership,
                make_record(q.oc, f"Bulk {i}"),
                make_record(q.pc, f"PARTNERNAME Bulk {i}"),
                status="review",
                score=0.3,
            )
        assert w.api(w.owner).get(api_url(q)).json()["count"] == target
        counts.append(
            (
                _queries(lambda: w.api(w.owner).get(api_url(q))),
                _queries(lambda: w.api(w.partner).get(api_url(q))),
                _queries(lambda: client.get(page_url(q))),
                _queries(lambda: client.get(f"/partnerships/{w.partnership.pk}/matching/")),
            )
        )
    assert counts[0] == counts[1], counts
    api, _partner_api, page, status = counts[0]
    assert api <= 8 and page <= 16 and status <= 12, counts


def test_schema_documents_the_review_queue(client):
    schema = client.get("/api/schema/").content.decode()
    assert "/api/partnerships/{partnership_id}/review-queue/" in schema
    assert "ReviewPair" in schema
