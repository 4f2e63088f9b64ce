"""Match runs under faults: the heartbeat a running run keeps, the error a failing run keeps, and the
watchdog that brings back runs a fault left behind.

- `Heartbeat(run)`: a thread beats the run's row every MATCH_HEARTBEAT_SECONDS while it works (on its
  own database connection), so a long list pair never looks dead and a dead worker stops beating.
- `record_run_failure(run, exc)`: marks the run failed with its error; when the run's connection
  died with the database, on a fresh one (retried while the database comes back).
- `match_runs_watch()`: re-claims running runs with no heartbeat for MATCH_RUN_STALE_SECONDS and
  re-sends queued runs MATCH_QUEUED_GRACE_SECONDS past their due time (their message was lost, e.g.
  with a Redis restart). Every worker runs it every MATCH_WATCHDOG_SECONDS (`start_watchdog`), beat
  sends it every minute as well, and `manage.py match_runs_stuck --resend` runs it by hand. Safe to
  run many times at once: one transaction-level advisory lock, and conditional UPDATEs.
"""

from __future__ import annotations

import logging
import random
import threading
import time

from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from mapping.matching.models import MatchBlockJob, MatchRun

log = logging.getLogger(__name__)


def dispatch_run(run_id: int, countdown: float | None = None) -> bool:
    """Send a run to the workers. A broker that is down is not the caller's error: the run stays
    queued with its due time, and the watchdog sends it again once the broker is back."""
    from mapping.matching.tasks import run_match

    delay = settings.MATCH_DEBOUNCE_SECONDS if countdown is None else countdown
    if settings.CELERY_TASK_ALWAYS_EAGER:
        run_match.apply_async((run_id,))
        return True
    try:
        run_match.apply_async((run_id,), countdown=delay)
    except Exception:  # kombu's OperationalError, redis' ConnectionError, ...
        log.warning(
            "could not send match run %s to the broker; the watchdog will re-send it", run_id, exc_info=True
        )
        return False
    return True


WATCHDOG_LOCK = 0x5052_4D17  # pg_try_advisory_xact_lock key: one watchdog pass at a time


def _now_minus(seconds: float):
    return timezone.now() - timezone.timedelta(seconds=seconds)


class Heartbeat:
    """Beat a running run from a thread while the block runs. Only when the run's transaction is
    not the caller's (a test's open transaction is invisible to another connection)."""

    def __init__(self, run: MatchRun):
        self.run_id, self.attempt = run.pk, run.attempts
        self.interval = float(settings.MATCH_HEARTBEAT_SECONDS)
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        if self.interval > 0 and not connection.in_atomic_block and connection.vendor == "postgresql":
            self._thread = threading.Thread(
                target=self._loop, name=f"match-run-{self.run_id}-heartbeat", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval + 10)
        return False

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    MatchRun.objects.filter(
                        pk=self.run_id, status=MatchRun.Status.RUNNING, attempts=self.attempt
                    ).update(heartbeat_at=timezone.now())
                except DatabaseError:  # the database is away: beat again when it is back
                    log.warning("heartbeat of match run %s failed", self.run_id, exc_info=True)
                    connection.close()
        finally:
            connection.close()  # this thread's own connection


def record_run_failure(run: MatchRun, exc: BaseException, *, patience: float = 60.0) -> bool:
    """Mark this attempt of the run failed with its error. If the database connection is gone,
    throw it away and write on a fresh one, retrying while the database restarts (up to `patience`
    seconds). False if it could not be written (the watchdog re-claims the run later)."""
    message = (f"{type(exc).__name__}: {exc}".strip() or type(exc).__name__)[:2000]
    deadline, pause = time.monotonic() + patience, 0.25
    while True:
        try:
            MatchRun.objects.filter(pk=run.pk, status=MatchRun.Status.RUNNING, attempts=run.attempts).update(
                status=MatchRun.Status.FAILED, error=message, finished_at=timezone.now()
            )
            return True
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block or time.monotonic() > deadline:
                log.error("could not record the failure of match run %s", run.pk, exc_info=True)
                return False
            connection.close()  # the dead connection: the next query opens a fresh one
            time.sleep(pause)
            pause = min(pause * 2, 3.0)


def _live_running_partnerships(stale_before) -> set[int]:
    return set(
        MatchRun.objects.filter(status=MatchRun.Status.RUNNING, heartbeat_at__gte=stale_before).values_list(
            "partnership_id", flat=True
        )
    )


def _silent(stale_before):
    """Running runs with no heartbeat since `stale_before`; a fanned-out run whose blocks wait in
    the queue beats only when a worker scores one, so it has MATCH_FANOUT_STALE_SECONDS."""
    fanout_before = _now_minus(settings.MATCH_FANOUT_STALE_SECONDS)
    waiting_on_blocks = MatchBlockJob.objects.filter(
        run_id=OuterRef("pk"), attempt=OuterRef("attempts"), result__isnull=True
    )
    return (
        MatchRun.objects.filter(status=MatchRun.Status.RUNNING)
        .filter(Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True))
        .exclude(Exists(waiting_on_blocks) & Q(heartbeat_at__gte=fanout_before))
    )


