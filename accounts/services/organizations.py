from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.models import Membership, Organization, Role
from accounts.roles import Capability
from accounts.services.common import require_capability
from prm.common.errors import Conflict, ValidationFailed
from prm.common.text import clean_single_line, model_max_length


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "org"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _clean_name(name) -> str:
    # One line: the name goes into e-mail subjects (a line break there is a BadHeaderError).
    return clean_single_line(
        name, field="name", label="organization name", max_length=model_max_length(Organization, "name")
    )


def _clean_website(website) -> str:
    return clean_single_line(
        website,
        field="website",
        label="website",
        required=False,
        max_length=model_max_length(Organization, "website"),
    )


@transaction.atomic
def organization_create(
    *, actor, name: str, kind: str = Organization.Kind.OTHER, website: str = ""
) -> Organization:
    """A new organization with the actor as its first admin."""
    name = _clean_name(name)
    website = _clean_website(website)
    if kind not in Organization.Kind.values:
        raise ValidationFailed(f"Unknown organization kind: {kind!r}.")
    org = Organization.objects.create(name=name, slug=_unique_slug(name), kind=kind, website=website)
    Membership.objects.create(user=actor, organization=org, role=Role.ADMIN)
    return org


@transaction.atomic
def organization_update(
    *, actor, org: Organization, name: str | None = None, website: str | None = None, kind: str | None = None
) -> Organization:
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_MEMBERS)
    if name is not None:
        org.name = _clean_name(name)
    if website is not None:
        org.website = _clean_website(website)
    if kind is not None:
        if kind not in Organization.Kind.values:
            raise ValidationFailed(f"Unknown organization kind: {kind!r}.")
        org.kind = kind
    org.save()
    return org


def _admin_count(org: Organization) -> int:
    return Membership.objects.filter(organization=org, role=Role.ADMIN).count()


@transaction.atomic
def membership_change_role(*, actor, membership: Membership, role: str) -> Membership:
    require_capability(actor=actor, org=membership.organization, capability=Capability.MANAGE_MEMBERS)
    if role not in Role.values:
        raise ValidationFailed(
            f"Unknown role: {role!r}.", extra={"role": [f"Choose one of {', '.join(Role.values)}."]}
        )
    # Lock the organization's admin rows so two demotions cannot leave it without an admin.
    list(Membership.objects.select_for_update().filter(organization=membership.organization, role=Role.ADMIN))
    if membership.role == Role.ADMIN and role != Role.ADMIN and _admin_count(membership.organization) <= 1:
        raise Conflict("An organization keeps at least one admin.")
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    return membership


@transaction.atomic
def membership_remove(*, actor, membership: Membership) -> None:
    if membership.user_id != actor.pk:  # anyone may leave; removing others needs the capability
        require_capability(actor=actor, org=membership.organization, capability=Capability.MANAGE_MEMBERS)
    list(Membership.objects.select_for_update().filter(organization=membership.organization, role=Role.ADMIN))
    if membership.role == Role.ADMIN and _admin_count(membership.organization) <= 1:
        raise Conflict("An organization keeps at least one admin.")
    try:
        membership.delete()
    except IntegrityError as exc:  # pragma: no cover - defensive
        raise Conflict("This member could not be removed.") from exc
