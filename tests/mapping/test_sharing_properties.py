"""Property: over random lists, matches and sharing rules, nothing a rule does not allow ever
leaves the server (API, portal page, export, error), and every count is the true overlap size
with private records left out.

Every field value of every record carries a unique marker, so a leak is a substring."""

import uuid

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapping.models import Overlap
from mapping.sharing.models import LEVEL_RANK, SHAREABLE_FIELDS
from tests.mapping.test_sharing_helpers import make_list, make_record, portal, share, text_of

pytestmark = pytest.mark.django_db

LEVELS = ["hidden", "counts", "overlaps", "all"]
MARKED = ("name", "owner_email", "owner_name", "industry", "stage", "crm_id", "city")
EXTRA_KEYS = ("k1", "k2")

record_st = st.fixed_dictionaries({"private": st.booleans(), "region": st.sampled_from(["EMEA", "AMER"])})
rule_st = st.fixed_dictionaries(
    {
        "level": st.sampled_from(LEVELS),
        "fields": st.lists(st.sampled_from(SHAREABLE_FIELDS), unique=True, max_size=4),
        "extra": st.lists(st.sampled_from(EXTRA_KEYS), unique=True, max_size=2),
    }
)
scenario_st = st.fixed_dictionaries(
    {
        # per side: two base lists (customers, prospects) of 0..4 records, and a segment of the first
        "records": st.lists(st.lists(record_st, max_size=4), min_size=4, max_size=4),
        "rules": st.lists(rule_st, min_size=6, max_size=6),  # owner: c, p, seg; partner: c, p, seg
        "pairs": st.lists(
            st.tuples(st.integers(0, 7), st.integers(0, 7), st.sampled_from(["match", "match", "review"])),
            max_size=12,
            unique_by=lambda t: (t[0], t[1]),
        ),
    }
)


