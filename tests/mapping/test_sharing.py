"""Sharing rules and the views through them: default hidden, each level, private records,
segments, revocation, audit, roles, tenant isolation and query counts."""

import pytest

from accounts.models import Role
from mapping.models import SharingRule, SharingRuleChange
from mapping.sharing.selectors import overlap_matrix_for
from prm.common.errors import NotFound, PermissionDeniedError, ValidationFailed
from tests.factories import member
from tests.mapping.test_sharing_helpers import (
    assert_hidden,
    link,
    make_list,
    make_record,
    portal,
    share,
    text_of,
)

pytestmark = pytest.mark.django_db

PARTNER_SECRETS = (
    "secret-rep@partner.test",
    "SECRETINDUSTRY",
    "PARTNERPRIVATE",
    "PARTNERWHITESPACE",
    "EXTRASECRET",
)


class Mapped:
    pass


@pytest.fixture
def m(world):
    """Owner (initiator) and partner lists with known overlaps; nothing shared yet."""
    x = Mapped()
    x.w = world
    p = world.partnership
    x.oc = make_list(world.owner_org, "O-Customers", "customers")
    x.op = make_list(world.owner_org, "O-Prospects", "prospects")
    x.pc = make_list(world.partner_org, "P-Customers", "customers")
    x.pp = make_list(world.partner_org, "P-Prospects", "prospects")
    x.acme = make_record(x.oc, "Acme", owner_email="owner@owner.test", region="EMEA", industry="Retail")
    x.hooli = make_record(x.oc, "Hooli", owner_email="other@owner.test", region="AMER")
    x.mine_private = make_record(x.oc, "OWNERPRIVATE Globex", private=True)
    x.initech = make_record(x.op, "Initech", owner_email="owner@owner.test")
    x.p_acme = make_record(
        x.pc,
        "PARTNERNAME Acme",
        owner_email="secret-rep@partner.test",
        industry="SECRETINDUSTRY",
        region="EMEA",
        stage="Won",
        extra={"tier": "EXTRASECRET", "segment": "Mid"},
    )
    x.p_hooli_private = make_record(x.pc, "PARTNERPRIVATE Hooli", private=True)
    x.p_white = make_record(x.pc, "PARTNERWHITESPACE Umbrella", region="APAC")
    x.p_initech = make_record(x.pc, "PARTNERNAME Initech", owner_email="secret-rep@partner.test")
    x.p_globex = make_record(x.pc, "PARTNERNAME Globex")
    x.p_prospect = make_record(x.pp, "PARTNERNAME Acme prospect", owner_email="secret-rep@partner.test")
    link(p, x.acme, x.p_acme, score=0.97)
    link(p, x.hooli, x.p_hooli_private)  # their private record: never visible to me
    link(p, x.mine_private, x.p_globex)  # my private record: mine, never visible to them
    link(p, x.initech, x.p_initech, score=0.8)  # my prospect, their customer: an intro
    link(p, x.acme, x.p_prospect, score=0.7)
    link(p, x.hooli, x.p_white, status="review", score=0.3)  # review pairs are not overlaps
    return x


def api_get(world, user, url, **params):
    return world.api(user).get(url, params)


def base(m):
    return f"/api/partnerships/{m.w.partnership.pk}"


# ------------------------------------------------------------------------------------ defaults


def test_nothing_is_shared_by_default(m):
    w = m.w
    body = api_get(w, w.owner, f"{base(m)}/overlap-matrix/").json()
    assert body["columns"] == [] and {r["name"] for r in body["rows"]} == {"O-Customers", "O-Prospects"}
    response = api_get(w, w.owner, f"{base(m)}/overlaps/")
    assert response.json()["count"] == 0
    assert api_get(w, w.owner, f"{base(m)}/overlaps/", their_list=m.pc.pk).status_code == 404
    assert api_get(w, w.owner, f"{base(m)}/white-space/", their_list=m.pc.pk).status_code == 404
    for url in ("/overlap-matrix/", "/overlaps/", "/overlaps/export.csv"):
        assert_hidden(api_get(w, w.owner, base(m) + url), "P-Customers", "PARTNERNAME", *PARTNER_SECRETS)
    assert_hidden(
        portal(w.owner).get(f"/partnerships/{w.partnership.pk}/mapping/"), "P-Customers", "PARTNERNAME"
    )
    rules = api_get(w, w.owner, f"{base(m)}/sharing-rules/").json()
    assert {r["level"] for r in rules} == {"hidden"}


