"""Reads of match runs, scoped to the caller's organization."""

from django.db.models import QuerySet

from accounts.models import Organization
from accounts.selectors import partnership_for
from mapping.models import MatchRun
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
