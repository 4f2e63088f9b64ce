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
"""

from __future__ import annotations

import logging
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from accounts.models import Organization, Partnership
from accounts.roles import Capability
from accounts.services.common import require_capability
from mapping.engine import (
    NORMALIZED_COLUMNS,
    MatchBlock,
    MatchConfig,
    match,
    match_block,
    match_incremental,
    merge_block_results,
    prepare,
    split_blocks,
)
from mapping.lists.models import AccountList, AccountRecord, ListChangeSet
from mapping.matching.models import MatchBlockJob, MatchDecision, MatchRun, MatchSettings, MatchState, Overlap
from mapping.matching.services.engine_blobs import (
    engine_blob,
    stored_block_pairs,
    stored_block_result,
    stored_model,
    stored_state,
)
from mapping.matching.services.run_watch import (
    Heartbeat,
    dispatch_run,
    match_runs_watch,
    record_run_failure,
)
from prm.common.errors import Conflict, NotFound

log = logging.getLogger(__name__)

# Bump when a change to the engine makes stored pair scores stale: the next run is then full.
ENGINE_VERSION = "4"  # 4: names normalized anew, word weights and rare-word pass (migration 0012)

# Stored normalized keys the engine reads (it derives the rest: name keys, stem key, CRM id key).
_FRAME_COLUMNS = (
    "id",
    "name_norm",
    "domain_norm",
    "email_domain_norm",
    "stem",
    "country_norm",
    "region_norm",
    "city_norm",
    "postal_norm",
    "crm_id",
)


def engine_config(partnership_id: int | None = None) -> MatchConfig:
    """Site-wide thresholds, overridden by the partnership's own settings and trained model."""
    threshold, review, model = settings.MATCH_THRESHOLD, settings.MATCH_REVIEW_THRESHOLD, None
    own = MatchSettings.objects.filter(partnership_id=partnership_id).first() if partnership_id else None
    if own is not None:
        threshold = own.threshold if own.threshold is not None else threshold
        review = own.review_threshold if own.review_threshold is not None else review
        if own.model:
            # None when it is not a model our codec wrote (e.g. a pickle of an older version): the
            # default model scores until the partnership retrains (its settings page says so).
            model = stored_model(own.model)
    config = MatchConfig(
        threshold=threshold, review_threshold=min(review, threshold), workers=settings.MATCH_ENGINE_THREADS
    )
    return replace(config, model=model) if model is not None else config


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


def _frame(list_id: int, ids=None) -> pd.DataFrame:
    """The engine's input for one list (or some of its records), from the stored normalized keys."""
    table = AccountRecord._meta.db_table
    sql = f"SELECT {', '.join(_FRAME_COLUMNS)} FROM {table} WHERE account_list_id = %s"  # noqa: S608  # nosec B608  # names from the models and code; values are query parameters
    params: list = [list_id]
    rows = []
    with connection.cursor() as cursor:
        if ids is None:
            cursor.execute(sql + " ORDER BY id", params)
            rows = cursor.fetchall()
        else:
            ids = [int(i) for i in ids]
            for start in range(0, len(ids), 20_000):  # bounded IN lists, on every database
                chunk = ids[start : start + 20_000]
                cursor.execute(sql + f" AND id IN ({', '.join(['%s'] * len(chunk))})", params + chunk)
                rows.extend(cursor.fetchall())
    frame = pd.DataFrame.from_records(rows, columns=list(_FRAME_COLUMNS)).set_index("id")
    return prepare(frame)


@dataclass
class PairOutcome:
    left_records: int
    right_records: int
    rematched: int
    matches: int
    review: int
    added: int
    removed: int
    updated: int
    seconds_load: float
    seconds_engine: float
    seconds_write: float


def _changed_between(list_id: int, after_changeset_id: int, up_to_changeset_id: int) -> set:
    """Ids added or edited by the list's change sets after one and up to another (the watermark)."""
    rows = ListChangeSet.objects.filter(
        account_list_id=list_id, id__gt=after_changeset_id, id__lte=up_to_changeset_id
    ).values_list("added_ids", "edited_ids")
    changed = set()
    for added, edited in rows:
        changed.update(added or [])
        changed.update(edited or [])
    return changed