def test_counts_only_shows_numbers_and_no_records(m):
    w = m.w
    share(w.partner, w.partnership, m.pc, "counts")
    body = api_get(w, w.owner, f"{base(m)}/overlap-matrix/").json()
    assert [c["name"] for c in body["columns"]] == ["P-Customers"]
    assert body["columns"][0]["size"] == 4  # five records, one private
    counts = {r["name"]: r["cells"][0]["count"] for r in body["rows"]}
    # Acme and my private Globex (mine: counted for me); their private Hooli not counted
    assert counts == {"O-Customers": 2, "O-Prospects": 1}
    assert body["rows"][0]["cells"][0]["opens"] is False
    assert api_get(w, w.owner, f"{base(m)}/overlaps/", their_list=m.pc.pk).status_code == 404
    assert api_get(w, w.owner, f"{base(m)}/overlaps/").json()["count"] == 0
    for response in (
        api_get(w, w.owner, f"{base(m)}/overlap-matrix/"),
        api_get(w, w.owner, f"{base(m)}/overlaps/"),
        api_get(w, w.owner, f"{base(m)}/overlaps/export.csv"),
        portal(w.owner).get(f"/partnerships/{w.partnership.pk}/mapping/"),
    ):
        assert response.status_code == 200
        assert_hidden(response, "PARTNERNAME", "P-Prospects", *PARTNER_SECRETS)


def test_overlapping_accounts_show_only_allowed_fields_and_safe_reasons(m):
    w = m.w
    share(w.partner, w.partnership, m.pc, "overlaps", fields=["name", "region"], extra_fields=["segment"])
    response = api_get(w, w.owner, f"{base(m)}/overlaps/", their_list=m.pc.pk)
    body = response.json()
    assert body["count"] == 3  # Acme, Initech, Globex (my private: mine to see)
    acme = body["results"][0]
    assert acme["mine"]["name"] == "Acme" and acme["score"] == 0.97
    assert acme["partner"]["fields"] == {"name": "PARTNERNAME Acme", "region": "EMEA"}
    assert acme["partner"]["extra"] == {"segment": "Mid"}
    assert acme["reasons"] == "name equal"  # domain, country, city, CRM id parts are the partner's
    assert_hidden(response, *PARTNER_SECRETS)
    csv = api_get(w, w.owner, f"{base(m)}/overlaps/export.csv", their_list=m.pc.pk)
    text = text_of(csv)
    assert "PARTNERNAME Acme" in text and "Partner region" in text
    for secret in PARTNER_SECRETS:
        assert secret not in text
    # the white space stays closed below "all accounts"
    assert api_get(w, w.owner, f"{base(m)}/white-space/", their_list=m.pc.pk).status_code == 404


def test_all_accounts_opens_the_white_space_without_private_records(m):
    w = m.w
    share(w.partner, w.partnership, m.pc, "all", fields=["name"])
    response = api_get(w, w.owner, f"{base(m)}/white-space/", their_list=m.pc.pk)
    names = [r["partner"]["fields"]["name"] for r in response.json()["results"]]
    assert names == ["PARTNERWHITESPACE Umbrella"]  # a review pair is not an overlap
    assert "PARTNERPRIVATE" not in response.content.decode()
    csv = text_of(api_get(w, w.owner, f"{base(m)}/white-space/export.csv", their_list=m.pc.pk))
    assert "PARTNERWHITESPACE Umbrella" in csv and "PARTNERPRIVATE" not in csv and "APAC" not in csv


def test_the_partner_never_sees_my_private_accounts(m):
    w = m.w
    share(w.owner, w.partnership, m.oc, "all", fields=["name", "owner_email"])
    body = api_get(w, w.partner, f"{base(m)}/overlap-matrix/").json()
    assert body["columns"][0]["size"] == 2  # Acme and Hooli; my private Globex is not counted
    cells = {r["name"]: r["cells"][0]["count"] for r in body["rows"]}
    assert cells == {"P-Customers": 2, "P-Prospects": 1}  # Acme, Hooli (their private is theirs) ; Acme
    for url in ("/overlap-matrix/", "/overlaps/", "/overlaps/export.csv"):
        assert_hidden(api_get(w, w.partner, base(m) + url), "OWNERPRIVATE")
    ws = api_get(w, w.partner, f"{base(m)}/white-space/", their_list=m.oc.pk)
    assert ws.json()["count"] == 0 and "OWNERPRIVATE" not in ws.content.decode()


