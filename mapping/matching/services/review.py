"""Reviewers' decisions, a partnership's thresholds and its scoring model (training and reset).

Each write here queues a re-match (mapping.matching.services.runs.match_run_schedule); the runs
themselves live in mapping.matching.services.runs.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, Partnership
from accounts.roles import Capability
from accounts.services.common import require_capability
from mapping.engine import train, train_unsupervised
from mapping.lists.models import AccountRecord
from mapping.matching.gates import partner_record_visible
from mapping.matching.models import MatchDecision, MatchSettings, SideDecision
from mapping.matching.services.engine_blobs import engine_blob
from mapping.matching.services.pairs import _frame, engine_config
from mapping.matching.services.runs import match_run_schedule, matchable_lists
from prm.common.errors import ApplicationError, Conflict, NotFound, ValidationFailed

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------- review


def side_name(*, org: Organization, partnership: Partnership) -> str:
    """ "initiator" or "partner": the side org takes in the partnership (its thresholds, its decisions)."""
    if not partnership.involves(org):
        raise NotFound("Partnership not found.")
    return MatchSettings.SIDES[0] if partnership.initiator_id == org.pk else MatchSettings.SIDES[1]


def match_decision_record(
    *,
    actor,
    org: Organization,
    partnership: Partnership,
    left_record_id: int,
    right_record_id: int,
    decision: str,
    note: str = "",
) -> MatchDecision:
    """Record my side's word on a pair; the next run (queued now) applies it.

    A rejection by either side drops the pair. A confirmation alone reveals nothing: the pair
    becomes an overlap whatever its score only once the other side confirmed it too (until then
    the engine's score and both sides' thresholds decide, as for any pair). Returns my word
    (a SideDecision); the pair's MatchDecision follows from both words."""
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_LISTS)
    side = side_name(org=org, partnership=partnership)
    if decision not in MatchDecision.Decision.values:
        raise ValidationFailed(
            f"Unknown decision: {decision!r}.", extra={"decision": ["Choose confirmed or rejected."]}
        )
    left = AccountRecord.objects.filter(
        pk=left_record_id, account_list__organization_id=partnership.initiator_id
    )
    right = AccountRecord.objects.filter(
        pk=right_record_id, account_list__organization_id=partnership.partner_id
    )
    if not (left.exists() and right.exists()):
        raise NotFound("Pair not found.")
    # The partner's record must be one the caller already sees (an overlap of a list shared at
    # "overlapping accounts", or white space of a list at "all accounts"; not private): else the
    # answer would tell which ids the partner holds. The same 404 as an unknown id.
    theirs_id = right_record_id if side == "initiator" else left_record_id
    if not partner_record_visible(org=org, partnership=partnership, record_id=theirs_id):
        raise NotFound("Pair not found.")
    with transaction.atomic():
        row, _ = SideDecision.objects.update_or_create(
            partnership=partnership,
            left_record_id=left_record_id,
            right_record_id=right_record_id,
            side=side,
            defaults={
                "decision": decision,
                "decided_by": actor,
                "decided_by_organization": org,
                "note": (note or "")[:2000],
            },
        )
        _apply_words(
            partnership=partnership,
            left_record_id=left_record_id,
            right_record_id=right_record_id,
            actor=actor,
            org=org,
        )
        match_run_schedule(partnership=partnership, trigger="review decision", requested_by=actor)
    return row


def _apply_words(*, partnership: Partnership, left_record_id: int, right_record_id: int, actor, org) -> None:
    """The pair's MatchDecision (what the engine applies) from both sides' words: rejected once
    either rejected, confirmed once both confirmed, else none."""
    words = dict(
        SideDecision.objects.select_for_update()
        .filter(
            partnership=partnership,
            left_record_id=left_record_id,
            right_record_id=right_record_id,
        )
        .values_list("side", "decision")
    )
    pair = {"partnership": partnership, "left_record_id": left_record_id, "right_record_id": right_record_id}
    if MatchDecision.Decision.REJECTED in words.values():
        outcome = MatchDecision.Decision.REJECTED
    elif len(words) == 2:
        outcome = MatchDecision.Decision.CONFIRMED
    else:
        MatchDecision.objects.filter(**pair).delete()
        return
    MatchDecision.objects.update_or_create(
        **pair, defaults={"decision": outcome, "decided_by": actor, "decided_by_organization": org}
    )


# ---------------------------------------------------------------------------- per-partnership


MIN_LABELS_PER_CLASS = 5


