"""Checks every co-sell write makes: who asks, for which side, on a partnership still running."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import pycountry
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator

from accounts.models import Membership, Organization, Partnership
from accounts.roles import Capability
from accounts.services.common import require_capability
from prm.common.errors import Conflict, NotFound, ValidationFailed
from prm.common.text import clean_single_line, unstorable

CENTS = Decimal("0.01")
MAX_VALUE = Decimal("999999999999.99")  # what DealRegistration.value holds (14 digits, 2 decimals)


def vendor_of(partnership: Partnership) -> Organization:
    """The side that receives deal registrations: the one organization of kind "vendor" if exactly
    one is, else the initiator (who invited its partner into its program)."""
    vendors = [o for o in (partnership.initiator, partnership.partner) if o.kind == Organization.Kind.VENDOR]
    return vendors[0] if len(vendors) == 1 else partnership.initiator


def require_side(*, actor, org: Organization, partnership: Partnership, capability: Capability) -> Membership:
    """The actor's membership in org, org a side of the partnership and the role granting capability."""
    if not partnership.involves(org):
        raise NotFound("Partnership not found.")
    return require_capability(actor=actor, org=org, capability=capability)


def require_running(partnership: Partnership) -> None:
    if partnership.status != Partnership.Status.ACTIVE:
        raise Conflict("The partnership has ended: nothing can be changed in it any more.")


def clean_text(value, *, field: str, label: str, max_length: int, required: bool = False) -> str:
    """A multi-line text: stripped, storable, bounded; line breaks and tabs are fine, other control
    characters are not."""
    text = ("" if value is None else str(value)).strip()
    if not text and required:
        raise ValidationFailed(f"The {label} is required.", extra={field: ["This field is required."]})
    problem = unstorable(text)
    if problem is None and re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text):
        problem = f"The {label} may not contain control characters."
    if problem is None and len(text) > max_length:
        problem = f"The {label} is too long ({max_length} characters at most)."
    if problem:
        raise ValidationFailed(problem, extra={field: [problem]})
    return text


def clean_line(value, *, field: str, label: str, max_length: int, required: bool = False) -> str:
    text = clean_single_line(value, field=field, label=label, max_length=max_length, required=required)
    problem = unstorable(text)
    if problem:
        raise ValidationFailed(problem, extra={field: [problem]})
    return text


def clean_money(value, *, field: str = "value") -> Decimal:
    """A non-negative amount, rounded half up to the cent; never a float."""
    if isinstance(value, float) or isinstance(value, bool):
        raise ValidationFailed(
            'Give the amount as a decimal text, e.g. "1250.00".', extra={field: ["Not a decimal."]}
        )
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed("The amount is not a number.", extra={field: ["Not a decimal."]}) from None
    if not amount.is_finite():
        raise ValidationFailed("The amount is not a number.", extra={field: ["Not a decimal."]})
    if amount < 0:
        raise ValidationFailed("The amount may not be negative.", extra={field: ["Must be 0 or more."]})
    if amount > MAX_VALUE:
        raise ValidationFailed("The amount is too large.", extra={field: [f"At most {MAX_VALUE}."]})
    return amount.quantize(CENTS, rounding=ROUND_HALF_UP)


def clean_currency(value, *, field: str = "currency") -> str:
    code = str(value or "").strip().upper()
    if not re.fullmatch("[A-Z]{3}", code) or pycountry.currencies.get(alpha_3=code) is None:
        message = "Use an ISO 4217 currency code, e.g. EUR or USD."
        raise ValidationFailed(message, extra={field: [message]})
    return code


def clean_future_date(value, *, field: str, label: str, today: date, max_days: int) -> date:
    if not isinstance(value, date):
        raise ValidationFailed(f"The {label} is not a date.", extra={field: ["Not a date."]})
    if value < today:
        message = f"The {label} may not be in the past."
        raise ValidationFailed(message, extra={field: [message]})
    if value > today + timedelta(days=max_days):
        message = f"The {label} is too far ahead ({max_days} days at most)."
        raise ValidationFailed(message, extra={field: [message]})
    return value


def clean_email(value, *, field: str) -> str:
    text = clean_line(value, field=field, label="contact e-mail", max_length=254)
    if text:
        try:
            EmailValidator()(text)
        except DjangoValidationError:
            raise ValidationFailed(
                "The contact e-mail is not valid.", extra={field: ["Not an e-mail address."]}
            ) from None
    return text.lower()


def clean_country(value, *, field: str = "country") -> str:
    from mapping.engine import country_code

    text = clean_line(value, field=field, label="country", max_length=100)
    if text and not country_code(text):
        raise ValidationFailed("Unknown country.", extra={field: ["Use a country name or ISO code."]})
    return text


def add_business_days(start: date, days: int) -> date:
    out = start
    while days > 0:
        out += timedelta(days=1)
        if out.weekday() < 5:
            days -= 1
    return out