# ------------------------------------------------------------------------------ segments


def test_a_shared_segment_shows_only_its_records(m):
    w = m.w
    emea = make_list(w.partner_org, "P-EMEA", base=m.pc, filters={"region": ["emea"]})
    share(w.partner, w.partnership, emea, "overlaps", fields=["name"])
    matrix = api_get(w, w.owner, f"{base(m)}/overlap-matrix/").json()
    assert [c["name"] for c in matrix["columns"]] == ["P-EMEA"]
    assert matrix["columns"][0]["size"] == 1
    assert {r["name"]: r["cells"][0]["count"] for r in matrix["rows"]} == {"O-Customers": 1, "O-Prospects": 0}
    body = api_get(w, w.owner, f"{base(m)}/overlaps/").json()
    assert [r["partner"]["fields"]["name"] for r in body["results"]] == ["PARTNERNAME Acme"]
    # my own segment as a matrix row
    mine = make_list(w.owner_org, "O-AMER", base=m.oc, filters={"region": ["AMER"]})
    share(w.partner, w.partnership, m.pc, "counts")
    matrix = overlap_matrix_for(org=w.owner_org, partnership=w.partnership)
    assert matrix.cell(mine.pk, m.pc.pk).count == 0  # Hooli's only match is their private record
    assert matrix.cell(m.oc.pk, m.pc.pk).count == 2
    assert matrix.cell(mine.pk, emea.pk).count == 0 and matrix.cell(m.oc.pk, emea.pk).count == 1


def test_a_record_in_a_shared_segment_of_a_shared_list_shows_both_allow_lists(m):
    """Their base list shows names; their EMEA segment of it also shows industry: an EMEA record
    shows both in the overlap list, its export and account 360, a record outside EMEA names only."""
    w = m.w
    emea = make_list(w.partner_org, "P-EMEA", base=m.pc, filters={"region": ["emea"]})
    share(w.partner, w.partnership, m.pc, "overlaps", fields=["name"])
    share(w.partner, w.partnership, emea, "overlaps", fields=["name", "industry"])
    body = api_get(w, w.owner, f"{base(m)}/overlaps/").json()
    rows = {r["partner"]["fields"]["name"]: r["partner"] for r in body["results"]}
    assert rows["PARTNERNAME Acme"]["fields"] == {"name": "PARTNERNAME Acme", "industry": "SECRETINDUSTRY"}
    assert {lst["name"] for lst in rows["PARTNERNAME Acme"]["lists"]} == {"P-Customers", "P-EMEA"}
    assert rows["PARTNERNAME Initech"]["fields"] == {"name": "PARTNERNAME Initech"}
    assert body["count"] == 3 and rows["PARTNERNAME Globex"]["fields"] == {
        "name": "PARTNERNAME Globex"
    }  # once each
    export = text_of(w.api(w.owner).get(f"{base(m)}/overlaps/export.csv"))
    assert "SECRETINDUSTRY" in export and "secret-rep@partner.test" not in export
    account = api_get(w, w.owner, f"/api/accounts/{m.acme.pk}/partners/").json()
    assert account["partners"][0]["record"]["fields"] == rows["PARTNERNAME Acme"]["fields"]
    # their prospects list is not a base of the segment: listing it alone shows names only
    share(w.partner, w.partnership, m.pp, "overlaps", fields=["name"])
    prospects = api_get(w, w.owner, f"{base(m)}/overlaps/", their_list=m.pp.pk).json()
    assert [r["partner"]["fields"] for r in prospects["results"]] == [{"name": "PARTNERNAME Acme prospect"}]


# ------------------------------------------------------------------------------ revocation


