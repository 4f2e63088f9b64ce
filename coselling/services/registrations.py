"""Deal registrations: submit (with conflict detection), review, close, expire.

The state machine is the table TRANSITIONS: (from, to) -> which side may make the move. Every
move goes through _move, which checks the table and appends a RegistrationChange row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, Partnership
from accounts.roles import Capability
from coselling.conflicts import account_keys, find_conflicts
from coselling.models import DealRegistration, RegistrationChange, RegistrationConflict
from coselling.models import RegistrationStatus as S
from coselling.services.common import (
    clean_country,
    clean_currency,
    clean_email,
    clean_future_date,
    clean_line,
    clean_money,
    clean_text,
    require_running,
    require_side,
    vendor_of,
)
from mapping.engine import registrable_domain
from mapping.sharing.selectors.picks import overlap_pick_for
from prm.common.errors import Conflict, PermissionDeniedError, ValidationFailed

PROTECTION_DAYS = 90
MAX_PROTECTION_DAYS = 365
MAX_CLOSE_DAYS = 5 * 366

VENDOR, REGISTRANT, SYSTEM = "vendor", "registrant", "system"
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.SUBMITTED, S.INFO_REQUESTED): VENDOR,
    (S.SUBMITTED, S.APPROVED): VENDOR,
    (S.SUBMITTED, S.REJECTED): VENDOR,
    (S.INFO_REQUESTED, S.SUBMITTED): REGISTRANT,
    (S.INFO_REQUESTED, S.APPROVED): VENDOR,
    (S.INFO_REQUESTED, S.REJECTED): VENDOR,
    (S.APPROVED, S.WON): VENDOR,
    (S.APPROVED, S.LOST): VENDOR,
    (S.APPROVED, S.EXPIRED): SYSTEM,
}


@dataclass(frozen=True)
class AccountInput:
    account_name: str
    website: str
    country: str
    value: object
    currency: str
    expected_close: date
    products: str = ""
    contact_name: str = ""
    contact_email: str = ""
    notes: str = ""


def _clean_account(data: dict, *, today: date) -> dict:
    website = clean_line(data.get("website"), field="website", label="website", max_length=255)
    if website and not registrable_domain(website):
        raise ValidationFailed(
            "The website is not a web address.", extra={"website": ["Give e.g. acme.com."]}
        )
    return {
        "account_name": clean_line(
            data.get("account_name"),
            field="account_name",
            label="account name",
            max_length=200,
            required=True,
        ),
        "website": website,
        "country": clean_country(data.get("country")),
        "value": clean_money(data.get("value")),
        "currency": clean_currency(data.get("currency")),
        "expected_close": clean_future_date(
            data.get("expected_close"),
            field="expected_close",
            label="expected close date",
            today=today,
            max_days=MAX_CLOSE_DAYS,
        ),
        "products": clean_text(data.get("products"), field="products", label="products", max_length=2000),
        "contact_name": clean_line(
            data.get("contact_name"), field="contact_name", label="contact", max_length=200
        ),
        "contact_email": clean_email(data.get("contact_email"), field="contact_email"),
        "notes": clean_text(data.get("notes"), field="notes", label="notes", max_length=4000),
    }


def _lock_vendor(vendor: Organization) -> None:
    """Registrations with one vendor are checked one at a time: of two partners registering the
    same account at once, the second waits here and then finds the first (first come, first)."""
    Organization.objects.select_for_update().filter(pk=vendor.pk).first()


def _record_change(registration, *, actor, org, from_status: str, to_status: str, note: str = "") -> None:
    RegistrationChange.objects.create(
        registration=registration,
        from_status=from_status,
        to_status=to_status,
        changed_by=actor,
        changed_by_organization=org,
        note=note,
        changed_at=timezone.now(),
    )


def _detect(registration: DealRegistration) -> None:
    """Store the registration's conflicts (and, on each other registration, the mirror one)."""
    registration.conflicts.all().delete()
    RegistrationConflict.objects.filter(other=registration).delete()
    found = find_conflicts(
        vendor=registration.vendor,
        name=registration.account_name,
        website=registration.website,
        country=registration.country,
        keys=account_keys(
            name=registration.account_name, website=registration.website, country=registration.country
        ),
        exclude_id=registration.pk,
    )
    others = {
        o.pk: o
        for o in DealRegistration.objects.filter(
            pk__in=[f.target_id for f in found if f.kind == "registration"]
        )
    }
    rows = []
    for f in found:
        if f.kind == RegistrationConflict.Kind.VENDOR_RECORD:
            rows.append(
                RegistrationConflict(
                    registration=registration,
                    kind=f.kind,
                    record_id=f.target_id,
                    score=f.score,
                    reasons=f.reasons,
                )
            )
            continue
        other = others.get(f.target_id)
        if other is None:
            continue
        first = (other.submitted_at, other.pk) < (registration.submitted_at, registration.pk)
        rows.append(
            RegistrationConflict(
                registration=registration,
                kind=f.kind,
                other=other,
                other_first=first,
                score=f.score,
                reasons=f.reasons,
            )
        )
        rows.append(
            RegistrationConflict(
                registration=other,
                kind=f.kind,
                other=registration,
                other_first=not first,
                score=f.score,
                reasons=f.reasons,
            )
        )
    RegistrationConflict.objects.bulk_create(rows, ignore_conflicts=True)


