"""Matching runs in the database: triggered by list changes, incremental == full, reviewed pairs
win, debounce, crash recovery by the reaper, tenant isolation of runs."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from mapping.lists.services.imports import account_records_push
from mapping.lists.services.lists import account_list_create
from mapping.matching.services.review import match_decision_record
from mapping.matching.services.runs import (
    match_run_execute,
    match_run_request,
    match_run_schedule,
    match_runs_reap,
)
from mapping.models import AccountList, AccountRecord, MatchDecision, MatchRun, Overlap
from tests.conftest import assert_no_leak
from tests.factories import member
from tests.mapping.conftest import records_of, share_both_ways

pytestmark = pytest.mark.django_db


def _overlap_set(partnership):
    return {
        (o.left_record.crm_id, o.right_record.crm_id, round(o.score, 3), o.status)
        for o in Overlap.objects.filter(partnership=partnership).select_related("left_record", "right_record")
    }


def test_import_commit_triggers_a_run_that_finds_the_true_overlaps(world, lists):
    mine, theirs, left, right, truth = lists
    run = MatchRun.objects.filter(partnership=world.partnership).order_by("-id").first()
    assert run.status == MatchRun.Status.SUCCEEDED, run.error
    found = {
        (lr, rr)
        for lr, rr in Overlap.objects.filter(partnership=world.partnership, status="match").values_list(
            "left_record__crm_id", "right_record__crm_id"
        )
    }
    expected = {(f"L{a}", f"R{b}") for a, b in truth[["left_id", "right_id"]].itertuples(index=False)}
    tp = len(found & expected)
    precision, recall = tp / max(len(found), 1), tp / max(len(expected), 1)
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    # every overlap pairs the initiator's record (left) with the partner's (right)
    assert not Overlap.objects.filter(partnership=world.partnership).exclude(left_list=mine).exists()
    assert not Overlap.objects.filter(partnership=world.partnership).exclude(right_list=theirs).exists()
    assert "name" in Overlap.objects.filter(partnership=world.partnership).first().reasons


def test_incremental_run_equals_full_rerun(world, lists, django_capture_on_commit_callbacks):
    mine, theirs, left, right, truth = lists
    records = records_of(left, "L")
    # edit ~3%, remove a few, add a few: a merge push upserts by CRM id
    edited = [dict(r, name=r["name"] + " Holdings") for r in records[:9]]
    added = [
        {"name": f"Brand New Account {i}", "website": f"brandnew{i}.example", "crm_id": f"NEW{i}"}
        for i in range(3)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        account_records_push(actor=world.owner, account_list=mine, records=edited + added, mode="merge")
    with django_capture_on_commit_callbacks(execute=True):
        account_records_push(
            actor=world.owner, account_list=mine, records=records[12:] + added, mode="replace"
        )
    last = MatchRun.objects.filter(partnership=world.partnership).order_by("-id").first()
    assert last.status == MatchRun.Status.SUCCEEDED and last.kind == MatchRun.Kind.INCREMENTAL
    assert last.records_rematched < last.left_records + last.right_records  # it did not redo everything
    incremental = _overlap_set(world.partnership)

    with django_capture_on_commit_callbacks(execute=True):
        match_run_request(actor=world.owner, org=world.owner_org, partnership=world.partnership)
    full = MatchRun.objects.filter(partnership=world.partnership).order_by("-id").first()
    assert full.kind == MatchRun.Kind.FULL and full.status == MatchRun.Status.SUCCEEDED
    assert _overlap_set(world.partnership) == incremental
    assert full.overlaps_added == full.overlaps_removed == full.overlaps_updated == 0


def test_reviewed_pairs_win_over_the_engine_in_later_runs(world, lists, django_capture_on_commit_callbacks):
    share_both_ways(world, *lists[:2])
    overlap = Overlap.objects.filter(partnership=world.partnership, status="match").first()
    with django_capture_on_commit_callbacks(execute=True):
        match_decision_record(
            actor=world.owner,
            org=world.owner_org,
            partnership=world.partnership,
            left_record_id=overlap.left_record_id,
            right_record_id=overlap.right_record_id,
            decision="rejected",
        )
    assert not Overlap.objects.filter(pk=overlap.pk).exists()
    # a pair the engine would never propose, confirmed by a person
    mine, theirs, *_ = lists
    a = (
        AccountRecord.objects.filter(account_list=mine)
        .exclude(pk__in=Overlap.objects.values("left_record_id"))
        .first()
    )
    b = (
        AccountRecord.objects.filter(account_list=theirs)
        .exclude(pk__in=Overlap.objects.values("right_record_id"))
        .first()
    )
    # (each side sees the other's record only at "all accounts": neither overlaps anything)
    from mapping.sharing.services import sharing_rule_set

    sharing_rule_set(
        actor=world.owner, partnership=world.partnership, account_list=mine, level="all", fields=["name"]
    )
    sharing_rule_set(
        actor=world.partner, partnership=world.partnership, account_list=theirs, level="all", fields=["name"]
    )
    for actor, org in ((world.partner, world.partner_org), (world.owner, world.owner_org)):
        with django_capture_on_commit_callbacks(execute=True):
            match_decision_record(
                actor=actor,
                org=org,
                partnership=world.partnership,
                left_record_id=a.pk,
                right_record_id=b.pk,
                decision="confirmed",
            )
        # one side's confirmation alone makes no overlap; both sides' do
        assert Overlap.objects.filter(left_record=a, right_record=b).exists() == (actor == world.owner)
    confirmed = Overlap.objects.get(partnership=world.partnership, left_record=a, right_record=b)
    assert confirmed.confirmed and confirmed.score == 1.0
    # both decisions hold through a full re-run
    with django_capture_on_commit_callbacks(execute=True):
        match_run_request(actor=world.owner, org=world.owner_org, partnership=world.partnership)
    assert Overlap.objects.filter(left_record=a, right_record=b, confirmed=True).exists()
    assert not Overlap.objects.filter(
        left_record_id=overlap.left_record_id, right_record_id=overlap.right_record_id
    ).exists()


def test_decisions_need_the_right_role_and_a_real_pair(world, lists):
    mine, theirs, *_ = lists
    share_both_ways(world, mine, theirs)
    a = AccountRecord.objects.filter(account_list=mine).first()
    b = AccountRecord.objects.filter(account_list=theirs).first()
    from prm.common.errors import NotFound, PermissionDeniedError

    rep = member(world.owner_org, Role.SALES_REP)
    with pytest.raises(PermissionDeniedError):
        match_decision_record(
            actor=rep,
            org=world.owner_org,
            partnership=world.partnership,
            left_record_id=a.pk,
            right_record_id=b.pk,
            decision="confirmed",
        )
    with pytest.raises(NotFound):
        match_decision_record(
            actor=world.outsider,
            org=world.outsider_org,
            partnership=world.partnership,
            left_record_id=a.pk,
            right_record_id=b.pk,
            decision="confirmed",
        )
    with pytest.raises(NotFound):  # records swapped: not a pair of this partnership
        match_decision_record(
            actor=world.owner,
            org=world.owner_org,
            partnership=world.partnership,
            left_record_id=b.pk,
            right_record_id=a.pk,
            decision="confirmed",
        )
    assert not MatchDecision.objects.exists()


def test_changes_while_a_run_waits_fold_into_it(world, lists):
    first = match_run_schedule(partnership=world.partnership, trigger="a", changeset_ids=[1])
    # (eager mode ran it at once; park a queued one by hand to see the folding)
    MatchRun.objects.filter(pk=first.pk).update(status=MatchRun.Status.SUCCEEDED)
    queued = MatchRun.objects.create(partnership=world.partnership, trigger="waiting", changesets=[5])
    again = match_run_schedule(partnership=world.partnership, trigger="b", changeset_ids=[7])
    assert again.pk == queued.pk
    queued.refresh_from_db()
    assert queued.changesets == [5, 7]
    assert MatchRun.objects.filter(partnership=world.partnership, status="queued").count() == 1


def test_run_is_claimed_once(world, lists):
    run = MatchRun.objects.create(partnership=world.partnership, trigger="test")
    assert match_run_execute(run_id=run.pk) == "succeeded"
    assert match_run_execute(run_id=run.pk) == "skipped"  # a re-delivered message does nothing


def test_reaper_requeues_a_run_whose_worker_died(world, lists, settings, django_capture_on_commit_callbacks):
    settings.MATCH_RUN_STALE_SECONDS = 60
    before = _overlap_set(world.partnership)
    Overlap.objects.filter(partnership=world.partnership).delete()  # as if the dead worker was mid-write
    dead = MatchRun.objects.create(
        partnership=world.partnership,
        trigger="crash",
        kind=MatchRun.Kind.FULL,
        status=MatchRun.Status.RUNNING,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
        started_at=timezone.now() - timedelta(minutes=6),
    )
    fresh = MatchRun.objects.create(
        partnership=world.partnership,
        trigger="other",
        status=MatchRun.Status.SUCCEEDED,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert match_runs_reap() == 1  # eager: re-queued and re-run at once
    dead.refresh_from_db()
    assert dead.status == MatchRun.Status.SUCCEEDED and dead.attempts == 1
    assert _overlap_set(world.partnership) == before
    assert match_runs_reap() == 0
    fresh.refresh_from_db()
    assert fresh.status == MatchRun.Status.SUCCEEDED


def test_segments_are_not_matched_on_their_own(world, lists, django_capture_on_commit_callbacks):
    mine, *_ = lists
    with django_capture_on_commit_callbacks(execute=True):
        account_list_create(
            actor=world.owner,
            org=world.owner_org,
            name="US customers",
            kind=AccountList.Kind.CUSTOM,
            base_list=mine,
            filters={"country": ["US"]},
        )
    with django_capture_on_commit_callbacks(execute=True):
        match_run_request(actor=world.owner, org=world.owner_org, partnership=world.partnership)
    assert set(Overlap.objects.values_list("left_list_id", flat=True)) == {mine.pk}


@pytest.mark.parametrize("actor", ["owner", "partner"])
def test_both_sides_see_run_progress(world, lists, actor):
    response = world.api(getattr(world, actor)).get(f"/api/partnerships/{world.partnership.pk}/match-runs/")
    assert response.status_code == 200
    run = response.json()["results"][0]
    assert run["status"] == "succeeded" and run["progress"] == 100


def test_outsider_sees_no_runs(world, lists):
    api = world.api(world.outsider)
    run = MatchRun.objects.filter(partnership=world.partnership).first()
    for url in (
        f"/api/partnerships/{world.partnership.pk}/match-runs/",
        f"/api/partnerships/{world.partnership.pk}/match-runs/{run.pk}/",
    ):
        response = api.get(url)
        assert response.status_code == 404
        assert_no_leak(response, "Owner Co", "Partner Co", "Customers")
    post = api.post(f"/api/partnerships/{world.partnership.pk}/match-runs/")
    assert post.status_code == 404
    # a run id of another partnership is not reachable through mine either
    assert (
        world.api(world.owner).get(f"/api/partnerships/{world.partnership.pk}/match-runs/999999/").status_code
        == 404
    )


def test_request_rerun_via_api_needs_list_rights(world, lists):
    url = f"/api/partnerships/{world.partnership.pk}/match-runs/"
    rep = member(world.owner_org, Role.SALES_REP)
    assert world.api(rep).post(url).status_code == 403
    response = world.api(world.owner).post(url)
    assert response.status_code == 202
    assert response.json()["kind"] == "full"


def test_run_list_query_count(world, lists, django_assert_max_num_queries):
    for _ in range(5):
        MatchRun.objects.create(partnership=world.partnership, trigger="x", status="succeeded")
    with django_assert_max_num_queries(4):
        response = world.api(world.owner).get(f"/api/partnerships/{world.partnership.pk}/match-runs/")
    assert response.json()["count"] >= 6


def test_big_list_pairs_fan_out_in_blocks_and_end_like_one_run(
    world, lists, settings, django_capture_on_commit_callbacks
):
    one_shot = _overlap_set(world.partnership)
    settings.MATCH_FANOUT_MIN_RECORDS = 10  # every list pair is "big" here
    settings.MATCH_FANOUT_BLOCKS = 3
    with django_capture_on_commit_callbacks(execute=True):
        match_run_request(actor=world.owner, org=world.owner_org, partnership=world.partnership)
    run = MatchRun.objects.filter(partnership=world.partnership).order_by("-id").first()
    assert run.status == MatchRun.Status.SUCCEEDED, run.error
    assert "split" in run.timings  # it went through the blocks
    assert _overlap_set(world.partnership) == one_shot
    assert (run.overlaps_added, run.overlaps_removed) == (0, 0)
    from mapping.models import MatchBlockJob

    assert not MatchBlockJob.objects.exists()  # cleaned up


def test_a_stale_chord_does_not_finish_a_newer_attempt(world, lists):
    from mapping.matching.services.runs import match_run_finish

    run = MatchRun.objects.create(partnership=world.partnership, trigger="t", status="running", attempts=2)
    assert match_run_finish(run_id=run.pk, attempt=1) == "stale"
    run.refresh_from_db()
    assert run.status == MatchRun.Status.RUNNING


def test_an_owners_e_mail_is_not_the_accounts_domain(world, django_capture_on_commit_callbacks):
    """Accounts without a website keep no stem from their owner's e-mail (the list owner's own
    rep): before, every such account got the list owner's stem and matched the partner's record
    of the list owner itself."""
    with django_capture_on_commit_callbacks(execute=True):
        mine = account_list_create(actor=world.owner, org=world.owner_org, name="Customers")
        theirs = account_list_create(actor=world.partner, org=world.partner_org, name="Customers")
    owner_domain = "northwind.example"
    with django_capture_on_commit_callbacks(execute=True):
        account_records_push(
            actor=world.owner,
            account_list=mine,
            mode="replace",
            records=[
                {
                    "name": "Globex Holdings",
                    "country": "DE",
                    "crm_id": "L1",
                    "owner_email": f"rep@{owner_domain}",
                },
                {"name": "Initech", "country": "US", "crm_id": "L2", "owner_email": f"rep@{owner_domain}"},
            ],
        )
    with django_capture_on_commit_callbacks(execute=True):
        account_records_push(
            actor=world.partner,
            account_list=theirs,
            mode="replace",
            records=[
                # the partner lists the list owner itself as a customer: the classic case
                {"name": "Northwind", "website": f"https://{owner_domain}", "country": "DE", "crm_id": "R1"},
                {"name": "Initech", "country": "US", "crm_id": "R2", "owner_email": "rep@partner.example"},
            ],
        )
    stored = AccountRecord.objects.filter(account_list=mine)
    assert set(stored.values_list("stem", "email_domain_norm")) == {("", "")}
    pairs = set(
        Overlap.objects.filter(partnership=world.partnership).values_list(
            "left_record__crm_id", "right_record__crm_id"
        )
    )
    assert ("L1", "R1") not in pairs and ("L2", "R1") not in pairs
    assert ("L2", "R2") in pairs  # the real match still found, by name and country