def _marker(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def _in_segment(record, account_list) -> bool:
    if account_list.is_segment:
        return record.account_list_id == account_list.base_list_id and all(
            getattr(record, name).casefold() in {v.casefold() for v in values}
            for name, values in account_list.filters.items()
        )
    return record.account_list_id == account_list.pk


def _build(world, scenario):
    sides = {}
    for side, org, actor, offset in (
        ("owner", world.owner_org, world.owner, 0),
        ("partner", world.partner_org, world.partner, 2),
    ):
        c = make_list(org, _marker("LIST"), "customers")
        p = make_list(org, _marker("LIST"), "prospects")
        seg = make_list(
            org, _marker("LIST"), base=c, filters={"region": ["emea" if side == "partner" else "AMER"]}
        )
        records = []
        for account_list, specs in ((c, scenario["records"][offset]), (p, scenario["records"][offset + 1])):
            for spec in specs:
                values = {f: _marker(f[:2].upper()) for f in MARKED}
                values["owner_email"] = f"{values['owner_email'].lower()}@mark.test"
                values["domain"] = values["domain_norm"] = _marker("dom") + ".test"
                extra = {k: _marker("X") for k in EXTRA_KEYS}
                record = make_record(
                    account_list,
                    region=spec["region"],
                    private=spec["private"],
                    extra=extra,
                    **{k: v for k, v in values.items() if k != "name"},
                    name=values["name"],
                )
                records.append(record)
        rules = scenario["rules"][0:3] if side == "owner" else scenario["rules"][3:6]
        for account_list, rule in zip((c, p, seg), rules, strict=True):
            share(actor, world.partnership, account_list, rule["level"], rule["fields"], rule["extra"])
        sides[side] = {
            "lists": [c, p, seg],
            "records": records,
            "rules": dict(zip((c.pk, p.pk, seg.pk), rules, strict=True)),
        }
    overlaps = []
    left, right = sides["owner"]["records"], sides["partner"]["records"]
    used = set()
    for i, j, status in scenario["pairs"]:
        if i < len(left) and j < len(right) and (i, j) not in used:
            used.add((i, j))
            overlaps.append(
                Overlap.objects.create(
                    partnership=world.partnership,
                    left_list_id=left[i].account_list_id,
                    right_list_id=right[j].account_list_id,
                    left_record=left[i],
                    right_record=right[j],
                    score=0.75,
                    status=status,
                    reasons="domain equal; name equal; country equal; city equal; CRM id equal",
                )
            )
    return sides, overlaps


def _check_viewer(world, viewer, mine, theirs, overlaps, my_side):
    """Everything `viewer` can fetch, against what the rules of `theirs` allow."""
    their_side = "right" if my_side == "left" else "left"
    rules = theirs["rules"]
    lists = {lst.pk: lst for lst in theirs["lists"]}
    rank = {pk: LEVEL_RANK[r["level"]] for pk, r in rules.items()}
    matches = [o for o in overlaps if o.status == "match"]

    # what may be shown of each of their records
    allowed: dict[int, set] = {}
    for record in theirs["records"]:
        if record.private:
            continue
        matched = any(getattr(o, f"{their_side}_record_id") == record.pk for o in matches)
        for pk, account_list in lists.items():
            if _in_segment(record, account_list) and (rank[pk] == 3 or (rank[pk] == 2 and matched)):
                allowed.setdefault(record.pk, set()).update(rules[pk]["fields"])
                allowed[record.pk].update(f"extra:{k}" for k in rules[pk]["extra"])

    p = world.partnership.pk
    api = world.api(viewer)
    client = portal(viewer)
    responses = []
    matrix = api.get(f"/api/partnerships/{p}/overlap-matrix/")
    responses.append(matrix)
    body = matrix.json()
    visible = {pk for pk in lists if rank[pk] >= 1}
    assert {c["id"] for c in body["columns"]} == visible
    # counts are the true overlap sizes, their private records left out (mine count for me)
    for row in body["rows"]:
        my_list = next(lst for lst in mine["lists"] if lst.pk == row["id"])
        for cell in row["cells"]:
            their_list = lists[cell["their_list_id"]]
            expected = sum(
                1
                for o in matches
                if _in_segment(getattr(o, f"{my_side}_record"), my_list)
                and _in_segment(getattr(o, f"{their_side}_record"), their_list)
                and not getattr(o, f"{their_side}_record").private
            )
            assert cell["count"] == expected, (my_list.name, their_list.name)
    for column in body["columns"]:
        expected = sum(1 for r in theirs["records"] if not r.private and _in_segment(r, lists[column["id"]]))
        assert column["size"] == expected
    listing = api.get(f"/api/partnerships/{p}/overlaps/", {"page_size": 500})
    responses.append(listing)
    shown = {pk for pk in lists if rank[pk] >= 2}
    expected_rows = [
        o
        for o in matches
        if not getattr(o, f"{their_side}_record").private
        and any(_in_segment(getattr(o, f"{their_side}_record"), lists[pk]) for pk in shown)
    ]
    assert listing.json()["count"] == len(expected_rows)
    responses += [
        api.get(f"/api/partnerships/{p}/overlaps/export.csv"),
        api.get(f"/api/partnerships/{p}/overlaps/", {"view": "shared-customers", "sort": "name"}),
        api.get(f"/api/partnerships/{p}/my-white-space/export.csv"),
        api.get("/api/ecosystem/"),
        client.get(f"/partnerships/{p}/mapping/"),
        client.get(f"/partnerships/{p}/mapping/overlaps/"),
        client.get(f"/partnerships/{p}/mapping/overlaps/export.csv"),
    ]
    for pk in lists:
        for url in (
            f"/api/partnerships/{p}/white-space/?their_list={pk}",
            f"/api/partnerships/{p}/white-space/export.csv?their_list={pk}",
            f"/api/partnerships/{p}/overlaps/?their_list={pk}",
            f"/partnerships/{p}/mapping/white-space/?their_list={pk}",
        ):
            response = api.get(url) if url.startswith("/api/") else client.get(url)
            needed = 3 if "white-space" in url else 2
            assert response.status_code == (200 if rank[pk] >= needed else 404), url
            responses.append(response)
    for record in mine["records"][:3]:
        responses.append(api.get(f"/api/accounts/{record.pk}/partners/"))
    texts = [text_of(r) for r in responses]
    blob = "\n".join(texts)

    for pk, account_list in lists.items():
        if rank[pk] == 0:
            assert account_list.name not in blob, "a hidden list was disclosed"
    for record in theirs["records"]:
        ok = allowed.get(record.pk, set())
        for f in MARKED:
            value = getattr(record, f)
            if f in ok:
                continue
            assert value not in blob, f"{f} of a record leaked (private={record.private})"
        if "domain" not in ok:
            assert record.domain_norm not in blob
        for k in EXTRA_KEYS:
            if f"extra:{k}" not in ok:
                assert record.extra[k] not in blob


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=scenario_st)
def test_nothing_leaves_that_the_rules_do_not_allow(world, scenario):
    with transaction.atomic():
        sides, overlaps = _build(world, scenario)
        overlaps = list(
            Overlap.objects.filter(pk__in=[o.pk for o in overlaps]).select_related(
                "left_record", "right_record"
            )
        )
        _check_viewer(world, world.owner, sides["owner"], sides["partner"], overlaps, "left")
        _check_viewer(world, world.partner, sides["partner"], sides["owner"], overlaps, "right")
        transaction.set_rollback(True)


