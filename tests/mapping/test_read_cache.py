"""The read cache of the overlap matrix and overlap pages (mapping.sharing.read_cache): every committed
change to what they are made of bumps a read stamp, so the next request computes afresh; a
cached answer is always the answer computed now. PostgreSQL only (elsewhere nothing is cached).

These tests commit (transaction=True): the stamps move at commit."""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Organization, Partnership
from mapping.models import AccountList, AccountRecord, Overlap, SharingRule
from mapping.sharing import read_cache
from mapping.sharing.services import records_set_private
from tests.mapping.test_sharing_helpers import link, make_list, make_record, portal, share

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only(db):
    if connection.vendor != "postgresql":
        pytest.skip("read stamps are kept by PostgreSQL triggers; elsewhere nothing is cached")


@pytest.fixture
def data(world):
    """Two lists a side, three records each, three matched pairs, the partner's customers shared
    with the owner at "overlapping accounts" (name)."""
    owner_c, owner_p = (
        make_list(world.owner_org, "Owner customers"),
        make_list(world.owner_org, "Owner prospects", "prospects"),
    )
    partner_c = make_list(world.partner_org, "Partner customers")
    partner_p = make_list(world.partner_org, "Partner prospects", "prospects")
    mine = [make_record(owner_c if i % 2 else owner_p, f"Mine {i}") for i in range(6)]
    theirs = [make_record(partner_c if i % 2 else partner_p, f"Theirs {i}") for i in range(6)]
    for i in range(6):
        link(world.partnership, mine[i], theirs[(i * 5) % 6], score=0.5 + i / 20)
    share(world.partner, world.partnership, partner_c, "overlaps", ["name"])
    share(world.owner, world.partnership, owner_c, "all", ["name", "domain"])
    return {"lists": [owner_c, owner_p, partner_c, partner_p], "mine": mine, "theirs": theirs}


def _keys(world):
    return read_cache.stamp_keys(world.partnership)


def _stamps(world) -> dict:
    return dict(zip(_keys(world), read_cache.stamps(_keys(world)), strict=True))