def match_settings_update(
    *,
    actor,
    org: Organization,
    partnership: Partnership,
    threshold: float | None,
    review_threshold: float | None,
) -> MatchSettings:
    """Set my side's thresholds (None: the site-wide default); a full re-match follows.

    They bound only how my own records are revealed: the engine runs at the higher of both sides'
    thresholds, so lowering mine never shows me more of the partner's records than its bar allows."""
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_LISTS)
    side = side_name(org=org, partnership=partnership)
    errors = {}
    if threshold is not None and not 0 < threshold <= 1:
        errors["threshold"] = ["Between 0 (excluded) and 1."]
    if review_threshold is not None and not 0 <= review_threshold <= 1:
        errors["review_threshold"] = ["Between 0 and 1."]
    effective = threshold if threshold is not None else settings.MATCH_THRESHOLD
    if review_threshold is not None and not errors and review_threshold > effective:
        errors["review_threshold"] = ["At most the match threshold."]
    if errors:
        raise ValidationFailed("Invalid thresholds.", extra=errors)
    with transaction.atomic():
        own, _ = MatchSettings.objects.select_for_update().get_or_create(partnership=partnership)
        setattr(own, f"{side}_threshold", threshold)
        setattr(own, f"{side}_review_threshold", review_threshold)
        own.updated_by = actor
        own.save()
        match_run_schedule(
            partnership=partnership, trigger="thresholds changed", full=True, requested_by=actor
        )
    return own


TRAINING_METHODS = ("labelled", "unsupervised")
UNSUPERVISED_SAMPLE = 200_000  # candidate pairs the unsupervised fit samples
TRAINING_STALE = timedelta(hours=1)


RESET = "reset"


def _other(side: str) -> str:
    return MatchSettings.SIDES[1] if side == MatchSettings.SIDES[0] else MatchSettings.SIDES[0]


def match_model_train(
    *,
    actor,
    org: Organization,
    partnership: Partnership,
    method: str = "labelled",
    sample: int = UNSUPERVISED_SAMPLE,
) -> MatchSettings:
    """Ask for the partnership's scoring model to be trained, then re-matched in full.

    labelled: on both sides' reviewers' confirmed and rejected pairs (MIN_LABELS_PER_CLASS of each).
    unsupervised: without labels, on a sample of the candidate pairs of both sides' lists
    (recordlinkage's ECMClassifier, see mapping.engine.train_unsupervised).

    The model scores the pairs of both sides, so one side alone cannot change it (a model fitted to
    one side's labels could score more of the other side's records above its bar): my request
    waits (model_requests) until the other side asks for the same method, and then it is queued.

    What can be checked cheaply is checked here (a clear 4xx); the fit itself loads whole lists and
    runs on a worker (mapping.tasks.train_match_model), whose outcome shows in the settings.
    """
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_LISTS)
    side = side_name(org=org, partnership=partnership)
    if method not in TRAINING_METHODS:
        raise ValidationFailed(
            f"Unknown training method {method!r}.",
            extra={"method": [f"Use {' or '.join(TRAINING_METHODS)}."]},
        )
    if partnership.status != Partnership.Status.ACTIVE:
        raise Conflict("This partnership has ended.")
    if method == "unsupervised":
        _check_unsupervised(partnership, sample)
    else:
        _check_labels(partnership)
    with transaction.atomic():
        own, _ = MatchSettings.objects.select_for_update().get_or_create(partnership=partnership)
        # (one that has not moved for TRAINING_STALE is taken as lost with its worker)
        if own.training in ("queued", "running") and own.updated_at > timezone.now() - TRAINING_STALE:
            raise Conflict("A training of this partnership's model is already under way.")
        requests = dict(own.model_requests or {})
        requests[side] = {"method": method, "sample": sample if method == "unsupervised" else 0}
        theirs = requests.get(_other(side)) or {}  # nosec B113  # a dict named requests, not the HTTP library
        own.updated_by = actor
        if theirs.get("method") != method:
            own.model_requests = requests  # waits for the other side
            own.save()
            return own
        own.model_requests = {}
        own.training, own.training_method, own.training_error = "queued", method, ""
        own.training_sample = min(sample, theirs.get("sample") or sample) if method == "unsupervised" else 0
        own.save()
        transaction.on_commit(lambda: _dispatch_training(partnership.pk))
    return own


def _dispatch_training(partnership_id: int) -> None:
    from mapping.matching.tasks import train_match_model

    train_match_model.delay(partnership_id)


def match_model_fit(partnership_id: int) -> str:
    """The worker's part of match_model_train: fit the requested model, store it, queue a full
    run. A failure is stored in the settings (training "failed", with its message)."""
    with transaction.atomic():
        own = MatchSettings.objects.select_for_update().filter(partnership_id=partnership_id).first()
        if own is None or own.training not in ("queued", "running"):
            return "nothing requested"
        own.training = "running"
        own.save(update_fields=["training", "updated_at"])
    partnership = Partnership.objects.get(pk=partnership_id)
    try:
        if partnership.status != Partnership.Status.ACTIVE:
            raise Conflict("This partnership has ended.")
        if own.training_method == "unsupervised":
            model, trained_on = (
                _train_unsupervised(partnership, own.training_sample or UNSUPERVISED_SAMPLE),
                0,
            )
        else:
            model, trained_on = _train_labelled(partnership)
    except ApplicationError as exc:
        MatchSettings.objects.filter(pk=own.pk).update(training="failed", training_error=exc.message)
        return "failed"
    except Exception:
        log.exception("training the model of partnership %s failed", partnership_id)
        MatchSettings.objects.filter(pk=own.pk).update(
            training="failed", training_error="Training failed on the worker; the error was logged."
        )
        return "failed"
    with transaction.atomic():
        own = MatchSettings.objects.select_for_update().get(pk=own.pk)
        own.model = engine_blob(model)  # plain data, never a pickle (mapping.matching.services.engine_blobs)
        own.trained_on, own.trained_at = trained_on, timezone.now()
        own.training, own.training_error = "", ""
        own.save()
        match_run_schedule(
            partnership=partnership, trigger="model trained", full=True, requested_by=own.updated_by
        )
    return "trained"