def test_downgrade_from_all_to_counts_is_honoured_by_the_next_request_and_export(m):
    w = m.w
    share(w.partner, w.partnership, m.pc, "all", fields=["name", "owner_email", "industry"])
    url = f"{base(m)}/overlaps/"
    assert "PARTNERNAME Acme" in api_get(w, w.owner, url).content.decode()
    assert (
        "PARTNERWHITESPACE"
        in api_get(w, w.owner, f"{base(m)}/white-space/", their_list=m.pc.pk).content.decode()
    )
    share(w.partner, w.partnership, m.pc, "counts")
    after = api_get(w, w.owner, url)
    assert after.json()["count"] == 0
    assert_hidden(after, "PARTNERNAME", *PARTNER_SECRETS)
    export = text_of(api_get(w, w.owner, f"{url}export.csv"))
    assert "PARTNERNAME" not in export and "secret-rep" not in export
    assert api_get(w, w.owner, f"{base(m)}/white-space/", their_list=m.pc.pk).status_code == 404
    page = portal(w.owner).get(f"/partnerships/{w.partnership.pk}/mapping/overlaps/")
    assert_hidden(page, "PARTNERNAME", *PARTNER_SECRETS)
    # still counted
    matrix = api_get(w, w.owner, f"{base(m)}/overlap-matrix/").json()
    assert matrix["rows"][0]["cells"][0]["count"] == 2
    share(w.partner, w.partnership, m.pc, "hidden")
    assert api_get(w, w.owner, f"{base(m)}/overlap-matrix/").json()["columns"] == []


def test_an_ended_partnership_shares_nothing(m):
    w = m.w
    share(w.partner, w.partnership, m.pc, "all", fields=["name"])
    w.partnership.status = "ended"
    w.partnership.save()
    assert api_get(w, w.owner, f"{base(m)}/overlap-matrix/").json()["columns"] == []
    assert_hidden(api_get(w, w.owner, f"{base(m)}/overlaps/"), "PARTNERNAME")


# ------------------------------------------------------------------------------ rules: writes


def test_rule_changes_are_audited_for_admins(m):
    w = m.w
    put = w.api(w.owner).put(
        f"{base(m)}/sharing-rules/{m.oc.pk}/",
        {"level": "overlaps", "fields": ["name", "stage"]},
        format="json",
    )
    assert put.status_code == 200 and put.json()["level"] == "overlaps"
    w.api(w.owner).put(f"{base(m)}/sharing-rules/{m.oc.pk}/", {"level": "counts"}, format="json")
    w.api(w.owner).put(f"{base(m)}/sharing-rules/{m.oc.pk}/", {"level": "counts"}, format="json")  # no change
    changes = list(SharingRuleChange.objects.order_by("id"))
    assert [(c.before["level"], c.after["level"]) for c in changes] == [
        ("hidden", "overlaps"),
        ("overlaps", "counts"),
    ]
    assert changes[0].after["fields"] == ["name", "stage"] and changes[1].changed_by == w.owner
    admin = member(w.owner_org, Role.ADMIN)
    log = w.api(admin).get(f"{base(m)}/sharing-rules/changes/")
    assert log.status_code == 200 and log.json()["count"] == 2
    assert log.json()["results"][0]["changed_by"] == "owner@owner.test"
    assert w.api(w.owner).get(f"{base(m)}/sharing-rules/changes/").status_code == 403  # not an admin
    partner_admin = member(w.partner_org, Role.ADMIN)
    assert w.api(partner_admin).get(f"{base(m)}/sharing-rules/changes/").json()["count"] == 0
    assert w.api(w.outsider).get(f"{base(m)}/sharing-rules/changes/").status_code == 404


def test_rule_writes_need_manage_lists_of_the_lists_owner(m):
    w = m.w
    rep = member(w.owner_org, Role.SALES_REP)
    r = w.api(rep).put(f"{base(m)}/sharing-rules/{m.oc.pk}/", {"level": "all"}, format="json")
    assert r.status_code == 403
    # the partner cannot touch my list, not even learn it exists
    r = w.api(w.partner).put(f"{base(m)}/sharing-rules/{m.oc.pk}/", {"level": "all"}, format="json")
    assert r.status_code == 404 and "O-Customers" not in r.content.decode()
    r = w.api(w.outsider).put(f"{base(m)}/sharing-rules/{m.oc.pk}/", {"level": "all"}, format="json")
    assert r.status_code == 404
    bad = w.api(w.owner).put(
        f"{base(m)}/sharing-rules/{m.oc.pk}/", {"level": "all", "fields": ["crm_id"]}, format="json"
    )
    assert bad.status_code == 400
    assert not SharingRule.objects.exists()
    with pytest.raises(ValidationFailed):
        share(w.owner, w.partnership, m.oc, "everything")
    with pytest.raises(PermissionDeniedError):
        share(rep, w.partnership, m.oc, "all")
    other = member(w.outsider_org, Role.PARTNER_MANAGER)
    outsider_list = make_list(w.outsider_org, "X")
    with pytest.raises(NotFound):
        share(other, w.partnership, outsider_list, "all")