def stuck_runs():
    """Runs past their expected time: running with no heartbeat, queued past their due time plus
    the grace (not counting those waiting behind a live run of their partnership)."""
    stale_before = _now_minus(settings.MATCH_RUN_STALE_SECONDS)
    overdue = _now_minus(settings.MATCH_QUEUED_GRACE_SECONDS)
    silent = _silent(stale_before).values_list("pk", flat=True)
    return (
        MatchRun.objects.filter(
            Q(pk__in=list(silent))
            | Q(status=MatchRun.Status.QUEUED)
            & (Q(due_at__lt=overdue) | Q(due_at__isnull=True, created_at__lt=overdue))
        )
        .exclude(
            Q(status=MatchRun.Status.QUEUED) & Q(partnership_id__in=_live_running_partnerships(stale_before))
        )
        .select_related("partnership")
        .order_by("id")
    )


def match_runs_watch(*, resend_all_queued: bool = False) -> dict:
    """One watchdog pass. Returns {"reclaimed": n, "resent": n, "skipped": bool}."""

    outcome = {"reclaimed": 0, "resent": 0, "skipped": False}
    stale_before = _now_minus(settings.MATCH_RUN_STALE_SECONDS)
    overdue = timezone.now() if resend_all_queued else _now_minus(settings.MATCH_QUEUED_GRACE_SECONDS)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [WATCHDOG_LOCK])
                if not cursor.fetchone()[0]:
                    outcome["skipped"] = True  # another worker's watchdog is at it right now
                    return outcome
        to_send: list[int] = []
        for run in _silent(stale_before).order_by("id"):
            target = _reclaim(run, stale_before)
            if target is not None:
                to_send.append(target)
                outcome["reclaimed"] += 1
        live = _live_running_partnerships(stale_before)
        for run in (
            MatchRun.objects.filter(status=MatchRun.Status.QUEUED)
            .filter(Q(due_at__lt=overdue) | Q(due_at__isnull=True, created_at__lt=overdue))
            .exclude(partnership_id__in=live)
            .exclude(pk__in=to_send)
            .order_by("id")
        ):
            # Its message is gone (lost with the broker, or never sent): send it again, and not
            # again before another grace period.
            if MatchRun.objects.filter(pk=run.pk, status=MatchRun.Status.QUEUED).update(
                due_at=timezone.now()
            ):
                to_send.append(run.pk)
                outcome["resent"] += 1
        transaction.on_commit(lambda: [dispatch_run(pk, countdown=0) for pk in to_send])
    return outcome


def _reclaim(run: MatchRun, stale_before) -> int | None:
    """A running run whose worker stopped beating: folded into the run waiting behind it, or queued
    again. Returns the run to send."""
    waiting = (
        MatchRun.objects.select_for_update()
        .filter(partnership_id=run.partnership_id, status=MatchRun.Status.QUEUED)
        .first()
    )
    lost = Q(heartbeat_at__lt=stale_before) | Q(heartbeat_at__isnull=True)
    if waiting is not None:
        # A newer run waits anyway: it takes over this run's changes.
        if not MatchRun.objects.filter(lost, pk=run.pk, status=MatchRun.Status.RUNNING).update(
            status=MatchRun.Status.FAILED,
            error="Worker lost; folded into the next run.",
            finished_at=timezone.now(),
        ):
            return None
        waiting.changesets = sorted(set(waiting.changesets) | set(run.changesets))
        if run.kind == MatchRun.Kind.FULL:
            waiting.kind = MatchRun.Kind.FULL
        waiting.due_at = timezone.now()
        waiting.save(update_fields=["changesets", "kind", "due_at", "updated_at"])
        return waiting.pk
    if not MatchRun.objects.filter(lost, pk=run.pk, status=MatchRun.Status.RUNNING).update(
        status=MatchRun.Status.QUEUED,
        error="Worker lost; re-queued.",
        due_at=timezone.now(),
    ):
        return None
    return run.pk


# --- the watchdog in every worker -------------------------------------------------------------------

_started = threading.Event()


def _watch_forever(interval: float) -> None:
    time.sleep(random.uniform(0, interval))  # workers started together do not all pass at once  # noqa: S311
    while True:
        try:
            close_old_connections()
            outcome = match_runs_watch()
            if outcome["reclaimed"] or outcome["resent"]:
                log.warning("match-run watchdog: %s", outcome)
        except Exception:  # the database or the broker is away: try again next time
            log.warning("match-run watchdog pass failed", exc_info=True)
            try:
                connection.close()
            except Exception:  # noqa: S110 - already broken; the next pass opens a fresh one
                pass
        time.sleep(interval)


def start_watchdog() -> bool:
    """Start the watchdog thread in this process (once). A worker calls it when it is ready."""
    interval = float(settings.MATCH_WATCHDOG_SECONDS)
    if interval <= 0 or settings.CELERY_TASK_ALWAYS_EAGER or _started.is_set():
        return False
    _started.set()
    threading.Thread(target=_watch_forever, args=(interval,), name="match-run-watchdog", daemon=True).start()
    return True
