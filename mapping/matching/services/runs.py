"""Matching runs: schedule them when lists change, execute them on a worker, store overlaps.

A partnership's run matches every list of the initiator (left) against every list of the partner
(right); custom segments are views of their base list and are not matched on their own. Each list
pair keeps a MatchState so that the next run re-scores only the records that changed; the result
is the same as a full re-run (tested), also when lists change while a run reads them: each run takes
a change-set watermark while no change is in flight, reads everything else in one snapshot, and
stores exactly which change sets it covered (MatchRun.covered, MatchState.*_changeset_id).

Faults: runs are claimed with conditional UPDATEs and beat a heartbeat from a thread all along; the
watchdog (every worker, on a timer, and beat) re-claims a running run whose heartbeat stopped and
re-sends a queued run whose message was lost. A failing run records its error on a fresh database
connection if its own died.

Matching one pair of lists (frames, incremental state, overlaps written) is in pairs.py.
"""

from __future__ import annotations

import logging
import socket
import time

import numpy as np
from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Organization, Partnership
from accounts.roles import Capability
from accounts.services.common import require_capability
from mapping.engine import (
    NORMALIZED_COLUMNS,
    MatchBlock,
    match_block,
    merge_block_results,
    split_blocks,
)
from mapping.lists.models import AccountList, AccountRecord
from mapping.matching.models import MatchBlockJob, MatchRun, MatchState, Overlap
from mapping.matching.services.engine_blobs import (
    engine_blob,
    stored_block_pairs,
    stored_block_result,
)
from mapping.matching.services.pairs import (
    PairOutcome,
    RunLost,
    _add_outcome,
    _decisions,
    _frame,
    _hold_run,
    _is_big,
    _snapshot,
    _watermarks,
    _write_overlaps,
    engine_config,
    match_list_pair,
)
from mapping.matching.services.run_watch import (
    Heartbeat,
    dispatch_run,
    match_runs_watch,
    record_run_failure,
)
from prm.common.errors import Conflict, NotFound

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------ scheduling


def matchable_lists(org_id: int) -> list[int]:
    return list(
        AccountList.objects.filter(organization_id=org_id)
        .exclude(kind=AccountList.Kind.CUSTOM)
        .order_by("id")
        .values_list("id", flat=True)
    )


def _due(countdown: float | None = None):
    delay = settings.MATCH_DEBOUNCE_SECONDS if countdown is None else countdown
    return timezone.now() + timezone.timedelta(seconds=delay)


def match_run_schedule(
    *,
    partnership: Partnership,
    trigger: str,
    changeset_ids: list[int] | None = None,
    full: bool = False,
    requested_by=None,
) -> MatchRun:
    """Queue a run, or fold the change into the run already waiting (debounce)."""
    with transaction.atomic():
        # Serialize schedulers of one partnership: lock its row.
        Partnership.objects.select_for_update().filter(pk=partnership.pk).first()
        queued = MatchRun.objects.filter(partnership=partnership, status=MatchRun.Status.QUEUED).first()
        if queued is not None:
            queued.changesets = sorted(set(queued.changesets) | set(changeset_ids or []))
            if full:
                queued.kind = MatchRun.Kind.FULL
            queued.save(update_fields=["changesets", "kind", "updated_at"])
            return queued
        run = MatchRun.objects.create(
            partnership=partnership,
            trigger=trigger[:200],
            kind=MatchRun.Kind.FULL if full else MatchRun.Kind.INCREMENTAL,
            changesets=sorted(set(changeset_ids or [])),
            requested_by=requested_by,
            due_at=_due(),
        )
        transaction.on_commit(lambda: dispatch_run(run.pk))
        return run


def schedule_for_list_change(list_id: int, changeset_id: int) -> list[int]:
    """Called after a committed change to a list: a run for every active partnership of its owner."""
    account_list = AccountList.objects.filter(pk=list_id).select_related("organization").first()
    if account_list is None or account_list.kind == AccountList.Kind.CUSTOM:
        return []
    org = account_list.organization
    runs = []
    partnerships = Partnership.objects.filter(
        Q(initiator=org) | Q(partner=org), status=Partnership.Status.ACTIVE
    )
    for partnership in partnerships:
        run = match_run_schedule(
            partnership=partnership, trigger=f"{account_list.name} changed", changeset_ids=[changeset_id]
        )
        runs.append(run.pk)
    return runs