def _labels(partnership: Partnership) -> dict[tuple[int, int], bool]:
    """(left id, right id) -> is a match, from the pairs' decisions (MatchDecision: confirmed by
    both sides, or rejected by either)."""
    return {
        (left_id, right_id): decision == MatchDecision.Decision.CONFIRMED
        for left_id, right_id, decision in MatchDecision.objects.filter(partnership=partnership).values_list(
            "left_record_id", "right_record_id", "decision"
        )
    }


def _check_labels(partnership: Partnership) -> None:
    labels = _labels(partnership)
    confirmed = sum(1 for is_match in labels.values() if is_match)
    rejected = len(labels) - confirmed
    if confirmed < MIN_LABELS_PER_CLASS or rejected < MIN_LABELS_PER_CLASS:
        raise ValidationFailed(
            f"Training needs at least {MIN_LABELS_PER_CLASS} confirmed and {MIN_LABELS_PER_CLASS} rejected "
            f"pairs; this partnership has {confirmed} confirmed and {rejected} rejected. "
            "Train without labels (method unsupervised) until then."
        )


def _check_unsupervised(partnership: Partnership, sample) -> None:
    if sample is None or sample < 1:
        raise ValidationFailed("The sample must hold at least one pair.", extra={"sample": ["At least 1."]})
    for org in (partnership.initiator, partnership.partner):
        if not AccountRecord.objects.filter(account_list_id__in=matchable_lists(org.pk)).exists():
            raise ValidationFailed(
                f"Training without labels needs account records on both sides; {org.name} has none yet."
            )


def _train_labelled(partnership: Partnership):
    _check_labels(partnership)  # again: decisions may have changed since the request
    labels = _labels(partnership)
    lists = dict(
        AccountRecord.objects.filter(
            pk__in={left for left, _r in labels} | {right for _l, right in labels}
        ).values_list("pk", "account_list_id")
    )
    by_left_list, by_right_list = {}, {}
    for left_id, right_id in labels:
        by_left_list.setdefault(lists[left_id], set()).add(left_id)
        by_right_list.setdefault(lists[right_id], set()).add(right_id)
    left = pd.concat([_frame(list_id, sorted(ids)) for list_id, ids in by_left_list.items()])
    right = pd.concat([_frame(list_id, sorted(ids)) for list_id, ids in by_right_list.items()])
    pairs = sorted(labels)
    labelled = pd.DataFrame(
        {
            "left_id": [p[0] for p in pairs],
            "right_id": [p[1] for p in pairs],
            "is_match": [labels[p] for p in pairs],
        }
    )
    return train(left, right, labelled, engine_config(partnership.pk)), len(labelled)


def _train_unsupervised(partnership: Partnership, sample: int):
    """Every record of the lists a run would match, on each side (record ids are unique across lists)."""
    _check_unsupervised(partnership, sample)  # again: records may have gone since the request
    frames = {}
    for side, org_id in (("left", partnership.initiator_id), ("right", partnership.partner_id)):
        lists = [frame for frame in (_frame(list_id) for list_id in matchable_lists(org_id)) if len(frame)]
        frames[side] = pd.concat(lists) if len(lists) > 1 else lists[0]
    try:
        model = train_unsupervised(
            frames["left"], frames["right"], engine_config(partnership.pk), sample=sample
        )
    except ValueError as exc:  # no candidate pairs, a single class, no convergence: nothing to learn
        raise ValidationFailed(
            f"Training without labels found nothing to learn from these lists ({exc})."
        ) from None
    return model


def match_model_reset(*, actor, org: Organization, partnership: Partnership) -> MatchSettings:
    """Ask to go back to the default scoring model: done (and re-matched in full) once both sides
    asked, like a training (see match_model_train)."""
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_LISTS)
    side = side_name(org=org, partnership=partnership)
    with transaction.atomic():
        own, _ = MatchSettings.objects.select_for_update().get_or_create(partnership=partnership)
        requests = dict(own.model_requests or {})
        if not own.model:
            requests.pop(side, None)  # nothing to reset; a pending request of mine lapses
            own.model_requests = requests
            own.save()
            return own
        requests[side] = {"method": RESET, "sample": 0}
        own.updated_by = actor
        if (requests.get(_other(side)) or {}).get("method") != RESET:  # nosec B113  # a dict named requests, not the HTTP library
            own.model_requests = requests
            own.save()
            return own
        own.model_requests = {}
        own.model, own.trained_on, own.trained_at = None, 0, None
        own.save()
        match_run_schedule(partnership=partnership, trigger="model reset", full=True, requested_by=actor)
    return own
