"""Stuck match runs: the watchdog, the operator command and the partnership page's "run again"."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone

from accounts.models import Role
from mapping.matching.services.run_watch import match_runs_watch, record_run_failure, stuck_runs
from mapping.models import MatchRun
from tests.conftest import assert_no_leak
from tests.factories import member
from tests.mapping.test_sharing_helpers import portal

pytestmark = pytest.mark.django_db


def _ago(seconds):
    return timezone.now() - timedelta(seconds=seconds)


def _lost_queued(world, **fields):
    """A run whose message is gone: queued, due long ago."""
    return MatchRun.objects.create(
        partnership=world.partnership, trigger="Customers changed", due_at=_ago(600), **fields
    )


def _silent_running(world):
    return MatchRun.objects.create(
        partnership=world.partnership,
        trigger="t",
        status="running",
        attempts=1,
        started_at=_ago(900),
        heartbeat_at=_ago(600),
    )


def test_a_queued_run_past_its_start_is_sent_again_and_runs(world, lists, django_capture_on_commit_callbacks):
    run = _lost_queued(world)
    assert run.is_stuck and list(stuck_runs()) == [run]
    with django_capture_on_commit_callbacks(execute=True):
        assert match_runs_watch() == {"reclaimed": 0, "resent": 1, "skipped": False}
    run.refresh_from_db()
    assert run.status == "succeeded" and not run.is_stuck  # sent (in-process here) and run
    with django_capture_on_commit_callbacks(execute=True):
        assert match_runs_watch() == {"reclaimed": 0, "resent": 0, "skipped": False}  # nothing twice


def test_a_queued_run_waiting_for_its_start_or_behind_a_live_run_is_left_alone(world, settings):
    settings.MATCH_QUEUED_GRACE_SECONDS = 15
    waiting = MatchRun.objects.create(partnership=world.partnership, trigger="t", due_at=timezone.now())
    assert not waiting.is_stuck and match_runs_watch()["resent"] == 0
    MatchRun.objects.filter(pk=waiting.pk).update(due_at=_ago(600))
    MatchRun.objects.create(
        partnership=world.partnership, trigger="t", status="running", attempts=1, heartbeat_at=timezone.now()
    )
    assert match_runs_watch() == {"reclaimed": 0, "resent": 0, "skipped": False}  # it runs next anyway
    assert not list(stuck_runs())


def test_a_running_run_without_heartbeat_is_reclaimed(world, lists, django_capture_on_commit_callbacks):
    run = _silent_running(world)
    assert run.is_stuck
    with django_capture_on_commit_callbacks(execute=True):
        assert match_runs_watch()["reclaimed"] == 1
    run.refresh_from_db()
    assert run.status == "succeeded" and run.attempts == 2


def test_a_silent_run_folds_into_the_run_waiting_behind_it(world, django_capture_on_commit_callbacks):
    silent = _silent_running(world)
    MatchRun.objects.filter(pk=silent.pk).update(kind="full", changesets=[7])
    waiting = MatchRun.objects.create(
        partnership=world.partnership, trigger="t", due_at=timezone.now(), changesets=[9]
    )
    with django_capture_on_commit_callbacks(execute=False) as sent:
        assert match_runs_watch()["reclaimed"] == 1
    silent.refresh_from_db()
    waiting.refresh_from_db()
    assert silent.status == "failed" and "folded" in silent.error
    assert waiting.kind == "full" and waiting.changesets == [7, 9] and len(sent) == 1


def test_a_failure_is_recorded_by_this_attempt_only(world):
    run = _silent_running(world)
    assert record_run_failure(run, OperationalError("server closed the connection unexpectedly"))
    run.refresh_from_db()
    assert (
        run.status == "failed" and run.error.startswith("OperationalError: server closed") and run.finished_at
    )
    newer = _silent_running(world)
    MatchRun.objects.filter(pk=newer.pk).update(attempts=2)  # the watchdog re-claimed it meanwhile
    assert record_run_failure(newer, RuntimeError("late"))
    newer.refresh_from_db()
    assert newer.status == "running" and newer.error == ""


def test_operator_command_lists_and_resends_stuck_runs(world, lists, django_capture_on_commit_callbacks):
    out = StringIO()
    call_command("match_runs_stuck", stdout=out)
    assert "No stuck match runs." in out.getvalue()
    run = _lost_queued(world)
    out = StringIO()
    call_command("match_runs_stuck", stdout=out)
    assert f"run {run.pk}  partnership {world.partnership.pk}  queued  past its start by" in out.getvalue()
    run.refresh_from_db()
    assert run.status == "queued"  # listing changes nothing
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("match_runs_stuck", "--resend", stdout=out)
    assert "re-sent 1 queued run(s)" in out.getvalue()
    run.refresh_from_db()
    assert run.status == "succeeded"


def test_partnership_page_shows_a_stuck_run_and_lets_list_managers_run_it_again(
    world, lists, django_capture_on_commit_callbacks
):
    run = _lost_queued(world)
    url = f"/partnerships/{world.partnership.pk}/matching/"
    for user in (world.owner, world.partner):
        page = portal(user).get(url).content.decode()
        assert 'id="match-run-stuck"' in page and 'id="run-again"' in page
    viewer = member(world.owner_org, Role.VIEWER, email="viewer@owner.test")
    page = portal(viewer).get(url).content.decode()
    assert 'id="match-run-stuck"' in page and 'id="run-again"' not in page
    refused = portal(viewer).post(url, {"action": "retry"})
    assert refused.status_code in (302, 403) and MatchRun.objects.get(pk=run.pk).status == "queued"
    outsider = portal(world.outsider).get(url)
    assert outsider.status_code == 404
    assert_no_leak(outsider, "Customers changed")
    with django_capture_on_commit_callbacks(execute=True):
        response = portal(world.owner).post(url, {"action": "retry"}, follow=True)
    assert response.status_code == 200
    run.refresh_from_db()
    assert run.status == "succeeded" and run.kind == "full"  # the request folded into it, then it was sent
    page = portal(world.owner).get(url).content.decode()
    assert 'id="match-run-stuck"' not in page


def test_a_fanned_out_run_waiting_for_its_blocks_has_longer(world, lists, settings):
    from mapping.models import AccountList, MatchBlockJob

    settings.MATCH_RUN_STALE_SECONDS, settings.MATCH_FANOUT_STALE_SECONDS = 15, 300
    run = MatchRun.objects.create(
        partnership=world.partnership, trigger="t", status="running", attempts=1, heartbeat_at=_ago(60)
    )
    left, right = AccountList.objects.order_by("id")[:2]
    MatchBlockJob.objects.create(run=run, attempt=1, left_list=left, right_list=right, index=0, pairs=b"")
    assert not run.is_stuck and match_runs_watch()["reclaimed"] == 0  # blocks still in the queue
    MatchRun.objects.filter(pk=run.pk).update(heartbeat_at=_ago(600))
    run.refresh_from_db()
    assert run.is_stuck and match_runs_watch()["reclaimed"] == 1