# ------------------------------------------------------------------ writes by both sides


SIDES = ("owner", "partner")
write_st = st.one_of(
    st.tuples(
        st.just("thresholds"),
        st.sampled_from(SIDES),
        st.sampled_from([None, 0.05, 0.3, 0.6, 0.95]),
        st.sampled_from([None, 0.0, 0.05, 0.3]),
    ),
    st.tuples(
        st.just("decide"),
        st.sampled_from(SIDES),
        st.integers(0, 40),
        st.integers(0, 40),
        st.sampled_from(["confirmed", "rejected"]),
    ),
    st.tuples(
        st.just("review"),
        st.sampled_from(SIDES),
        st.integers(0, 5),
        st.sampled_from(["confirmed", "rejected"]),
    ),
    st.tuples(st.just("train"), st.sampled_from(SIDES), st.sampled_from(["labelled", "unsupervised"])),
    st.tuples(st.just("reset"), st.sampled_from(SIDES)),
)
writes_scenario_st = st.fixed_dictionaries(
    {
        "levels": st.tuples(
            st.sampled_from(["counts", "overlaps", "overlaps", "all"]),
            st.sampled_from(["counts", "overlaps", "overlaps", "all"]),
        ),
        "writes": st.lists(write_st, min_size=1, max_size=6),
    }
)


def _actor(world, side):
    return (world.owner, world.owner_org) if side == "owner" else (world.partner, world.partner_org)


def _apply(world, write, records, capture) -> None:
    """One write through its service, as either side makes it; refusals (4xx) change nothing."""
    from mapping.matching.services.review import (
        match_decision_record,
        match_model_reset,
        match_model_train,
        match_settings_update,
    )
    from mapping.sharing.selectors.review import review_queue_for
    from prm.common.errors import ApplicationError

    kind, side = write[0], write[1]
    actor, org = _actor(world, side)
    common = {"actor": actor, "org": org, "partnership": world.partnership}
    left, right = records
    try:
        with capture(execute=True):
            if kind == "thresholds":
                match_settings_update(**common, threshold=write[2], review_threshold=write[3])
            elif kind == "decide":
                match_decision_record(
                    **common,
                    left_record_id=left[write[2] % len(left)],
                    right_record_id=right[write[3] % len(right)],
                    decision=write[4],
                )
            elif kind == "review":
                rows = review_queue_for(org=org, partnership=world.partnership).rows(write[2], 1)
                if rows:
                    match_decision_record(
                        **common,
                        left_record_id=rows[0]["left_record"],
                        right_record_id=rows[0]["right_record"],
                        decision=write[3],
                    )
            elif kind == "train":
                match_model_train(**common, method=write[2], sample=2000)
            else:
                match_model_reset(**common)
    except ApplicationError:
        pass