def test_portal_sharing_page_changes_a_rule(m):
    w = m.w
    client = portal(w.owner)
    url = f"/partnerships/{w.partnership.pk}/mapping/sharing/"
    page = client.get(url)
    assert page.status_code == 200 and 'id="sharing-rules"' in page.content.decode()
    response = client.post(
        url,
        {
            "list_id": m.oc.pk,
            "level": "overlaps",
            "fields": ["name", "industry"],
            "extra_fields": "tier, segment",
        },
    )
    assert response.status_code == 302
    rule = SharingRule.objects.get(account_list=m.oc)
    assert (
        rule.level == "overlaps"
        and rule.fields == ["name", "industry"]
        and rule.extra_fields == ["tier", "segment"]
    )
    rep = member(w.owner_org, Role.SALES_REP)
    denied = portal(rep).post(
        url, {"list_id": m.oc.pk, "level": "all"}, HTTP_REFERER=f"http://testserver{url}"
    )
    assert denied.status_code == 302
    assert SharingRule.objects.get(account_list=m.oc).level == "overlaps"
    # the partner posting my list id: 404 page, nothing changed
    assert portal(w.partner).post(url, {"list_id": m.oc.pk, "level": "hidden"}).status_code == 404
    assert SharingRule.objects.get(account_list=m.oc).level == "overlaps"


# ------------------------------------------------------------------------------ ready views


def test_quick_wins_and_my_accounts_only(m):
    w = m.w
    share(w.partner, w.partnership, m.pc, "overlaps", fields=["name"])
    share(w.partner, w.partnership, m.pp, "overlaps", fields=["name"])
    names = lambda r: [(x["mine"]["name"], x["partner"]["fields"]["name"]) for x in r.json()["results"]]  # noqa: E731
    assert names(api_get(w, w.owner, f"{base(m)}/overlaps/", view="intros")) == [
        ("Initech", "PARTNERNAME Initech")
    ]
    assert names(api_get(w, w.owner, f"{base(m)}/overlaps/", view="shared-customers")) == [
        ("Acme", "PARTNERNAME Acme"),
        ("OWNERPRIVATE Globex", "PARTNERNAME Globex"),
    ]
    assert api_get(w, w.owner, f"{base(m)}/overlaps/", view="shared-prospects").json()["count"] == 0
    assert api_get(w, w.owner, f"{base(m)}/overlaps/", view="nope").status_code == 400
    rep = member(w.owner_org, Role.SALES_REP, email="other@owner.test")
    mine = api_get(w, rep, f"{base(m)}/overlaps/", mine="true").json()
    assert mine["count"] == 0  # Hooli's only match is private on their side
    mine = api_get(w, w.owner, f"{base(m)}/overlaps/", mine="true").json()
    assert {r["mine"]["name"] for r in mine["results"]} == {"Acme", "Initech"}
    filtered = api_get(w, w.owner, f"{base(m)}/overlaps/", region="emea", min_score=0.9, sort="name").json()
    assert [r["mine"]["name"] for r in filtered["results"]] == ["Acme"]
    # searching their names works only where every list in view shows names
    assert api_get(w, w.owner, f"{base(m)}/overlaps/", search="PARTNERNAME Glob").json()["count"] == 1
    share(w.partner, w.partnership, m.pp, "overlaps", fields=["region"])
    assert api_get(w, w.owner, f"{base(m)}/overlaps/", search="PARTNERNAME Glob").json()["count"] == 0
    # my accounts they do not have
    gap = api_get(w, w.owner, f"{base(m)}/my-white-space/").json()
    assert {r["mine"]["name"] for r in gap["results"]} == {"Hooli"}