def _refuse_own_duplicate(registration: DealRegistration) -> None:
    """A partner that registers an account it already registered is told so (and nothing is stored)."""
    own = (
        registration.conflicts.filter(
            kind=RegistrationConflict.Kind.REGISTRATION, other__registrant=registration.registrant
        )
        .select_related("other")
        .order_by("other__submitted_at")
        .first()
    )
    if own is not None:
        other = own.other
        raise Conflict(
            f"You already registered this account: registration #{other.pk} "
            f"({other.account_name}, {other.get_status_display().lower()}).",
            extra={"duplicate_of": other.pk},
        )


@transaction.atomic
def registration_submit(
    *, actor, org: Organization, partnership: Partnership, overlap_id=None, **data
) -> DealRegistration:
    """A partner registers an opportunity with the vendor of the partnership."""
    require_side(actor=actor, org=org, partnership=partnership, capability=Capability.COSELL)
    require_running(partnership)
    vendor = vendor_of(partnership)
    if org.pk == vendor.pk:
        raise PermissionDeniedError("Deal registrations are made by the partner, not by the vendor.")
    fields = _clean_account(data, today=timezone.localdate())
    overlap = None
    if overlap_id not in (None, ""):
        overlap = overlap_pick_for(org=org, partnership=partnership, overlap_id=overlap_id).overlap
    _lock_vendor(vendor)
    registration = DealRegistration.objects.create(
        partnership=partnership,
        registrant=org,
        vendor=vendor,
        created_by=actor,
        overlap=overlap,
        submitted_at=timezone.now(),
        **fields,
        **account_keys(name=fields["account_name"], website=fields["website"], country=fields["country"]),
    )
    _detect(registration)
    _refuse_own_duplicate(registration)
    _record_change(registration, actor=actor, org=org, from_status="", to_status=S.SUBMITTED)
    return registration


def _locked(registration: DealRegistration) -> DealRegistration:
    return (
        DealRegistration.objects.select_for_update(of=("self",))
        .select_related("partnership", "registrant", "vendor")
        .get(pk=registration.pk)
    )


def _move(registration: DealRegistration, *, actor, org, to_status: str, note: str = "") -> DealRegistration:
    who = TRANSITIONS.get((registration.status, to_status))
    if who is None:
        raise Conflict(
            f"A registration that is {registration.get_status_display().lower()} cannot become "
            f"{S(to_status).label.lower()}."
        )
    if who == VENDOR and org.pk != registration.vendor_id:
        raise PermissionDeniedError("Only the vendor decides on a registration.")
    if who == REGISTRANT and org.pk != registration.registrant_id:
        raise PermissionDeniedError("Only the partner that registered it may do this.")
    from_status = registration.status
    registration.status = to_status
    registration.save(
        update_fields=["status", "decision_reason", "protection_until", "extended_once", "updated_at"]
    )
    _record_change(
        registration, actor=actor, org=org, from_status=from_status, to_status=to_status, note=note
    )
    return registration


def _reviewable(*, actor, org, registration) -> DealRegistration:
    require_side(
        actor=actor, org=org, partnership=registration.partnership, capability=Capability.MANAGE_PARTNERSHIPS
    )
    require_running(registration.partnership)
    if org.pk != registration.vendor_id:
        raise PermissionDeniedError("Only the vendor decides on a registration.")
    return _locked(registration)


@transaction.atomic
def registration_request_info(*, actor, org, registration, note) -> DealRegistration:
    note = clean_text(note, field="note", label="question", max_length=2000, required=True)
    registration = _reviewable(actor=actor, org=org, registration=registration)
    registration.decision_reason = note
    return _move(registration, actor=actor, org=org, to_status=S.INFO_REQUESTED, note=note)


@transaction.atomic
def registration_approve(
    *, actor, org, registration, protection_days: int = PROTECTION_DAYS, note: str = ""
) -> DealRegistration:
    note = clean_text(note, field="note", label="note", max_length=2000)
    if (
        not isinstance(protection_days, int)
        or isinstance(protection_days, bool)
        or not 1 <= protection_days <= MAX_PROTECTION_DAYS
    ):
        raise ValidationFailed(
            "The protection period is out of range.",
            extra={"protection_days": [f"From 1 to {MAX_PROTECTION_DAYS} days."]},
        )
    registration = _reviewable(actor=actor, org=org, registration=registration)
    registration.decision_reason = note
    registration.protection_until = timezone.localdate() + timedelta(days=protection_days)
    return _move(registration, actor=actor, org=org, to_status=S.APPROVED, note=note)


