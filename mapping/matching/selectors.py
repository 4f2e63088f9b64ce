"""Reads of match runs, scoped to the caller's organization."""

from django.db.models import QuerySet

from accounts.models import Organization, Partnership
from accounts.selectors import partnership_for
from mapping.matching.models import MatchRun, MatchSettings
from prm.common.errors import NotFound


def match_runs_of(*, org: Organization, partnership_id) -> QuerySet[MatchRun]:
    partnership = partnership_for(org=org, partnership_id=partnership_id)
    return MatchRun.objects.filter(partnership=partnership).order_by("-created_at", "-id")


def match_run_for(*, org: Organization, partnership_id, run_id) -> MatchRun:
    try:
        return match_runs_of(org=org, partnership_id=partnership_id).get(pk=run_id)
    except (MatchRun.DoesNotExist, ValueError, TypeError):
        raise NotFound("Match run not found.") from None


def latest_match_run(*, org: Organization, partnership_id) -> MatchRun | None:
    return match_runs_of(org=org, partnership_id=partnership_id).first()


def match_settings_of(*, org: Organization, partnership: Partnership) -> dict:
    """The partnership's thresholds (mine and the partner's, None: the site-wide default, and the
    effective ones the engine runs at: the higher bar of the two) and its scoring model (trained
    or default, how its training goes, and what each side asked of it). Both sides see them."""
    from mapping.matching.services.engine_blobs import stored_model_readable
    from mapping.matching.services.pairs import engine_config

    if not partnership.involves(org):
        raise NotFound("Partnership not found.")
    mine, theirs = (
        ("initiator", "partner") if partnership.initiator_id == org.pk else ("partner", "initiator")
    )
    own = MatchSettings.objects.filter(partnership=partnership).first()
    config = engine_config(partnership.pk)
    requests = (own.model_requests or {}) if own else {}
    return {
        "threshold": getattr(own, f"{mine}_threshold") if own else None,
        "review_threshold": getattr(own, f"{mine}_review_threshold") if own else None,
        "partner_threshold": getattr(own, f"{theirs}_threshold") if own else None,
        "partner_review_threshold": getattr(own, f"{theirs}_review_threshold") if own else None,
        "effective_threshold": config.threshold,
        "effective_review_threshold": config.review_threshold,
        # A stored model our codec cannot read (a pickle from an older version) is not used: the
        # default model scores until the partnership trains again.
        "trained_model": stored_model_readable(own.model) if own else False,
        "model_needs_retraining": bool(own and own.model) and not stored_model_readable(own.model),
        "trained_on": own.trained_on if own else 0,
        "trained_at": own.trained_at if own else None,
        "training": own.training if own else "",
        "training_method": own.training_method if own else "",
        "training_error": own.training_error if own else "",
        "model_request": (requests.get(mine) or {}).get("method", ""),  # nosec B113  # a dict named requests, not the HTTP library
        "partner_model_request": (requests.get(theirs) or {}).get("method", ""),  # nosec B113  # a dict named requests, not the HTTP library
    }