def test_account_360_and_ecosystem(m):
    w = m.w
    share(w.partner, w.partnership, m.pc, "overlaps", fields=["name", "stage"])
    share(w.partner, w.partnership, m.pp, "counts")
    body = api_get(w, w.owner, f"/api/accounts/{m.acme.pk}/partners/").json()
    assert body["account"]["name"] == "Acme"
    assert [(p["partner"]["name"], p["how"], p["record"]["fields"]) for p in body["partners"]] == [
        ("Partner Co", ["customers"], {"name": "PARTNERNAME Acme", "stage": "Won"})
    ]  # the prospect list: counts only
    assert api_get(w, w.owner, f"/api/accounts/{m.hooli.pk}/partners/").json()["partners"] == []
    assert api_get(w, w.partner, f"/api/accounts/{m.acme.pk}/partners/").status_code == 404
    eco = api_get(w, w.owner, "/api/ecosystem/").json()
    assert len(eco) == 1 and eco[0]["partner"]["name"] == "Partner Co"
    counts = eco[0]["counts"]
    assert counts["customers__customers"] == 2 and counts["prospects__customers"] == 1
    assert counts["customers__prospects"] == 1 and eco[0]["total"] == 4
    assert api_get(w, w.partner, "/api/ecosystem/").json()[0]["total"] == 0  # the owner shares nothing
    assert api_get(w, w.owner, "/api/ecosystem/", sort="bogus").status_code == 400
    csv = text_of(api_get(w, w.owner, "/api/ecosystem/export.csv"))
    assert "Partner Co" in csv and "Total" in csv
    page = portal(w.owner).get("/mapping/ecosystem/?sort=-customers__customers")
    assert page.status_code == 200 and "Partner Co" in page.content.decode()
    page = portal(w.owner).get(f"/mapping/accounts/{m.acme.pk}/")
    assert "PARTNERNAME Acme" in page.content.decode() and "secret-rep" not in page.content.decode()


def test_exports_are_safe_in_spreadsheets(m):
    w = m.w
    make_record(m.oc, "=HYPERLINK(1)")
    m.p_acme.name = "+cmd|' /C calc'!A0"
    m.p_acme.save()
    share(w.partner, w.partnership, m.pc, "overlaps", fields=["name"])
    csv = text_of(api_get(w, w.owner, f"{base(m)}/overlaps/export.csv"))
    assert "'+cmd" in csv and ",+cmd" not in csv
    gap = text_of(api_get(w, w.owner, f"{base(m)}/my-white-space/export.csv"))
    assert "'=HYPERLINK(1)" in gap


# ------------------------------------------------------------------------------ portal pages


def test_portal_pages_for_owner_and_partner(m):
    w = m.w
    share(w.partner, w.partnership, m.pc, "all", fields=["name"])
    share(w.owner, w.partnership, m.oc, "counts")
    p = w.partnership.pk
    owner = portal(w.owner)
    pages = [
        f"/partnerships/{p}/mapping/",
        f"/partnerships/{p}/mapping/overlaps/",
        f"/partnerships/{p}/mapping/overlaps/?view=intros&mine=on&sort=name",
        f"/partnerships/{p}/mapping/white-space/?their_list={m.pc.pk}",
        f"/partnerships/{p}/mapping/my-white-space/",
        f"/partnerships/{p}/mapping/sharing/",
        f"/partnerships/{p}/",
    ]
    for url in pages:
        response = owner.get(url)
        assert response.status_code == 200, url
        assert_hidden(response, *PARTNER_SECRETS[:2], "PARTNERPRIVATE")
    html = owner.get(f"/partnerships/{p}/mapping/").content.decode()
    assert 'id="overlap-matrix"' in html and f"?my_list={m.oc.pk}&amp;their_list={m.pc.pk}" in html
    partner = portal(w.partner)
    html = partner.get(f"/partnerships/{p}/mapping/").content.decode()
    assert "O-Customers" in html and "O-Prospects" not in html and "OWNERPRIVATE" not in html
    partner_list = partner.get(f"/partnerships/{p}/mapping/overlaps/")
    assert partner_list.status_code == 200 and "Acme" not in partner_list.content.decode().replace(
        "PARTNERNAME Acme", ""
    )
    bad = owner.get(f"/partnerships/{p}/mapping/overlaps/?min_score=7")
    assert bad.status_code == 302


# ------------------------------------------------------------------------------ isolation


def _endpoints(m):
    p = m.w.partnership.pk
    return [
        f"/api/partnerships/{p}/sharing-rules/",
        f"/api/partnerships/{p}/sharing-rules/{m.oc.pk}/",
        f"/api/partnerships/{p}/sharing-rules/changes/",
        f"/api/partnerships/{p}/overlap-matrix/",
        f"/api/partnerships/{p}/overlaps/",
        f"/api/partnerships/{p}/overlaps/export.csv",
        f"/api/partnerships/{p}/white-space/?their_list={m.pc.pk}",
        f"/api/partnerships/{p}/white-space/export.csv?their_list={m.pc.pk}",
        f"/api/partnerships/{p}/my-white-space/",
        f"/api/partnerships/{p}/my-white-space/export.csv",
        f"/api/accounts/{m.acme.pk}/partners/",
        f"/partnerships/{p}/mapping/",
        f"/partnerships/{p}/mapping/sharing/",
        f"/partnerships/{p}/mapping/overlaps/",
        f"/partnerships/{p}/mapping/overlaps/export.csv",
        f"/partnerships/{p}/mapping/white-space/?their_list={m.pc.pk}",
        f"/partnerships/{p}/mapping/white-space/export.csv?their_list={m.pc.pk}",
        f"/partnerships/{p}/mapping/my-white-space/",
        f"/partnerships/{p}/mapping/my-white-space/export.csv",
        f"/mapping/accounts/{m.acme.pk}/",
    ]


