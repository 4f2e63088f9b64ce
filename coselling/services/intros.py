"""Intro requests: a rep asks the partner for help on one account of an overlap both see; the
partner accepts, declines (with a reason), replies in the thread, marks it done. Unanswered
requests are reminded once, then expire (intros_remind_and_expire, safe to run twice)."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organization, Partnership
from accounts.roles import Capability, role_can
from coselling.models import IntroChange, IntroKind, IntroMessage, IntroRequest
from coselling.models import IntroStatus as S
from coselling.services.common import (
    add_business_days,
    clean_future_date,
    clean_text,
    require_running,
    require_side,
)
from mapping.sharing.selectors.picks import overlap_pick_for
from prm.common.errors import Conflict, PermissionDeniedError, ValidationFailed
from prm.common.text import header_text

RESPOND_BUSINESS_DAYS = 5
MAX_RESPOND_DAYS = 90

# (from, to) -> which side may make the move
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.OPEN, S.ACCEPTED): "recipient",
    (S.OPEN, S.DECLINED): "recipient",
    (S.ACCEPTED, S.DONE): "either",
    (S.OPEN, S.EXPIRED): "system",
}


def default_respond_by(today: date | None = None) -> date:
    return add_business_days(today or timezone.localdate(), RESPOND_BUSINESS_DAYS)


def _change(intro, *, actor, org, from_status, to_status, note="") -> None:
    IntroChange.objects.create(
        request=intro,
        from_status=from_status,
        to_status=to_status,
        changed_by=actor,
        changed_by_organization=org,
        note=note,
        changed_at=timezone.now(),
    )


@transaction.atomic
def intro_request_create(
    *,
    actor,
    org: Organization,
    partnership: Partnership,
    overlap_id,
    kind: str,
    message: str,
    respond_by: date | None = None,
) -> IntroRequest:
    require_side(actor=actor, org=org, partnership=partnership, capability=Capability.COSELL)
    require_running(partnership)
    if kind not in IntroKind.values:
        raise ValidationFailed(
            "Unknown kind of request.", extra={"kind": [f"Use one of {', '.join(IntroKind.values)}."]}
        )
    message = clean_text(message, field="message", label="message", max_length=4000, required=True)
    today = timezone.localdate()
    respond_by = (
        default_respond_by(today)
        if respond_by is None
        else clean_future_date(
            respond_by, field="respond_by", label="respond-by date", today=today, max_days=MAX_RESPOND_DAYS
        )
    )
    pick = overlap_pick_for(org=org, partnership=partnership, overlap_id=overlap_id)
    intro = IntroRequest.objects.create(
        partnership=partnership,
        requester=org,
        recipient=partnership.other(org),
        created_by=actor,
        overlap=pick.overlap,
        account_name=str(pick.mine.get("name") or "")[:500],
        kind=kind,
        message=message,
        respond_by=respond_by,
    )
    IntroMessage.objects.create(request=intro, author=actor, author_organization=org, body=message)
    _change(intro, actor=actor, org=org, from_status="", to_status=S.OPEN)
    return intro


def _locked(intro: IntroRequest) -> IntroRequest:
    return IntroRequest.objects.select_for_update(of=("self",)).select_related("partnership").get(pk=intro.pk)


def _move(intro, *, actor, org, to_status, note="") -> IntroRequest:
    who = TRANSITIONS.get((intro.status, to_status))
    if who is None:
        raise Conflict(
            f"A request that is {intro.get_status_display().lower()} cannot become {S(to_status).label.lower()}."
        )
    if who == "recipient" and org.pk != intro.recipient_id:
        raise PermissionDeniedError("Only the organization asked may answer this request.")
    from_status = intro.status
    intro.status = to_status
    intro.save(update_fields=["status", "decline_reason", "updated_at"])
    _change(intro, actor=actor, org=org, from_status=from_status, to_status=to_status, note=note)
    return intro


def _writable(*, actor, org, intro) -> IntroRequest:
    require_side(actor=actor, org=org, partnership=intro.partnership, capability=Capability.COSELL)
    require_running(intro.partnership)
    return _locked(intro)


@transaction.atomic
def intro_accept(*, actor, org, intro, note: str = "") -> IntroRequest:
    note = clean_text(note, field="note", label="note", max_length=2000)
    intro = _writable(actor=actor, org=org, intro=intro)
    intro = _move(intro, actor=actor, org=org, to_status=S.ACCEPTED, note=note)
    if note:
        IntroMessage.objects.create(request=intro, author=actor, author_organization=org, body=note)
    return intro


@transaction.atomic
def intro_decline(*, actor, org, intro, reason) -> IntroRequest:
    reason = clean_text(reason, field="reason", label="reason", max_length=2000, required=True)
    intro = _writable(actor=actor, org=org, intro=intro)
    intro.decline_reason = reason
    return _move(intro, actor=actor, org=org, to_status=S.DECLINED, note=reason)


@transaction.atomic
def intro_mark_done(*, actor, org, intro, note: str = "") -> IntroRequest:
    note = clean_text(note, field="note", label="note", max_length=2000)
    intro = _writable(actor=actor, org=org, intro=intro)
    return _move(intro, actor=actor, org=org, to_status=S.DONE, note=note)


@transaction.atomic
def intro_reply(*, actor, org, intro, body) -> IntroMessage:
    body = clean_text(body, field="body", label="message", max_length=4000, required=True)
    intro = _writable(actor=actor, org=org, intro=intro)
    if intro.status not in (S.OPEN, S.ACCEPTED):
        raise Conflict("The request is closed: its thread takes no more messages.")
    return IntroMessage.objects.create(request=intro, author=actor, author_organization=org, body=body)


def _cosell_emails(org_id: int) -> list[str]:
    members = Membership.objects.filter(organization_id=org_id).select_related("user")
    return [m.user.email for m in members if m.user.is_active and role_can(m.role, Capability.COSELL)]


def intros_remind_and_expire(*, today: date | None = None) -> dict:
    """Open requests due tomorrow (or sooner) are reminded once; those past their respond-by date
    expire. Each row is claimed with a conditional UPDATE, so a second run does nothing twice."""
    today = today or timezone.localdate()
    now = timezone.now()
    reminded = expired = 0
    due = IntroRequest.objects.filter(
        status=S.OPEN,
        reminded_at__isnull=True,
        respond_by__lte=today + timedelta(days=1),
        respond_by__gte=today,
    ).values_list("pk", flat=True)
    for pk in list(due[:1000]):
        with transaction.atomic():
            if not IntroRequest.objects.filter(pk=pk, status=S.OPEN, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            intro = IntroRequest.objects.get(pk=pk)
            recipients = _cosell_emails(intro.recipient_id)
            subject = header_text(
                f"Reminder: an intro request about {intro.account_name} waits for an answer"
            )
            body = f"Please answer by {intro.respond_by.isoformat()}: {intro.get_kind_display()}."
            transaction.on_commit(lambda s=subject, b=body, r=recipients: r and send_mail(s, b, None, r))
            reminded += 1
    for pk in list(
        IntroRequest.objects.filter(status=S.OPEN, respond_by__lt=today).values_list("pk", flat=True)[:1000]
    ):
        with transaction.atomic():
            if IntroRequest.objects.filter(pk=pk, status=S.OPEN).update(status=S.EXPIRED, updated_at=now):
                intro = IntroRequest.objects.get(pk=pk)
                _change(
                    intro,
                    actor=None,
                    org=None,
                    from_status=S.OPEN,
                    to_status=S.EXPIRED,
                    note="No answer by the respond-by date.",
                )
                expired += 1
    return {"reminded": reminded, "expired": expired}
