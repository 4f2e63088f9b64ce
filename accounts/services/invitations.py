from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, InvitationStatus, Membership, Organization, Role
from accounts.roles import Capability
from accounts.services.common import require_capability
from prm.common.errors import Conflict, Gone, NotFound, PermissionDeniedError, ValidationFailed
from prm.common.text import header_text


def clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(
            "Enter a valid e-mail address.", extra={"email": ["Enter a valid e-mail address."]}
        ) from None
    return email


def _send_member_invitation(invitation_id: int) -> None:
    invitation = Invitation.objects.select_related("organization", "invited_by").get(pk=invitation_id)
    link = settings.SITE_URL + reverse("portal:invitation_accept", args=[invitation.token])
    inviter = invitation.invited_by.get_full_name() if invitation.invited_by else "Someone"
    send_mail(
        # Names are checked to be one line, but a subject must never carry a line break.
        subject=header_text(f"[PRM] {inviter} invited you to join {invitation.organization.name}"),
        message=(
            f"{inviter} invited you to join {invitation.organization.name} as "
            f"{invitation.get_role_display()}.\n\nAccept the invitation: {link}\n\n"
            f"The link expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def invitation_create(*, actor, org: Organization, email: str, role: str) -> Invitation:
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_MEMBERS)
    email = clean_email(email)
    if role not in Role.values:
        raise ValidationFailed(
            f"Unknown role: {role!r}.", extra={"role": [f"Choose one of {', '.join(Role.values)}."]}
        )
    if Membership.objects.filter(organization=org, user__email__iexact=email).exists():
        raise Conflict(f"{email} is already a member of {org.name}.")
    # A pending invitation to the same address is replaced, so the newest link is the one that works.
    Invitation.objects.filter(organization=org, email=email, status=InvitationStatus.PENDING).update(
        status=InvitationStatus.REVOKED
    )
    invitation = Invitation.objects.create(
        organization=org,
        email=email,
        role=role,
        invited_by=actor,
        expires_at=timezone.now() + settings.INVITATION_TTL,
    )
    transaction.on_commit(lambda: _send_member_invitation(invitation.pk))
    return invitation


@transaction.atomic
def invitation_revoke(*, actor, invitation: Invitation) -> Invitation:
    require_capability(actor=actor, org=invitation.organization, capability=Capability.MANAGE_MEMBERS)
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(f"This invitation is already {invitation.get_status_display().lower()}.")
    invitation.status = InvitationStatus.REVOKED
    invitation.save(update_fields=["status", "updated_at"])
    return invitation


def invitation_accept(*, actor, token: str) -> Membership:
    """The signed-in user whose e-mail the invitation names joins the organization."""
    with transaction.atomic():
        try:
            invitation = (
                Invitation.objects.select_for_update()
                .select_related("organization")
                .get(token=str(token)[:64])
            )
        except Invitation.DoesNotExist:
            raise NotFound("This invitation link is not valid.") from None
        expired = invitation.status == InvitationStatus.PENDING and invitation.expires_at <= timezone.now()
        if expired:
            # Recorded (committed) before refusing, so the list of invitations shows it as expired.
            invitation.status = InvitationStatus.EXPIRED
            invitation.save(update_fields=["status", "updated_at"])
    if expired:
        raise Gone("This invitation has expired. Ask for a new one.")
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().select_related("organization").get(pk=invitation.pk)
        )
        if invitation.status == InvitationStatus.ACCEPTED:
            raise Gone("This invitation has already been used.")
        if invitation.status != InvitationStatus.PENDING:
            raise Gone(f"This invitation is no longer valid ({invitation.get_status_display().lower()}).")
        if invitation.email.lower() != actor.email.lower():
            raise PermissionDeniedError(
                f"This invitation was sent to {invitation.email}; sign in with that address to accept it."
            )
        if Membership.objects.filter(user=actor, organization=invitation.organization).exists():
            raise Conflict(f"You are already a member of {invitation.organization.name}.")
        membership = Membership.objects.create(
            user=actor, organization=invitation.organization, role=invitation.role
        )
        invitation.status = InvitationStatus.ACCEPTED
        invitation.accepted_by = actor
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["status", "accepted_by", "accepted_at", "updated_at"])
        return membership


def invitations_expire() -> int:
    """Mark every pending invitation past its expiry as expired. Safe to run twice."""
    from accounts.models import PartnershipInvitation

    now = timezone.now()
    n = Invitation.objects.filter(status=InvitationStatus.PENDING, expires_at__lte=now).update(
        status=InvitationStatus.EXPIRED, updated_at=now
    )
    n += PartnershipInvitation.objects.filter(status=InvitationStatus.PENDING, expires_at__lte=now).update(
        status=InvitationStatus.EXPIRED, updated_at=now
    )
    return n
