from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    InvitationStatus,
    Membership,
    Organization,
    Partnership,
    PartnershipInvitation,
    Stage,
    StageChange,
    Tier,
    TierChange,
)
from accounts.roles import Capability
from accounts.services.common import require_capability
from accounts.services.invitations import clean_email
from prm.common.errors import Conflict, Gone, NotFound, PermissionDeniedError, ValidationFailed
from prm.common.text import header_text


def _active_between(a: Organization, b: Organization) -> Partnership | None:
    return Partnership.objects.filter(
        Q(initiator=a, partner=b) | Q(initiator=b, partner=a), status=Partnership.Status.ACTIVE
    ).first()


def _send_partnership_invitation(invitation_id: int) -> None:
    invitation = PartnershipInvitation.objects.select_related("inviter", "invited_by").get(pk=invitation_id)
    link = settings.SITE_URL + reverse("portal:partnership_invitation", args=[invitation.token])
    send_mail(
        subject=header_text(f"[PRM] {invitation.inviter.name} invites you to partner"),  # one line, always
        message=(
            f"{invitation.inviter.name} would like to partner with your organization.\n\n"
            f"{invitation.message}\n\nReview and accept: {link}\n\n"
            f"The link expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
        ),
        from_email=None,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def partnership_invite(
    *, actor, org: Organization, email: str, message: str = "", invitee: Organization | None = None
) -> PartnershipInvitation:
    """Ask another organization to partner. Nothing is shared and no partnership exists until the
    other side accepts."""
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_PARTNERSHIPS)
    email = clean_email(email)
    if len(message or "") > 2000:
        raise ValidationFailed("The message is too long (2000 characters at most).")
    if invitee is None:
        # If the address belongs to a member of exactly one organization, address that one.
        orgs = list(
            Organization.objects.filter(memberships__user__email__iexact=email)
            .exclude(pk=org.pk)
            .distinct()[:2]
        )
        invitee = orgs[0] if len(orgs) == 1 else None
        if Membership.objects.filter(organization=org, user__email__iexact=email).exists():
            raise ValidationFailed(
                "That address belongs to your own organization; invite someone at the partner."
            )
    if invitee is not None:
        if invitee.pk == org.pk:
            raise ValidationFailed("An organization cannot partner with itself.")
        if _active_between(org, invitee):
            raise Conflict(f"You already have an active partnership with {invitee.name}.")
    pending = PartnershipInvitation.objects.filter(inviter=org, email=email, status=InvitationStatus.PENDING)
    pending.update(status=InvitationStatus.REVOKED, updated_at=timezone.now())
    invitation = PartnershipInvitation.objects.create(
        inviter=org,
        email=email,
        invitee=invitee,
        message=message or "",
        invited_by=actor,
        expires_at=timezone.now() + settings.INVITATION_TTL,
    )
    transaction.on_commit(lambda: _send_partnership_invitation(invitation.pk))
    return invitation


def _load_pending(token: str) -> PartnershipInvitation:
    """Lock the invitation; an expired one is recorded as expired (committed) and refused."""
    with transaction.atomic():
        try:
            invitation = PartnershipInvitation.objects.select_for_update().get(token=str(token)[:64])
        except PartnershipInvitation.DoesNotExist:
            raise NotFound("This partnership invitation link is not valid.") from None
        expired = invitation.status == InvitationStatus.PENDING and invitation.expires_at <= timezone.now()
        if expired:
            invitation.status = InvitationStatus.EXPIRED
            invitation.save(update_fields=["status", "updated_at"])
    if expired:
        raise Gone("This partnership invitation has expired. Ask the partner for a new one.")
    if invitation.status == InvitationStatus.ACCEPTED:
        raise Gone("This partnership invitation has already been accepted.")
    if invitation.status != InvitationStatus.PENDING:
        raise Gone(
            f"This partnership invitation is no longer valid ({invitation.get_status_display().lower()})."
        )
    return invitation


def _check_responder(*, actor, org: Organization, invitation: PartnershipInvitation) -> None:
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_PARTNERSHIPS)
    if org.pk == invitation.inviter_id:
        raise ValidationFailed("An organization cannot accept its own partnership invitation.")
    if invitation.invitee_id and invitation.invitee_id != org.pk:
        raise PermissionDeniedError("This invitation is addressed to another organization.")
    if not invitation.invitee_id and invitation.email.lower() != actor.email.lower():
        raise PermissionDeniedError(
            f"This invitation was sent to {invitation.email}; sign in with that address to answer it."
        )