CHANGES = {
    "record field": (
        lambda w, d: AccountRecord.objects.filter(pk=d["theirs"][1].pk).update(name="Renamed"),
        "o",
        "partner",
    ),
    "record private": (
        lambda w, d: records_set_private(
            actor=w.partner, account_list=d["lists"][2], record_ids=[d["theirs"][1].pk], private=True
        ),
        "o",
        "partner",
    ),
    # its overlaps go with it
    "record deleted": (lambda w, d: AccountRecord.objects.filter(pk=d["mine"][0].pk).delete(), "op", "owner"),
    "record added": (lambda w, d: make_record(d["lists"][0], "New"), "o", "owner"),
    "list renamed": (
        lambda w, d: AccountList.objects.filter(pk=d["lists"][3].pk).update(name="X"),
        "o",
        "partner",
    ),
    "rule changed": (lambda w, d: share(w.partner, w.partnership, d["lists"][2], "counts"), "p", None),
    "overlap removed": (
        lambda w, d: Overlap.objects.filter(partnership=w.partnership).first().delete(),
        "p",
        None,
    ),
    "overlap rescored": (
        lambda w, d: Overlap.objects.filter(partnership=w.partnership).update(score=0.1),
        "p",
        None,
    ),
    "partnership ended": (
        lambda w, d: Partnership.objects.filter(pk=w.partnership.pk).update(status="ended"),
        "p",
        None,
    ),
    "organization renamed": (
        lambda w, d: Organization.objects.filter(pk=w.partner_org.pk).update(name="Renamed"),
        "o",
        "partner",
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_each_committed_change_bumps_its_stamp_and_only_it(world, data, change):
    do, scope, side = CHANGES[change]
    before = _stamps(world)
    do(world, data)
    after = _stamps(world)
    org = {"owner": world.owner_org, "partner": world.partner_org}.get(side)
    bumped = {f"p{world.partnership.pk}"} if "p" in scope else set()
    bumped |= {f"o{org.pk}"} if "o" in scope else set()
    assert all(after[key] > before[key] for key in bumped)
    assert {k: v for k, v in after.items() if k not in bumped} == {
        k: v for k, v in before.items() if k not in bumped
    }


def test_an_outsiders_change_bumps_nothing_of_ours(world, data):
    before = _stamps(world)
    make_record(make_list(world.outsider_org, "Theirs"), "Outsider account")
    Organization.objects.filter(pk=world.outsider_org.pk).update(name="Elsewhere")
    assert _stamps(world) == before


def test_uncommitted_changes_of_this_transaction_are_read_live(world, data):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert read_cache.cached("t", partnership=world.partnership, parts=(), compute=compute) == 1
    assert read_cache.cached("t", partnership=world.partnership, parts=(), compute=compute) == 1  # kept
    with transaction.atomic():
        share(world.partner, world.partnership, data["lists"][2], "hidden")
        assert read_cache.stamps(_keys(world)) is None
        assert read_cache.cached("t", partnership=world.partnership, parts=(), compute=compute) == 2
        assert read_cache.cached("t", partnership=world.partnership, parts=(), compute=compute) == 3
    assert read_cache.cached("t", partnership=world.partnership, parts=(), compute=compute) == 4  # new stamp
    assert read_cache.cached("t", partnership=world.partnership, parts=("other",), compute=compute) == 5
    with transaction.atomic():  # reading only: cached as outside
        assert read_cache.cached("t", partnership=world.partnership, parts=(), compute=compute) == 4
    with transaction.atomic():  # having written anything (here a list of the outsider's): live
        make_list(world.outsider_org, "Elsewhere")
        assert read_cache.cached("t", partnership=world.partnership, parts=(), compute=compute) == 6


def _urls(world):
    p = world.partnership.pk
    return [
        f"/api/partnerships/{p}/overlap-matrix/",
        f"/api/partnerships/{p}/overlaps/",
        f"/api/partnerships/{p}/overlaps/?page_size=2&page=2",
        f"/api/partnerships/{p}/overlaps/?mine=1",
        f"/api/partnerships/{p}/overlaps/?search=Theirs&sort=name",
    ]


def _portal_urls(world):
    p = world.partnership.pk
    return [
        f"/partnerships/{p}/mapping/",
        f"/partnerships/{p}/mapping/overlaps/",
        f"/partnerships/{p}/mapping/overlaps/?view=shared-customers",
        f"/partnerships/{p}/mapping/overlaps/?mine=on",
        f"/partnerships/{p}/mapping/overlaps/?q=Theirs&sort=name&page=2",
    ]


def _main(html: str) -> str:
    """The page's <main> (the rest holds a fresh CSRF token at every request)."""
    return html[html.index("<main>") : html.index("</main>")]


def _bodies(world, cached: bool, settings_) -> list:
    settings_.READ_CACHE = cached
    out = []
    for user in (world.owner, world.partner):
        api = world.api(user)
        for url in _urls(world):
            response = api.get(url)
            out.append((user.email, url, response.status_code, json.loads(response.content)))
        browser = portal(user)
        for url in _portal_urls(world):
            response = browser.get(url)
            out.append(
                (
                    user.email,
                    url,
                    response.status_code,
                    _main(response.content.decode())
                    if response.status_code == 200
                    else response.get("Location"),
                )
            )
    return out


def test_a_hit_reads_only_the_stamps_and_a_revocation_is_honoured_by_the_next_request(world, data, settings):
    api = world.api(world.owner)
    url = f"/api/partnerships/{world.partnership.pk}/overlaps/"
    first = api.get(url)
    assert first.status_code == 200 and first.json()["count"] == 3
    with CaptureQueriesContext(connection) as hit:
        second = api.get(url)
    assert second.content == first.content and second["Content-Type"] == "application/json"
    assert len(hit.captured_queries) == 3, [
        q["sql"] for q in hit.captured_queries
    ]  # membership, partnership, stamps
    browser, page = portal(world.owner), f"/partnerships/{world.partnership.pk}/mapping/overlaps/"
    assert "Theirs" in browser.get(page).content.decode()
    with CaptureQueriesContext(connection) as hit:
        assert "Theirs" in browser.get(page).content.decode()
    # session, user, memberships (for the MFA check, the organization and its switcher), partnership, stamps
    assert len(hit.captured_queries) == 5, "\n".join(q["sql"][:90] for q in hit.captured_queries)
    share(world.partner, world.partnership, data["lists"][2], "counts")  # the partner downgrades
    assert "Theirs" not in browser.get(page).content.decode()
    after = api.get(url)
    assert after.json()["count"] == 0 and "Theirs" not in after.content.decode()
    matrix = api.get(f"/api/partnerships/{world.partnership.pk}/overlap-matrix/").json()
    assert [c["level"] for c in matrix["columns"] if c["id"] == data["lists"][2].pk] == ["counts"]


OPS = st.lists(
    st.tuples(
        st.sampled_from(["rule", "private", "rename", "unlink", "link", "list", "org", "status"]),
        st.integers(0, 5),
        st.sampled_from(["hidden", "counts", "overlaps", "all"]),
        st.lists(st.sampled_from(["name", "domain", "owner_email"]), unique=True),
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
def test_cached_answers_equal_the_answers_computed_now(world, data, settings, ops):
    """After any sequence of committed changes, every cached API answer (both sides, several
    pages and filters) equals the answer computed with the cache off."""
    lists, mine, theirs = data["lists"], data["mine"], data["theirs"]
    _bodies(world, True, settings)  # fill the cache
    for op, i, level, fields in ops:
        if op == "rule":
            actor = world.owner if i % 4 < 2 else world.partner
            share(actor, world.partnership, lists[i % 4], level, fields)
        elif op == "private":
            record = theirs[i]
            records_set_private(
                actor=world.partner,
                account_list=record.account_list,
                record_ids=[record.pk],
                private=not AccountRecord.objects.get(pk=record.pk).private,
            )
        elif op == "rename":
            AccountRecord.objects.filter(pk=(mine + theirs)[i * 2].pk).update(name=f"Renamed {level} {i}")
        elif op == "unlink":
            Overlap.objects.filter(partnership=world.partnership, left_record=mine[i]).delete()
        elif (
            op == "link"
            and not Overlap.objects.filter(left_record=mine[i], right_record=theirs[5 - i]).exists()
        ):
            link(world.partnership, mine[i], theirs[5 - i], score=0.3 + i / 10)
        elif op == "list":
            AccountList.objects.filter(pk=lists[i % 4].pk).update(name=f"List {i % 4} {level}")
        elif op == "org":
            Organization.objects.filter(pk=world.partner_org.pk).update(name=f"Partner {level}")
        elif op == "status":
            Partnership.objects.filter(pk=world.partnership.pk).update(status="ended" if i % 2 else "active")
        assert _bodies(world, True, settings) == _bodies(world, False, settings), (op, i, level, fields)
    Partnership.objects.filter(pk=world.partnership.pk).update(status="active")


def test_a_shared_redis_cache_serves_hits_and_a_dead_one_is_only_skipped(world, data, settings):
    import redis

    from tests.conftest import require_service

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/14").ping()
        up = True
    except redis.RedisError:
        up = False
    require_service("Redis", up)
    shared = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/14",
    }
    settings.CACHES = {**settings.CACHES, "reads": shared}
    read_cache.clear()
    api, url = world.api(world.owner), f"/api/partnerships/{world.partnership.pk}/overlaps/"
    first = api.get(url)
    with CaptureQueriesContext(connection) as hit:
        assert api.get(url).content == first.content
    assert len(hit.captured_queries) == 3
    read_cache.clear()
    settings.CACHES = {
        **settings.CACHES,
        "reads": {**shared, "LOCATION": "redis://127.0.0.1:1/0"},
    }  # nobody there
    down = api.get(url)
    assert down.status_code == 200 and down.content == first.content


def test_clear_read_cache_command_empties_the_shared_cache(world, data):
    from io import StringIO

    from django.core.cache import caches
    from django.core.management import call_command

    api, url = world.api(world.owner), f"/api/partnerships/{world.partnership.pk}/overlap-matrix/"
    api.get(url)
    assert caches[read_cache.ALIAS]._cache  # the matrix is kept (per-process cache in tests)
    out = StringIO()
    call_command("clear_read_cache", stdout=out)
    assert "emptied" in out.getvalue() and not caches[read_cache.ALIAS]._cache


def test_concurrent_commits_in_opposite_orders_neither_deadlock_nor_lose_a_bump(world, data):
    """Stamps are bumped at commit in key order: two writers touching the same organization and
    partnership in opposite orders, at once, both commit every time and every commit counts."""
    import threading

    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None), params.pop("context", None)
    rule_ids = list(SharingRule.objects.filter(partnership=world.partnership).values_list("pk", flat=True))
    record_ids = [r.pk for r in data["mine"][:2]]
    before = _stamps(world)
    errors, rounds = [], 60

    def writer(k: int):
        with psycopg.connect(**params) as conn:
            for _ in range(rounds):
                statements = [
                    ("UPDATE mapping_accountrecord SET updated_at = now() WHERE id = %s", [record_ids[k]]),
                    ("UPDATE mapping_sharingrule SET updated_at = now() WHERE id = %s", [rule_ids[k]]),
                ]
                try:
                    with conn.transaction():
                        for sql, args in statements if k == 0 else reversed(statements):
                            conn.execute(sql, args)
                except psycopg.Error as exc:
                    errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    after = _stamps(world)
    assert errors == []
    assert after[f"o{world.owner_org.pk}"] - before[f"o{world.owner_org.pk}"] == 2 * rounds
    assert after[f"p{world.partnership.pk}"] - before[f"p{world.partnership.pk}"] == 2 * rounds