def _watermarks(list_ids) -> dict[int, int]:
    """The newest change set of each list, read while no change to any list is in flight.

    Change set ids come from a sequence when a change inserts its row, and changes commit in any
    order: reading the newest id while one with a smaller id is still uncommitted would mark it as
    covered without its records having been read. A SHARE lock on the change sets waits for every
    transaction that inserted one (an INSERT holds ROW EXCLUSIVE from before it draws its id), so
    every change set up to the watermark has committed, and later ones get larger ids. The lock is
    held only for this read (changes commit again right after); SQLite serializes writers anyway.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {ListChangeSet._meta.db_table} IN SHARE MODE")
        rows = (
            ListChangeSet.objects.filter(account_list_id__in=list(list_ids))
            .order_by()
            .values("account_list_id")
            .annotate(newest=Max("id"))
            .values_list("account_list_id", "newest")
        )
        newest = dict(rows)
    return {int(list_id): int(newest.get(list_id) or 0) for list_id in list_ids}


@contextmanager
def _snapshot():
    """One consistent view of the database for the reads inside: a REPEATABLE READ transaction on
    PostgreSQL (inside a caller's transaction, e.g. a test's, that transaction's own view)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _decisions(partnership_id: int, left_list_id: int, right_list_id: int):
    rows = MatchDecision.objects.filter(
        partnership_id=partnership_id,
        left_record__account_list_id=left_list_id,
        right_record__account_list_id=right_list_id,
    ).values_list("left_record_id", "right_record_id", "decision")
    confirmed = {(a, b) for a, b, d in rows if d == MatchDecision.Decision.CONFIRMED}
    rejected = {(a, b) for a, b, d in rows if d == MatchDecision.Decision.REJECTED}
    return confirmed, rejected


class RunLost(Exception):
    """The run was taken over (its heartbeat looked dead and the watchdog re-claimed it): this
    worker's attempt stops without writing."""


def _hold_run(run: MatchRun) -> None:
    """Inside a write transaction: lock the run's row and check that this attempt still owns it, so
    that an attempt the watchdog replaced never writes over the new one."""
    if (
        not MatchRun.objects.select_for_update()
        .filter(pk=run.pk, status=MatchRun.Status.RUNNING, attempts=run.attempts)
        .exists()
    ):
        raise RunLost(f"match run {run.pk} attempt {run.attempts} was taken over")


def match_list_pair(
    *, run: MatchRun, left_list_id: int, right_list_id: int, force_full: bool, covered: dict | None = None
) -> PairOutcome:
    """Match one list pair and store its overlaps and state, in one transaction.

    Inputs: the watermark of both lists first, then the records, the stored state, the decisions
    and the settings in one snapshot. The state then says "every change set up to the watermark is
    in here", which holds even when changes commit meanwhile (they have larger ids and lead to a
    follow-up run). `covered` ({list_id: watermark}) receives what this pair covered."""
    partnership_id = run.partnership_id
    t0 = time.perf_counter()
    marks = _watermarks([left_list_id, right_list_id])
    newest_left, newest_right = marks[left_list_id], marks[right_list_id]
    with _snapshot():
        left, right = _frame(left_list_id), _frame(right_list_id)
        state_row = MatchState.objects.filter(
            partnership_id=partnership_id, left_list_id=left_list_id, right_list_id=right_list_id
        ).first()
        confirmed, rejected = _decisions(partnership_id, left_list_id, right_list_id)
        config = engine_config(partnership_id)
        state = None
        if state_row is not None and not force_full and state_row.engine_version == ENGINE_VERSION:
            state = stored_state(state_row.data)  # None when unreadable: match in full
        if state is not None and (
            state_row.left_changeset_id > newest_left or state_row.right_changeset_id > newest_right
        ):
            state = None  # a state ahead of what we read (cannot happen in order; be safe): full
        if state is not None:
            changed_left = _changed_between(left_list_id, state_row.left_changeset_id, newest_left)
            changed_right = _changed_between(right_list_id, state_row.right_changeset_id, newest_right)
    t1 = time.perf_counter()
    if state is not None:
        result, new_state = match_incremental(
            left,
            right,
            state,
            config,
            changed_left=changed_left,
            changed_right=changed_right,
            confirmed=confirmed,
            rejected=rejected,
        )
        rematched = len(changed_left) + len(changed_right)
    else:
        result, new_state = match(
            left, right, config, confirmed=confirmed, rejected=rejected, return_state=True
        )
        rematched = len(left) + len(right)
    t2 = time.perf_counter()
    blob = engine_blob(new_state)
    with transaction.atomic():
        _hold_run(run)
        added, removed, updated = _write_overlaps(run, left_list_id, right_list_id, result, confirmed)
        MatchState.objects.update_or_create(
            partnership_id=partnership_id,
            left_list_id=left_list_id,
            right_list_id=right_list_id,
            defaults={
                "left_changeset_id": newest_left,
                "right_changeset_id": newest_right,
                "engine_version": ENGINE_VERSION,
                "data": blob,
            },
        )
    if covered is not None:
        covered[str(left_list_id)] = newest_left
        covered[str(right_list_id)] = newest_right
    t3 = time.perf_counter()
    statuses = result["status"].value_counts()
    return PairOutcome(
        left_records=len(left),
        right_records=len(right),
        rematched=rematched,
        matches=int(statuses.get("match", 0)),
        review=int(statuses.get("review", 0)),
        added=added,
        removed=removed,
        updated=updated,
        seconds_load=t1 - t0,
        seconds_engine=t2 - t1,
        seconds_write=t3 - t2,
    )


def _write_overlaps(
    run: MatchRun, left_list_id: int, right_list_id: int, result: pd.DataFrame, confirmed: set
):
    """Make the stored overlaps of a list pair equal to the engine's result: only the difference is
    written, so re-running the same result writes nothing."""
    existing = {
        (lr, rr): (pk, score, status, confirmed, reasons)
        for pk, lr, rr, score, status, confirmed, reasons in Overlap.objects.filter(
            partnership_id=run.partnership_id, left_list_id=left_list_id, right_list_id=right_list_id
        ).values_list("id", "left_record_id", "right_record_id", "score", "status", "confirmed", "reasons")
    }
    to_create, to_update, seen = [], [], set()
    for lr, rr, score, status, reasons in zip(
        result["left_id"].tolist(),
        result["right_id"].tolist(),
        result["score"].tolist(),
        result["status"].tolist(),
        result["reasons"].tolist(),
        strict=True,
    ):
        key = (int(lr), int(rr))
        is_confirmed = key in confirmed
        seen.add(key)
        score = round(min(max(float(score), 0.0), 1.0), 4)
        old = existing.get(key)
        if old is None:
            to_create.append(
                Overlap(
                    partnership_id=run.partnership_id,
                    left_list_id=left_list_id,
                    right_list_id=right_list_id,
                    left_record_id=key[0],
                    right_record_id=key[1],
                    score=score,
                    status=status,
                    reasons=reasons,
                    confirmed=is_confirmed,
                    run=run,
                )
            )
        elif (old[1], old[2], old[3], old[4]) != (score, status, is_confirmed, reasons):
            to_update.append(
                Overlap(
                    id=old[0], score=score, status=status, confirmed=is_confirmed, reasons=reasons, run=run
                )
            )
    stale = [pk for key, (pk, *_rest) in existing.items() if key not in seen]
    for start in range(0, len(stale), 10_000):
        Overlap.objects.filter(pk__in=stale[start : start + 10_000]).delete()
    Overlap.objects.bulk_create(to_create, batch_size=5_000)
    Overlap.objects.bulk_update(
        to_update, ["score", "status", "confirmed", "reasons", "run"], batch_size=5_000
    )
    return len(to_create), len(stale), len(to_update)


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


def _add_outcome(totals: dict, timings: dict, outcome: PairOutcome) -> None:
    totals["left_records"] += outcome.left_records
    totals["right_records"] += outcome.right_records
    totals["records_rematched"] += outcome.rematched
    totals["matches"] += outcome.matches
    totals["review"] += outcome.review
    totals["overlaps_added"] += outcome.added
    totals["overlaps_removed"] += outcome.removed
    totals["overlaps_updated"] += outcome.updated
    timings["load"] = timings.get("load", 0.0) + outcome.seconds_load
    timings["engine"] = timings.get("engine", 0.0) + outcome.seconds_engine
    timings["write"] = timings.get("write", 0.0) + outcome.seconds_write


def _is_big(left_list_id: int, right_list_id: int) -> bool:
    n = AccountRecord.objects.filter(account_list_id__in=[left_list_id, right_list_id]).count()
    return n >= settings.MATCH_FANOUT_MIN_RECORDS


def _pack(*arrays: np.ndarray) -> bytes:
    return engine_blob([np.asarray(a) for a in arrays])


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
