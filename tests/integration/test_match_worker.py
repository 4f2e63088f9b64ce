"""Matching on a real Celery worker: triggered by an import, and surviving a SIGKILL mid-run."""

import time

import pytest
from django.db import connection

from bench.generate import generate_pair
from mapping.lists.services.imports import account_records_push
from mapping.lists.services.lists import account_list_create
from mapping.matching.services.runs import match_run_execute, match_runs_reap
from mapping.models import MatchRun, Overlap
from tests.integration.conftest import start_worker, stop_worker

pytestmark = [pytest.mark.celery_worker]


def _push(actor, account_list, frame, prefix):
    rows = [
        {
            "name": r["name"] or "",
            "website": r["website"] or "",
            "country": r["country"] or "",
            "city": r["city"] or "",
            "postal_code": r["postal_code"] or "",
            "owner_email": r["email"] or "",
            "crm_id": f"{prefix}{rid}",
        }
        for rid, r in frame.fillna("").iterrows()
    ]
    for start in range(0, len(rows), 10_000):
        account_records_push(
            actor=actor, account_list=account_list, records=rows[start : start + 10_000], mode="merge"
        )


def _wait(predicate, timeout=120, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    runs = list(
        MatchRun.objects.values_list("id", "status", "kind", "trigger", "list_pairs", "attempts", "error")
    )
    raise AssertionError(f"timed out waiting; runs: {runs}")


def _overlaps(partnership):
    return set(
        Overlap.objects.filter(partnership=partnership).values_list(
            "left_record__crm_id", "right_record__crm_id", "status"
        )
    )


def test_import_triggers_a_match_run_on_the_worker(world, worker, settings):
    settings.MATCH_DEBOUNCE_SECONDS = 0
    left, right, truth = generate_pair(n=400, seed=3)
    mine = account_list_create(actor=world.owner, org=world.owner_org, name="Customers")
    theirs = account_list_create(actor=world.partner, org=world.partner_org, name="Customers")
    _push(world.owner, mine, left, "L")
    _push(world.partner, theirs, right, "R")  # committed: the hook sends a run through the broker
    run = _wait(
        lambda: MatchRun.objects.filter(
            partnership=world.partnership, status="succeeded", list_pairs=1
        ).first(),
        timeout=90,
        interval=0.3,
    )
    assert run.worker  # claimed by the worker process, not run here
    assert len(_overlaps(world.partnership)) >= 0.9 * len(truth)


def test_run_survives_a_worker_killed_mid_run(world, worker, settings):
    settings.MATCH_DEBOUNCE_SECONDS = 0
    settings.MATCH_RUN_STALE_SECONDS = 2
    left, right, _truth = generate_pair(n=20_000, seed=5)
    mine = account_list_create(actor=world.owner, org=world.owner_org, name="Customers")
    theirs = account_list_create(actor=world.partner, org=world.partner_org, name="Customers")
    _push(world.owner, mine, left, "L")
    _wait(
        lambda: (
            not MatchRun.objects.filter(
                partnership=world.partnership, status__in=["queued", "running"]
            ).exists()
        ),
        interval=0.2,
    )

    _push(world.partner, theirs, right, "R")
    run = _wait(
        lambda: MatchRun.objects.filter(partnership=world.partnership, status="running", list_pairs=1).first()
    )
    stop_worker(worker.process, kill=True)  # SIGKILL: no warm shutdown, no ack
    run.refresh_from_db()
    assert run.status == MatchRun.Status.RUNNING, "the run finished before the kill; make the lists bigger"

    replacement = start_worker(worker.queue)
    try:
        time.sleep(settings.MATCH_RUN_STALE_SECONDS + 0.5)
        assert match_runs_reap() == 1  # heartbeat stale: re-queued and sent to the new worker
        _wait(
            lambda: (
                not MatchRun.objects.filter(
                    partnership=world.partnership, status__in=["queued", "running"]
                ).exists()
            ),
            interval=0.3,
        )
    finally:
        stop_worker(replacement)
    run.refresh_from_db()
    if run.status == MatchRun.Status.SUCCEEDED:
        assert run.attempts == 2  # re-run by the new worker
    else:  # a newer run was already waiting: the killed run's work was folded into it
        assert run.status == MatchRun.Status.FAILED and "folded" in run.error
        later = MatchRun.objects.filter(partnership=world.partnership, pk__gt=run.pk).get()
        assert later.status == MatchRun.Status.SUCCEEDED
    recovered = _overlaps(world.partnership)
    assert recovered

    # A clean full run on the same data ends with the same overlaps.
    clean = MatchRun.objects.create(partnership=world.partnership, trigger="clean", kind=MatchRun.Kind.FULL)
    assert match_run_execute(run_id=clean.pk) == "succeeded"
    clean.refresh_from_db()
    assert (clean.overlaps_added, clean.overlaps_removed, clean.overlaps_updated) == (0, 0, 0)
    assert _overlaps(world.partnership) == recovered
    assert connection.vendor == "postgresql"


def test_big_list_pair_fans_out_over_two_workers_with_a_chord(world, worker, settings):
    """Blocks go to whichever worker is free; the chord's body merges them."""
    settings.MATCH_DEBOUNCE_SECONDS = 0
    stop_worker(worker.process)
    workers = [
        start_worker(worker.queue, MATCH_FANOUT_MIN_RECORDS="100", MATCH_FANOUT_BLOCKS="4") for _ in range(2)
    ]
    try:
        left, right, truth = generate_pair(n=600, seed=9)
        mine = account_list_create(actor=world.owner, org=world.owner_org, name="Customers")
        theirs = account_list_create(actor=world.partner, org=world.partner_org, name="Customers")
        _push(world.owner, mine, left, "L")
        _push(world.partner, theirs, right, "R")
        run = _wait(
            lambda: MatchRun.objects.filter(
                partnership=world.partnership, status="succeeded", list_pairs=1
            ).first(),
            timeout=90,
            interval=0.3,
        )
    finally:
        for proc in workers:
            stop_worker(proc)
    assert "split" in run.timings
    fanned = _overlaps(world.partnership)
    clean = MatchRun.objects.create(partnership=world.partnership, trigger="clean", kind=MatchRun.Kind.FULL)
    assert match_run_execute(run_id=clean.pk) == "succeeded"  # in-process, one shot (no fan-out here)
    assert _overlaps(world.partnership) == fanned
    assert len(fanned) >= 0.9 * len(truth)
