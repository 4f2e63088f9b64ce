"""Every read of co-sell data, scoped to the caller's organization and the partnership.

A registration is seen by its two sides; its conflicts only by the vendor (the partner learns the
decision and its reason, nothing of other partners or of the vendor's records). An intro request
is seen by its two sides.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import Organization, Partnership
from coselling.models import DealRegistration, IntroRequest, RegistrationConflict
from prm.common.errors import NotFound
from prm.common.rows import as_id


def registrations_for(
    *, org: Organization, partnership: Partnership, status: str = ""
) -> QuerySet[DealRegistration]:
    if not partnership.involves(org):
        raise NotFound("Partnership not found.")
    qs = DealRegistration.objects.filter(partnership=partnership).filter(Q(registrant=org) | Q(vendor=org))
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("registrant", "vendor", "created_by").order_by("-submitted_at", "-id")


def registration_for(*, org: Organization, partnership: Partnership, registration_id) -> DealRegistration:
    pk = as_id(registration_id)
    found = (
        registrations_for(org=org, partnership=partnership)
        .select_related("partnership")
        .filter(pk=pk)
        .first()
        if pk
        else None
    )
    if found is None:
        raise NotFound("Registration not found.")
    return found


def registration_conflicts_for(
    *, org: Organization, registration: DealRegistration
) -> list[RegistrationConflict]:
    """The conflicts the vendor reviews, side by side: the other claim, its score and reasons,
    first-come order. Anyone but the vendor: NotFound (conflicts are not disclosed)."""
    if org.pk != registration.vendor_id:
        raise NotFound("Not found.")
    return list(
        registration.conflicts.select_related(
            "record", "record__account_list", "other", "other__registrant"
        ).order_by("-other_first", "-score", "id")
    )


def registration_history_for(*, org: Organization, registration: DealRegistration):
    if org.pk not in (registration.vendor_id, registration.registrant_id):
        raise NotFound("Registration not found.")
    return registration.changes.select_related("changed_by", "changed_by_organization").order_by(
        "changed_at", "id"
    )


def intros_for(*, org: Organization, partnership: Partnership, box: str = "") -> QuerySet[IntroRequest]:
    """box: "inbox" (asked of org), "sent" (asked by org) or "" (both)."""
    if not partnership.involves(org):
        raise NotFound("Partnership not found.")
    mine = {"inbox": Q(recipient=org), "sent": Q(requester=org)}.get(box, Q(recipient=org) | Q(requester=org))
    return (
        IntroRequest.objects.filter(partnership=partnership)
        .filter(mine)
        .select_related("requester", "recipient", "created_by")
        .order_by("-created_at", "-id")
    )


def intro_for(*, org: Organization, partnership: Partnership, intro_id) -> IntroRequest:
    pk = as_id(intro_id)
    found = (
        intros_for(org=org, partnership=partnership).select_related("partnership").filter(pk=pk).first()
        if pk
        else None
    )
    if found is None:
        raise NotFound("Intro request not found.")
    return found


def intro_thread_for(*, org: Organization, intro: IntroRequest):
    if org.pk not in (intro.requester_id, intro.recipient_id):
        raise NotFound("Intro request not found.")
    return (
        intro.messages.select_related("author", "author_organization").order_by("created_at", "id"),
        intro.changes.select_related("changed_by", "changed_by_organization").order_by("changed_at", "id"),
    )