def _seen_of_theirs(world, org) -> set[int]:
    """Every record of the other side that org is shown: overlaps, review queue, white space."""
    from mapping.sharing.selectors import (
        OverlapFilters,
        overlap_listing_for,
        partner_lists_for,
        partner_white_space_for,
        side_of,
    )
    from mapping.sharing.selectors.review import review_queue_for

    p = world.partnership
    side = side_of(org=org, partnership=p)
    theirs = f"{side.theirs}_record_id"
    seen = set(
        overlap_listing_for(org=org, partnership=p, user=None, filters=OverlapFilters())
        .queryset()
        .values_list(theirs, flat=True)
    )
    seen |= set(review_queue_for(org=org, partnership=p).queryset().values_list(theirs, flat=True))
    for shared in partner_lists_for(org=org, partnership=p, at_least="all"):
        seen |= set(
            partner_white_space_for(org=org, partnership=p, their_list_id=shared.id)
            .queryset()
            .values_list("pk", flat=True)
        )
    return seen


def _consented_by(world, owner_side: str) -> set[int]:
    """What the owner of records allows the other side to see, by its own writes alone: its
    records in a list it shares at "all accounts", or at "overlapping accounts" in a pair whose
    engine score clears its own threshold, or that it confirmed itself. Not private."""
    from django.conf import settings as django_settings

    from mapping.matching.models import SideDecision
    from mapping.models import MatchSettings, SharingRule

    p = world.partnership
    org = world.owner_org if owner_side == "owner" else world.partner_org
    mine = "left" if owner_side == "owner" else "right"
    side_name = "initiator" if owner_side == "owner" else "partner"
    own = MatchSettings.objects.filter(partnership=p).first()
    bar = (
        own.thresholds_of(side_name, django_settings.MATCH_THRESHOLD, django_settings.MATCH_REVIEW_THRESHOLD)[
            0
        ]
        if own
        else django_settings.MATCH_THRESHOLD
    )
    levels = dict(
        SharingRule.objects.filter(partnership=p, account_list__organization=org).values_list(
            "account_list_id", "level"
        )
    )
    confirmed_by_me = set(
        SideDecision.objects.filter(partnership=p, side=side_name, decision="confirmed").values_list(
            "left_record_id", "right_record_id"
        )
    )
    allowed = set()
    for overlap in Overlap.objects.filter(partnership=p).select_related(f"{mine}_record"):
        record = getattr(overlap, f"{mine}_record")
        pair = (overlap.left_record_id, overlap.right_record_id)
        if overlap.confirmed and pair in confirmed_by_me or not overlap.confirmed and overlap.score >= bar:
            allowed.add(record.pk)
    from mapping.models import AccountRecord

    out = set()
    for record in AccountRecord.objects.filter(account_list__organization=org, private=False):
        level = levels.get(record.account_list_id)
        if level == "all" or (level == "overlaps" and record.pk in allowed):
            out.add(record.pk)
    return out


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(scenario=writes_scenario_st)
def test_no_write_by_either_side_widens_what_it_sees_of_the_other(
    world, scenario, django_capture_on_commit_callbacks
):
    """Thresholds, decisions, reviews, training and resets by both sides, in any order, on lists
    the real engine matched: after every write, what each side sees of the other's records is
    within what that other side's own rules, threshold and confirmations allow."""
    from mapping.models import AccountRecord
    from tests.mapping.conftest import pushed_pair

    with transaction.atomic():
        mine, theirs, *_ = pushed_pair(world, django_capture_on_commit_callbacks, n=30, seed=5)
        share(world.owner, world.partnership, mine, scenario["levels"][0], ["name"])
        share(world.partner, world.partnership, theirs, scenario["levels"][1], ["name"])
        records = (
            list(AccountRecord.objects.filter(account_list=mine).order_by("pk").values_list("pk", flat=True)),
            list(
                AccountRecord.objects.filter(account_list=theirs).order_by("pk").values_list("pk", flat=True)
            ),
        )
        for write in scenario["writes"]:
            _apply(world, write, records, django_capture_on_commit_callbacks)
            for viewer, other in (("owner", "partner"), ("partner", "owner")):
                org = _actor(world, viewer)[1]
                extra = _seen_of_theirs(world, org) - _consented_by(world, other)
                assert not extra, (
                    f"{viewer} sees {len(extra)} record(s) of {other} it did not allow after {write}"
                )
        transaction.set_rollback(True)