def partnership_invitation_accept(*, actor, org: Organization, token: str) -> Partnership:
    """The second opt-in: the partnership starts now, at the Onboard stage."""
    _load_pending(token)
    with transaction.atomic():
        invitation = (
            PartnershipInvitation.objects.select_for_update().select_related("inviter").get(token=token)
        )
        if invitation.status != InvitationStatus.PENDING:
            raise Gone("This partnership invitation has already been answered.")
        _check_responder(actor=actor, org=org, invitation=invitation)
        if _active_between(invitation.inviter, org):
            raise Conflict(f"You already have an active partnership with {invitation.inviter.name}.")
        now = timezone.now()
        partnership = Partnership.objects.create(
            initiator=invitation.inviter, partner=org, stage=Stage.ONBOARD, started_at=now
        )
        StageChange.objects.create(
            partnership=partnership,
            from_stage="",
            to_stage=Stage.ONBOARD,
            changed_by=actor,
            changed_by_organization=org,
            note="Partnership accepted by both sides.",
            changed_at=now,
        )
        invitation.status = InvitationStatus.ACCEPTED
        invitation.invitee = org
        invitation.responded_by = actor
        invitation.responded_at = now
        invitation.partnership = partnership
        invitation.save()
        return partnership


def partnership_invitation_decline(*, actor, org: Organization, token: str) -> PartnershipInvitation:
    _load_pending(token)
    with transaction.atomic():
        invitation = PartnershipInvitation.objects.select_for_update().get(token=token)
        _check_responder(actor=actor, org=org, invitation=invitation)
        invitation.status = InvitationStatus.DECLINED
        invitation.invitee = org
        invitation.responded_by = actor
        invitation.responded_at = timezone.now()
        invitation.save()
        return invitation


@transaction.atomic
def partnership_invitation_revoke(*, actor, org: Organization, invitation: PartnershipInvitation):
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_PARTNERSHIPS)
    if invitation.inviter_id != org.pk:
        raise PermissionDeniedError("Only the inviting organization can revoke this invitation.")
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(f"This invitation is already {invitation.get_status_display().lower()}.")
    invitation.status = InvitationStatus.REVOKED
    invitation.save(update_fields=["status", "updated_at"])
    return invitation


def _lock(partnership: Partnership) -> Partnership:
    return (
        Partnership.objects.select_for_update().select_related("initiator", "partner").get(pk=partnership.pk)
    )


@transaction.atomic
def partnership_change_stage(
    *, actor, org: Organization, partnership: Partnership, stage: str, note: str = ""
) -> Partnership:
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_PARTNERSHIPS)
    if not partnership.involves(org):
        raise NotFound("Partnership not found.")
    if stage not in Stage.values:
        raise ValidationFailed(
            f"Unknown lifecycle stage: {stage!r}.",
            extra={"stage": [f"Choose one of {', '.join(Stage.values)}."]},
        )
    if len(note or "") > 2000:
        raise ValidationFailed("The note is too long (2000 characters at most).")
    partnership = _lock(partnership)
    if partnership.status != Partnership.Status.ACTIVE:
        raise Conflict("This partnership has ended; its stage can no longer change.")
    if partnership.stage == stage:
        raise ValidationFailed(f"The partnership is already at the {partnership.get_stage_display()} stage.")
    StageChange.objects.create(
        partnership=partnership,
        from_stage=partnership.stage,
        to_stage=stage,
        changed_by=actor,
        changed_by_organization=org,
        note=note or "",
    )
    partnership.stage = stage
    partnership.save(update_fields=["stage", "updated_at"])
    return partnership


@transaction.atomic
def partnership_set_tier(*, actor, org: Organization, partnership: Partnership, tier: str) -> Partnership:
    """Set the partnership's tier: only the initiator's side may (incentive rates follow the tier,
    so the partner setting its own would pay itself more). Every change is recorded."""
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_PARTNERSHIPS)
    if not partnership.involves(org):
        raise NotFound("Partnership not found.")
    if not partnership.sets_tier(org):
        raise PermissionDeniedError(f"Only {partnership.initiator.name} sets the tier of this partnership.")
    if tier not in Tier.values:
        raise ValidationFailed(
            f"Unknown tier: {tier!r}.", extra={"tier": [f"Choose one of {', '.join(Tier.values)}."]}
        )
    partnership = _lock(partnership)
    if partnership.status != Partnership.Status.ACTIVE:
        raise Conflict("This partnership has ended.")
    if partnership.tier == tier:
        return partnership
    TierChange.objects.create(
        partnership=partnership,
        from_tier=partnership.tier,
        to_tier=tier,
        changed_by=actor,
        changed_by_organization=org,
    )
    partnership.tier = tier
    partnership.save(update_fields=["tier", "updated_at"])
    return partnership


@transaction.atomic
def partnership_end(*, actor, org: Organization, partnership: Partnership, reason: str = "") -> Partnership:
    """Either side may end a partnership at any time; sharing stops with it."""
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_PARTNERSHIPS)
    if not partnership.involves(org):
        raise NotFound("Partnership not found.")
    partnership = _lock(partnership)
    if partnership.status == Partnership.Status.ENDED:
        raise Conflict("This partnership has already ended.")
    partnership.status = Partnership.Status.ENDED
    partnership.ended_at = timezone.now()
    partnership.ended_by = actor
    partnership.ended_by_organization = org
    partnership.end_reason = (reason or "")[:2000]
    partnership.save()
    return partnership