def match_run_request(*, actor, org: Organization, partnership: Partnership) -> MatchRun:
    """A partner manager asks for a full re-match now."""
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_LISTS)
    if not partnership.involves(org):
        raise NotFound("Partnership not found.")
    if partnership.status != Partnership.Status.ACTIVE:
        raise Conflict("This partnership has ended.")
    return match_run_schedule(partnership=partnership, trigger="requested", full=True, requested_by=actor)


# ------------------------------------------------------------------------------------- execution


def _claim(run_id: int) -> MatchRun | None:
    """Take a queued run (or a running one whose worker stopped beating). None: not ours to run."""
    now = timezone.now()
    stale_before = now - timezone.timedelta(seconds=settings.MATCH_RUN_STALE_SECONDS)
    fields = {
        "status": MatchRun.Status.RUNNING,
        "started_at": now,
        "heartbeat_at": now,
        "attempts": F("attempts") + 1,
        "worker": socket.gethostname()[:200],
    }
    try:
        with transaction.atomic():
            claimed = MatchRun.objects.filter(pk=run_id, status=MatchRun.Status.QUEUED).update(**fields)
            if not claimed:
                claimed = MatchRun.objects.filter(
                    pk=run_id, status=MatchRun.Status.RUNNING, heartbeat_at__lt=stale_before
                ).update(**fields)
    except IntegrityError:
        return None  # another run of this partnership is running; the task retries later
    return MatchRun.objects.select_related("partnership").get(pk=run_id) if claimed else None


def _beat(run: MatchRun, **fields) -> None:
    MatchRun.objects.filter(pk=run.pk, status=MatchRun.Status.RUNNING, attempts=run.attempts).update(
        heartbeat_at=timezone.now(), **fields
    )


_LOST_CONNECTION = (OperationalError, InterfaceError)


def match_run_execute(*, run_id: int) -> str:
    """Run a queued match run to the end. Safe to call twice and after a crash."""
    run = _claim(run_id)
    if run is None:
        status = MatchRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
        if status == MatchRun.Status.QUEUED:
            return "busy"
        return "skipped"
    partnership = run.partnership
    covered: dict = {}
    try:
        with Heartbeat(run):
            lefts = (
                matchable_lists(partnership.initiator_id)
                if partnership.status == Partnership.Status.ACTIVE
                else []
            )
            rights = (
                matchable_lists(partnership.partner_id)
                if partnership.status == Partnership.Status.ACTIVE
                else []
            )
            pairs = [(a, b) for a in lefts for b in rights]
            _beat(run, list_pairs=len(pairs))
            with transaction.atomic():
                _hold_run(run)
                # Overlaps of lists that no longer exist or no longer pair up go away.
                Overlap.objects.filter(partnership=partnership).exclude(left_list_id__in=lefts).delete()
                Overlap.objects.filter(partnership=partnership).exclude(right_list_id__in=rights).delete()
            totals = {
                "left_records": 0,
                "right_records": 0,
                "records_rematched": 0,
                "matches": 0,
                "review": 0,
                "overlaps_added": 0,
                "overlaps_removed": 0,
                "overlaps_updated": 0,
            }
            timings = {"load": 0.0, "engine": 0.0, "write": 0.0}
            big = [pair for pair in pairs if _is_big(*pair)]
            for done, (left_id, right_id) in enumerate([p for p in pairs if p not in big], start=1):
                outcome = match_list_pair(
                    run=run,
                    left_list_id=left_id,
                    right_list_id=right_id,
                    force_full=run.kind == MatchRun.Kind.FULL,
                    covered=covered,
                )
                _add_outcome(totals, timings, outcome)
                _beat(run, list_pairs_done=done, progress=int(100 * done / len(pairs)), covered=covered)
            if big:
                _fan_out(run, big, totals, timings, covered)
                return "fanned-out"
            finished = MatchRun.objects.filter(
                pk=run.pk, status=MatchRun.Status.RUNNING, attempts=run.attempts
            ).update(
                status=MatchRun.Status.SUCCEEDED,
                progress=100,
                finished_at=timezone.now(),
                covered=covered,
                timings={k: round(v, 3) for k, v in timings.items()},
                **totals,
            )
            if not finished:
                raise RunLost(f"match run {run.pk} attempt {run.attempts} was taken over")
    except RunLost:
        log.warning(
            "match run %s: attempt %s was taken over by another worker; stopping", run.pk, run.attempts
        )
        return "lost"
    except Exception as exc:
        log.exception("match run %s failed", run.pk)
        record_run_failure(run, exc)
        if isinstance(exc, _LOST_CONNECTION) and not run.trigger.startswith("retry"):
            # The database went away under the run (nothing of it was written: each write is one
            # transaction). A follow-up run covers the same changes once it is back.
            _schedule_retry(run)
        _dispatch_waiting(partnership.pk)
        return "failed"
    _dispatch_waiting(partnership.pk)
    return "succeeded"