@transaction.atomic
def registration_reject(*, actor, org, registration, reason) -> DealRegistration:
    reason = clean_text(reason, field="reason", label="reason", max_length=2000, required=True)
    registration = _reviewable(actor=actor, org=org, registration=registration)
    registration.decision_reason = reason
    return _move(registration, actor=actor, org=org, to_status=S.REJECTED, note=reason)


@transaction.atomic
def registration_close(*, actor, org, registration, outcome: str, note: str = "") -> DealRegistration:
    if outcome not in (S.WON, S.LOST):
        raise ValidationFailed("The outcome is won or lost.", extra={"outcome": ["Use won or lost."]})
    note = clean_text(note, field="note", label="note", max_length=2000)
    registration = _reviewable(actor=actor, org=org, registration=registration)
    return _move(registration, actor=actor, org=org, to_status=outcome, note=note)


@transaction.atomic
def registration_extend(
    *, actor, org, registration, days: int = PROTECTION_DAYS, note: str = ""
) -> DealRegistration:
    """Extend an approved registration's protection, once."""
    note = clean_text(note, field="note", label="note", max_length=2000)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_PROTECTION_DAYS:
        raise ValidationFailed(
            "The extension is out of range.", extra={"days": [f"From 1 to {MAX_PROTECTION_DAYS} days."]}
        )
    registration = _reviewable(actor=actor, org=org, registration=registration)
    if registration.status != S.APPROVED:
        raise Conflict("Only an approved registration's protection can be extended.")
    if registration.extended_once:
        raise Conflict("The protection was already extended once.")
    base = max(registration.protection_until or timezone.localdate(), timezone.localdate())
    registration.protection_until = base + timedelta(days=days)
    registration.extended_once = True
    registration.save(update_fields=["protection_until", "extended_once", "updated_at"])
    _record_change(
        registration,
        actor=actor,
        org=org,
        from_status=S.APPROVED,
        to_status=S.APPROVED,
        note=note or f"Protection extended to {registration.protection_until.isoformat()}.",
    )
    return registration


@transaction.atomic
def registration_resubmit(*, actor, org, registration, note: str = "", **data) -> DealRegistration:
    """The partner answers a request for information: edits the registration (fields not given
    keep their values) and submits it again; conflicts are looked for afresh."""
    require_side(actor=actor, org=org, partnership=registration.partnership, capability=Capability.COSELL)
    require_running(registration.partnership)
    if org.pk != registration.registrant_id:
        raise PermissionDeniedError("Only the partner that registered it may do this.")
    note = clean_text(note, field="note", label="answer", max_length=2000)
    current = {name: getattr(registration, name) for name in AccountInput.__dataclass_fields__}
    current.update({k: v for k, v in data.items() if k in current and v is not None})
    if "expected_close" not in data or data["expected_close"] is None:
        current["expected_close"] = max(registration.expected_close, timezone.localdate())
    fields = _clean_account(current, today=timezone.localdate())
    _lock_vendor(registration.vendor)
    registration = _locked(registration)
    if registration.status != S.INFO_REQUESTED:
        raise Conflict("Only a registration the vendor asked about can be submitted again.")
    for name, value in {
        **fields,
        **account_keys(name=fields["account_name"], website=fields["website"], country=fields["country"]),
    }.items():
        setattr(registration, name, value)
    registration.decision_reason = ""
    registration.save()
    _detect(registration)
    _refuse_own_duplicate(registration)
    return _move(registration, actor=actor, org=org, to_status=S.SUBMITTED, note=note)


def registrations_expire(*, today: date | None = None) -> int:
    """Approved registrations whose protection ended become expired; safe to run twice (each row
    is claimed by a conditional UPDATE)."""
    today = today or timezone.localdate()
    done = 0
    due = DealRegistration.objects.filter(status=S.APPROVED, protection_until__lt=today).values_list(
        "pk", flat=True
    )
    for pk in list(due[:1000]):
        with transaction.atomic():
            claimed = DealRegistration.objects.filter(
                pk=pk, status=S.APPROVED, protection_until__lt=today
            ).update(status=S.EXPIRED, updated_at=timezone.now())
            if claimed:
                registration = DealRegistration.objects.get(pk=pk)
                _record_change(
                    registration,
                    actor=None,
                    org=None,
                    from_status=S.APPROVED,
                    to_status=S.EXPIRED,
                    note="Protection period ended.",
                )
                done += 1
    return done