def test_outsiders_get_404_and_not_one_byte(m, settings):
    w = m.w
    share(w.partner, w.partnership, m.pc, "all", fields=["name", "owner_email"])
    share(w.owner, w.partnership, m.oc, "all", fields=["name", "owner_email"])
    outsider_pm = member(w.outsider_org, Role.PARTNER_MANAGER)
    secrets = ("Owner Co", "Partner Co", "O-Customers", "P-Customers", "Acme", "PARTNERNAME", "secret-rep")
    for url in _endpoints(m):
        if url.startswith("/api/"):
            response = w.api(w.outsider).get(url)
        else:
            response = portal(outsider_pm).get(url)
        assert response.status_code == 404, url
        assert_hidden(response, *secrets)
    # the partner reaching the owner's account 360: 404 too
    assert portal(w.partner).get(f"/mapping/accounts/{m.acme.pk}/").status_code == 404
    assert w.api(None).get(f"/api/partnerships/{w.partnership.pk}/overlaps/").status_code in (401, 403)
    eco = w.api(w.outsider).get("/api/ecosystem/")
    assert eco.status_code == 200 and eco.json() == []


@pytest.mark.parametrize("actor", ["owner", "partner"])
def test_both_sides_reach_every_endpoint(m, actor):
    w = m.w
    share(w.partner, w.partnership, m.pc, "all", fields=["name"])
    share(w.owner, w.partnership, m.oc, "all", fields=["name"])
    user = getattr(w, actor)
    admin = member(getattr(w, f"{actor}_org"), Role.ADMIN)
    from tests.conftest import with_mfa

    with_mfa(admin)
    for url in _endpoints(m):
        if "accounts/" in url and actor == "partner":
            continue  # the owner's record
        if "white-space/?their_list" in url or "white-space/export.csv?their_list" in url:
            their = m.oc.pk if actor == "partner" else m.pc.pk
            url = url.split("?")[0] + f"?their_list={their}"
        if url.endswith(f"sharing-rules/{m.oc.pk}/") and actor == "partner":
            url = f"/api/partnerships/{w.partnership.pk}/sharing-rules/{m.pc.pk}/"
        viewer = admin if "changes" in url else user
        response = viewer and (w.api(viewer).get(url) if url.startswith("/api/") else portal(user).get(url))
        assert response.status_code == 200, (url, response.status_code)


# ------------------------------------------------------------------------------ query counts


def test_list_endpoints_make_a_bounded_number_of_queries(m, django_assert_max_num_queries):
    w = m.w
    share(w.partner, w.partnership, m.pc, "all", fields=["name", "industry"])
    share(w.partner, w.partnership, m.pp, "overlaps", fields=["name"])
    make_list(w.partner_org, "P-seg", base=m.pc, filters={"region": ["EMEA"]})
    for i in range(30):  # more rows must not mean more queries
        a = make_record(m.oc, f"Bulk {i}", owner_email="owner@owner.test")
        b = make_record(m.pc, f"PARTNERNAME Bulk {i}")
        link(w.partnership, a, b, score=0.6)
    p = w.partnership.pk
    admin = member(w.owner_org, Role.ADMIN)
    for i in range(5):
        share(w.owner, w.partnership, m.oc, "counts" if i % 2 else "overlaps", fields=["name"])
    budgets = {
        f"/api/partnerships/{p}/overlap-matrix/": 10,
        f"/api/partnerships/{p}/overlaps/": 9,
        f"/api/partnerships/{p}/overlaps/?mine=1&sort=name&search=Bulk": 9,
        f"/api/partnerships/{p}/overlaps/export.csv": 9,
        f"/api/partnerships/{p}/white-space/?their_list={m.pc.pk}": 8,
        f"/api/partnerships/{p}/my-white-space/": 8,
        f"/api/partnerships/{p}/sharing-rules/": 6,
        f"/api/accounts/{m.acme.pk}/partners/": 6,
        "/api/ecosystem/": 8,
    }
    for url, budget in budgets.items():
        with django_assert_max_num_queries(budget):
            response = w.api(w.owner).get(url)
            if hasattr(response, "streaming_content"):
                text_of(response)
        assert response.status_code == 200, url
    with django_assert_max_num_queries(6):
        assert w.api(admin).get(f"/api/partnerships/{p}/sharing-rules/changes/").status_code == 200
    client = portal(w.owner)
    for url in (
        f"/partnerships/{p}/mapping/",
        f"/partnerships/{p}/mapping/overlaps/",
        f"/partnerships/{p}/mapping/sharing/",
    ):
        with django_assert_max_num_queries(16):
            assert client.get(url).status_code == 200


