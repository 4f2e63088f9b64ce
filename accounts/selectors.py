"""Every read of accounts data, scoped to the caller's organization."""

from django.db.models import Q, QuerySet

from accounts.models import (
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
    Partnership,
    PartnershipInvitation,
    StageChange,
    TierChange,
)
from prm.common.errors import NotFound
from prm.common.rows import as_id, columns, fetch_all, fetch_one


def memberships_of(*, user) -> list[Membership]:
    """The user's memberships, their organizations attached, by organization name, in one plain
    query (every signed-in request reads them: accounts.context.memberships)."""
    member, org = Membership._meta.db_table, Organization._meta.db_table
    rows = fetch_all(
        f"SELECT {columns(Membership, 'm')}, {columns(Organization, 'o')} FROM {member} m "  # nosec B608  # names from the models and code; values are query parameters
        f"JOIN {org} o ON o.id = m.organization_id WHERE m.user_id = %s ORDER BY o.name, o.id",
        [user.pk],
        Membership,
        Organization,
    )
    out = []
    for membership, organization in rows:
        membership.organization = organization
        membership.user = user  # already loaded: no second read of the user row
        out.append(membership)
    return out


def membership_for(*, user, organization_id) -> Membership:
    try:
        return Membership.objects.select_related("organization").get(
            user=user, organization_id=organization_id
        )
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise NotFound("Organization not found.") from None


def organization_members(*, org: Organization) -> QuerySet[Membership]:
    return Membership.objects.filter(organization=org).select_related("user").order_by("user__email")


def organization_member(*, org: Organization, membership_id) -> Membership:
    try:
        return organization_members(org=org).get(pk=membership_id)
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise NotFound("Member not found.") from None


def organization_invitations(*, org: Organization) -> QuerySet[Invitation]:
    return Invitation.objects.filter(organization=org).select_related("invited_by").order_by("-created_at")


def organization_invitation(*, org: Organization, invitation_id) -> Invitation:
    try:
        return organization_invitations(org=org).get(pk=invitation_id)
    except (Invitation.DoesNotExist, ValueError, TypeError):
        raise NotFound("Invitation not found.") from None


def invitation_by_token(*, token: str) -> Invitation:
    try:
        return Invitation.objects.select_related("organization").get(token=str(token)[:64])
    except Invitation.DoesNotExist:
        raise NotFound("This invitation link is not valid.") from None


def partnerships_of(*, org: Organization, include_ended: bool = True) -> QuerySet[Partnership]:
    qs = Partnership.objects.filter(Q(initiator=org) | Q(partner=org)).select_related("initiator", "partner")
    if not include_ended:
        qs = qs.filter(status=Partnership.Status.ACTIVE)
    return qs.order_by("status", "-created_at")


def partnership_for(*, org: Organization, partnership_id) -> Partnership:
    """The one way to fetch a partnership for a caller: 404 unless their organization is a side."""
    pk = as_id(partnership_id)
    if pk is None:
        raise NotFound("Partnership not found.")
    # partnerships_of(org=org).get(pk=...), in one plain query: read on every partnership request
    table, orgs = Partnership._meta.db_table, Organization._meta.db_table
    found = fetch_one(
        f"SELECT {columns(Partnership, 'p')}, {columns(Organization, 'i')}, {columns(Organization, 'o')} "  # nosec B608  # names from the models and code; values are query parameters
        f"FROM {table} p JOIN {orgs} i ON i.id = p.initiator_id JOIN {orgs} o ON o.id = p.partner_id "
        f"WHERE p.id = %s AND (p.initiator_id = %s OR p.partner_id = %s)",
        [pk, org.pk, org.pk],
        Partnership,
        Organization,
        Organization,
    )
    if found is None:
        raise NotFound("Partnership not found.")
    partnership, partnership.initiator, partnership.partner = found
    return partnership


def partnership_stage_changes(*, org: Organization, partnership_id) -> QuerySet[StageChange]:
    partnership = partnership_for(org=org, partnership_id=partnership_id)
    return partnership.stage_changes.select_related("changed_by", "changed_by_organization")


def partnership_tier_changes(*, org: Organization, partnership_id) -> QuerySet[TierChange]:
    """Who set the tier, from what, to what, when: both sides read it."""
    partnership = partnership_for(org=org, partnership_id=partnership_id)
    return partnership.tier_changes.select_related("changed_by", "changed_by_organization")


def partnership_invitations_of(*, org: Organization) -> QuerySet[PartnershipInvitation]:
    """Sent by the organization, or addressed to it."""
    return (
        PartnershipInvitation.objects.filter(Q(inviter=org) | Q(invitee=org))
        .select_related("inviter", "invitee", "invited_by")
        .order_by("-created_at")
    )


def partnership_invitation_for(*, org: Organization, invitation_id) -> PartnershipInvitation:
    try:
        return partnership_invitations_of(org=org).get(pk=invitation_id)
    except (PartnershipInvitation.DoesNotExist, ValueError, TypeError):
        raise NotFound("Partnership invitation not found.") from None


def partnership_invitation_by_token(*, token: str) -> PartnershipInvitation:
    try:
        return PartnershipInvitation.objects.select_related("inviter", "invitee").get(token=str(token)[:64])
    except PartnershipInvitation.DoesNotExist:
        raise NotFound("This partnership invitation link is not valid.") from None


def pending_partnership_invitations_for_user(*, user) -> QuerySet[PartnershipInvitation]:
    return PartnershipInvitation.objects.filter(
        status=InvitationStatus.PENDING, email__iexact=user.email
    ).select_related("inviter")