def _schedule_retry(run: MatchRun) -> None:
    try:
        match_run_schedule(
            partnership=run.partnership,
            trigger=f"retry of run {run.pk} (database connection lost)",
            changeset_ids=list(run.changesets),
            full=run.kind == MatchRun.Kind.FULL,
        )
    except DatabaseError:
        log.warning(
            "could not schedule a retry of match run %s; the next change or the operator will", run.pk
        )


def _fan_out(
    run: MatchRun, big_pairs: list[tuple[int, int]], totals: dict, timings: dict, covered: dict
) -> None:
    """Cut each big list pair into blocks and let a chord score them on all workers; the chord's
    body merges the blocks and finishes the run. Blocks of an earlier attempt are dropped."""
    from celery import chord

    from mapping.matching.tasks import finish_match_run, score_match_block

    config = engine_config(run.partnership_id)
    MatchBlockJob.objects.filter(run=run).delete()
    jobs = []
    for left_id, right_id in big_pairs:
        t0 = time.perf_counter()
        marks = _watermarks([left_id, right_id])
        with _snapshot():
            left, right = _frame(left_id), _frame(right_id)
        covered[str(left_id)], covered[str(right_id)] = marks[left_id], marks[right_id]
        blocks = split_blocks(left, right, settings.MATCH_FANOUT_BLOCKS, config)
        timings["split"] = timings.get("split", 0.0) + time.perf_counter() - t0
        for index, block in enumerate(blocks):
            jobs.append(
                MatchBlockJob(
                    run=run,
                    attempt=run.attempts,
                    left_list_id=left_id,
                    right_list_id=right_id,
                    index=index,
                    # the context learned from the whole lists travels with the block (engine.MatchBlock)
                    pairs=engine_blob(
                        [
                            np.asarray(block.left_ids),
                            np.asarray(block.right_ids),
                            np.asarray(block.passes),
                            block.context,
                        ]
                    ),
                )
            )
        _beat(run)
    MatchBlockJob.objects.bulk_create(jobs)
    # What the inline part did so far, for the body to add to.
    MatchRun.objects.filter(pk=run.pk).update(
        heartbeat_at=timezone.now(),
        timings={k: round(v, 3) for k, v in timings.items()},
        covered=covered,
        **totals,
    )
    ids = list(MatchBlockJob.objects.filter(run=run, attempt=run.attempts).values_list("id", flat=True))
    header = [score_match_block.si(block_id) for block_id in ids]
    transaction.on_commit(lambda: chord(header)(finish_match_run.si(run.pk, run.attempts)))


def match_block_score(*, block_id: int) -> str:
    """Score one block (a chord header task). Safe to run twice: a scored block is left alone."""
    job = MatchBlockJob.objects.filter(pk=block_id).select_related("run").first()
    if job is None or job.result is not None:
        return "skipped"
    if job.run.status != MatchRun.Status.RUNNING or job.run.attempts != job.attempt:
        return "stale"
    packed = stored_block_pairs(job.pairs)
    if packed is None:
        return "unreadable"  # not a payload we wrote: the run stays incomplete and is re-run
    left_ids, right_ids, passes, *context = packed
    with Heartbeat(job.run):  # the run is alive while any of its blocks is scored
        # Only the records this block's pairs touch.
        left = _frame(job.left_list_id, np.unique(left_ids))
        right = _frame(job.right_list_id, np.unique(right_ids))
        columns = list(NORMALIZED_COLUMNS)
        block = MatchBlock(
            left=left.sort_index()[columns],
            right=right.sort_index()[columns],
            left_ids=left_ids,
            right_ids=right_ids,
            passes=passes,
            context=context[0] if context else None,
        )
        scored = match_block(block, engine_config(job.run.partnership_id))
    MatchBlockJob.objects.filter(pk=job.pk, result__isnull=True).update(
        result=engine_blob(scored), done_at=timezone.now()
    )
    blocks = MatchBlockJob.objects.filter(run_id=job.run_id, attempt=job.attempt)
    done, total = blocks.filter(result__isnull=False).count(), blocks.count()
    _beat(job.run, progress=max(job.run.progress, int(95 * done / max(total, 1))))
    return "scored"