def test_tally_follows_real_match_runs(world, django_capture_on_commit_callbacks):
    """On PostgreSQL the matrix reads counts kept by triggers: they must equal the live counts
    after the engine's inserts, updates and deletes."""
    from django.db import connection
    from django.db.models import Count

    from mapping.lists.services.imports import account_records_push
    from mapping.models import Overlap, OverlapTally
    from tests.mapping.conftest import pushed_pair
    from tests.mapping.conftest import records_of as records

    mine, theirs, left, _right, _truth = pushed_pair(world, django_capture_on_commit_callbacks, n=80, seed=5)
    with django_capture_on_commit_callbacks(execute=True):  # edits and removals: updates and deletes
        account_records_push(
            actor=world.owner, account_list=mine, records=records(left, "L")[10:], mode="replace"
        )
    live = Overlap.objects.filter(status="match").count()
    assert live > 0
    share(world.partner, world.partnership, theirs, "counts")
    matrix = overlap_matrix_for(org=world.owner_org, partnership=world.partnership)
    private = Overlap.objects.filter(status="match", right_record__private=True).count()
    assert matrix.cell(mine.pk, theirs.pk).count == live - private
    if connection.vendor == "postgresql":
        tally = {
            (t.left_list_id, t.right_list_id): t.matches for t in OverlapTally.objects.exclude(matches=0)
        }
        counted = dict(
            Overlap.objects.filter(status="match")
            .values_list("left_list_id", "right_list_id")
            .annotate(n=Count("pk"))
            .values_list("left_list_id", "n")
        )
        assert tally == {(mine.pk, theirs.pk): counted[mine.pk]}


def test_the_plain_first_page_equals_the_querysets_page(m):
    """rows() reads common pages in one plain query: the same rows as queryset() would give,
    ties on the score included, private records of theirs left out, either side."""
    from mapping.sharing.selectors import OverlapFilters, overlap_listing_for

    w = m.w
    share(w.partner, w.partnership, m.pc, "overlaps", fields=["name"])
    share(w.partner, w.partnership, m.pp, "overlaps", fields=["name", "region"])
    share(w.owner, w.partnership, m.oc, "overlaps", fields=["name"])
    share(w.owner, w.partnership, m.op, "overlaps", fields=["name"])
    for i in range(24):
        a = make_record(m.oc if i % 3 else m.op, f"Tie {i}")
        b = make_record(m.pc if i % 2 else m.pp, f"PARTNERNAME Tie {i}", private=(i % 7 == 0))
        link(w.partnership, a, b, score=(0.6, 0.8, 0.9)[i % 3])
    checked = 0
    for org, user in ((w.owner_org, w.owner), (w.partner_org, w.partner)):
        for sort in ("-score", "score"):
            for min_score in (None, 0.75):
                for view in ("", "shared-customers", "intros"):
                    filters = OverlapFilters(sort=sort, min_score=min_score, view=view)
                    listing = overlap_listing_for(
                        org=org, partnership=w.partnership, user=user, filters=filters
                    )
                    for offset, limit in ((0, 50), (0, 5), (5, 7), (40, 10)):
                        plain = listing._plain_page(offset, limit)
                        assert plain is not None
                        expected = list(listing._values(listing.queryset())[offset : offset + limit])
                        assert plain == expected, (org, sort, min_score, view, offset)
                        checked += len(plain)
    assert checked > 100
    searched = overlap_listing_for(
        org=w.owner_org, partnership=w.partnership, user=w.owner, filters=OverlapFilters(search="Tie")
    )
    assert searched._plain_page(0, 50) is None  # filters on records: the queryset's way
