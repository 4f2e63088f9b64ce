"""Matching one pair of lists: the records as the engine reads them, the state that makes the next
run incremental, and the overlaps written back. The run's lifecycle (scheduling, claiming, fan-out,
faults) is in runs.py, which calls match_list_pair for each pair of lists.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from mapping.engine import (
    MatchConfig,
    match,
    match_incremental,
    prepare,
)
from mapping.lists.models import AccountRecord, ListChangeSet
from mapping.lists.normalizing import NORM_COLUMNS
from mapping.matching.models import MatchDecision, MatchRun, MatchSettings, MatchState, Overlap
from mapping.matching.services.engine_blobs import (
    engine_blob,
    stored_model,
    stored_state,
)

log = logging.getLogger(__name__)


# Bump when a change to the engine makes stored pair scores stale: the next run is then full.
ENGINE_VERSION = "4"  # 4: names normalized anew, word weights and rare-word pass (migration 0012)


# Stored normalized keys the engine reads (it derives the rest: name keys, stem key, CRM id key).
_FRAME_COLUMNS = ("id", *NORM_COLUMNS, "crm_id")


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