def match_run_finish(*, run_id: int, attempt: int) -> str:
    """Merge the scored blocks of each big list pair, store the overlaps, finish the run."""
    run = MatchRun.objects.filter(pk=run_id, status=MatchRun.Status.RUNNING, attempts=attempt).first()
    if run is None:
        return "stale"
    jobs = MatchBlockJob.objects.filter(run=run, attempt=attempt)
    if jobs.filter(result__isnull=True).exists():
        # A block was lost (its worker died): the reaper re-runs the whole run when the heartbeat stops.
        return "incomplete"
    totals = {
        f: getattr(run, f)
        for f in (
            "left_records",
            "right_records",
            "records_rematched",
            "matches",
            "review",
            "overlaps_added",
            "overlaps_removed",
            "overlaps_updated",
        )
    }
    timings = dict(run.timings)
    config = engine_config(run.partnership_id)
    pairs = sorted(set(jobs.values_list("left_list_id", "right_list_id")))
    try:
        for left_id, right_id in pairs:
            t0 = time.perf_counter()
            results = [
                stored_block_result(r)
                for r in jobs.filter(left_list_id=left_id, right_list_id=right_id)
                .order_by("index")
                .values_list("result", flat=True)
            ]
            if any(r is None for r in results):
                raise ValueError("a scored block is not readable")
            confirmed, rejected = _decisions(run.partnership_id, left_id, right_id)
            result = merge_block_results(results, config, confirmed=confirmed, rejected=rejected)
            t1 = time.perf_counter()
            with transaction.atomic():
                _hold_run(run)
                added, removed, updated = _write_overlaps(run, left_id, right_id, result, confirmed)
                # Blocks keep only the pairs worth keeping, not every candidate's score: the next run
                # of this pair starts from scratch.
                MatchState.objects.filter(
                    partnership_id=run.partnership_id, left_list_id=left_id, right_list_id=right_id
                ).delete()
            statuses = result["status"].value_counts()
            n_left = AccountRecord.objects.filter(account_list_id=left_id).count()
            n_right = AccountRecord.objects.filter(account_list_id=right_id).count()
            _add_outcome(
                totals,
                timings,
                PairOutcome(
                    left_records=n_left,
                    right_records=n_right,
                    rematched=n_left + n_right,
                    matches=int(statuses.get("match", 0)),
                    review=int(statuses.get("review", 0)),
                    added=added,
                    removed=removed,
                    updated=updated,
                    seconds_load=0.0,
                    seconds_engine=t1 - t0,
                    seconds_write=time.perf_counter() - t1,
                ),
            )
        MatchRun.objects.filter(pk=run.pk, status=MatchRun.Status.RUNNING, attempts=attempt).update(
            status=MatchRun.Status.SUCCEEDED,
            progress=100,
            list_pairs_done=run.list_pairs,
            finished_at=timezone.now(),
            timings={k: round(v, 3) for k, v in timings.items()},
            **totals,
        )
    except RunLost:
        return "lost"
    except Exception as exc:
        log.exception("match run %s failed while merging blocks", run.pk)
        record_run_failure(run, exc)
        _dispatch_waiting(run.partnership_id)
        return "failed"
    jobs.delete()
    _dispatch_waiting(run.partnership_id)
    return "succeeded"


def _dispatch_waiting(partnership_id: int) -> None:
    try:
        waiting = MatchRun.objects.filter(
            partnership_id=partnership_id, status=MatchRun.Status.QUEUED
        ).first()
        if waiting is not None:
            MatchRun.objects.filter(pk=waiting.pk, status=MatchRun.Status.QUEUED).update(
                due_at=timezone.now()
            )
            dispatch_run(waiting.pk, countdown=0)
    except DatabaseError:  # the watchdog sends it once the database is back
        log.warning("could not send the run waiting for partnership %s", partnership_id, exc_info=True)


def match_runs_reap() -> int:
    """The watchdog once (see run_watch.match_runs_watch): runs re-claimed or re-sent."""
    outcome = match_runs_watch()
    return outcome["reclaimed"] + outcome["resent"]


def match_run_retry(*, actor, org, partnership: Partnership) -> MatchRun:
    """Someone who manages lists asks to run a stuck run again: a full run is asked for (it folds
    into the run that waits, if one does), then the stuck runs are re-claimed or re-sent now
    instead of at the watchdog's next pass."""
    run = match_run_request(actor=actor, org=org, partnership=partnership)  # checks who asks
    match_runs_watch(resend_all_queued=True)
    return run
