from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors
from accounts.context import SESSION_KEY
from accounts.forms import (
    EndForm,
    InvitationForm,
    OrganizationForm,
    PartnershipInviteForm,
    RespondForm,
    RoleForm,
    StageForm,
    TierForm,
)
from accounts.models import InvitationStatus, Membership, Role, Stage
from accounts.roles import Capability, role_can
from accounts.services import invitations as invitation_services
from accounts.services import organizations as org_services
from accounts.services import partnerships as partnership_services
from prm.common.errors import ApplicationError, NotFound
from prm.common.portal import apply_error_to_form, portal_view


@portal_view
def dashboard(request):
    partnerships = selectors.partnerships_of(org=request.org, include_ended=False)
    received = [
        inv
        for inv in selectors.pending_partnership_invitations_for_user(user=request.user)
        if not inv.is_expired and inv.inviter_id != request.org.pk
    ]
    return render(
        request,
        "accounts/dashboard.html",
        {"partnerships": partnerships, "received_invitations": received, "stages": Stage.choices},
    )


@login_required
def organization_create(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = org_services.organization_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            apply_error_to_form(form, exc)
        else:
            request.session[SESSION_KEY] = org.pk
            messages.success(request, f"{org.name} is ready. Invite your colleagues and partners.")
            return redirect("portal:organization")
    return render(request, "accounts/organization_create.html", {"form": form})


@login_required
@require_POST
def organization_switch(request):
    try:
        membership = selectors.membership_for(
            user=request.user, organization_id=request.POST.get("organization")
        )
    except NotFound:
        raise Http404("Organization not found.") from None
    request.session[SESSION_KEY] = membership.organization_id
    return redirect("portal:dashboard")


@portal_view
def organization(request):
    org = request.org
    can_manage = role_can(request.membership.role, Capability.MANAGE_MEMBERS)
    org_form = OrganizationForm(initial={"name": org.name, "kind": org.kind, "website": org.website})
    invite_form = InvitationForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "update":
            org_form = OrganizationForm(request.POST)
            if org_form.is_valid():
                try:
                    org_services.organization_update(actor=request.user, org=org, **org_form.cleaned_data)
                except ApplicationError as exc:
                    apply_error_to_form(org_form, exc)
                else:
                    messages.success(request, "Organization updated.")
                    return redirect("portal:organization")
        elif action == "invite":
            invite_form = InvitationForm(request.POST)
            if invite_form.is_valid():
                try:
                    invitation = invitation_services.invitation_create(
                        actor=request.user, org=org, **invite_form.cleaned_data
                    )
                except ApplicationError as exc:
                    apply_error_to_form(invite_form, exc)
                else:
                    messages.success(request, f"Invitation sent to {invitation.email}.")
                    return redirect("portal:organization")
        else:
            messages.error(request, "Unknown action.")
    return render(
        request,
        "accounts/organization.html",
        {
            "members": selectors.organization_members(org=org),
            "invitations": selectors.organization_invitations(org=org).filter(
                status=InvitationStatus.PENDING
            ),
            "org_form": org_form,
            "invite_form": invite_form,
            "can_manage": can_manage,
            "roles": Role.choices,
        },
    )


@portal_view
@require_POST
def member_role(request, member_id: int):
    member = selectors.organization_member(org=request.org, membership_id=member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
    else:
        org_services.membership_change_role(
            actor=request.user, membership=member, role=form.cleaned_data["role"]
        )
        messages.success(request, f"{member.user.email} is now {member.get_role_display()}.")
    return redirect("portal:organization")


@portal_view
@require_POST
def member_remove(request, member_id: int):
    member = selectors.organization_member(org=request.org, membership_id=member_id)
    org_services.membership_remove(actor=request.user, membership=member)
    messages.success(request, f"{member.user.email} was removed from {request.org.name}.")
    if member.user_id == request.user.pk:
        request.session.pop(SESSION_KEY, None)
        return redirect("portal:dashboard")
    return redirect("portal:organization")


@portal_view
@require_POST
def invitation_revoke(request, invitation_id: int):
    invitation = selectors.organization_invitation(org=request.org, invitation_id=invitation_id)
    invitation_services.invitation_revoke(actor=request.user, invitation=invitation)
    messages.success(request, f"Invitation to {invitation.email} revoked.")
    return redirect("portal:organization")


@login_required
def invitation_accept(request, token: str):
    """The link from an invitation e-mail. The invited person signs in (or signs up) first."""
    try:
        invitation = selectors.invitation_by_token(token=token)
    except NotFound:
        raise Http404("This invitation link is not valid.") from None
    error = None
    if request.method == "POST":
        try:
            membership = invitation_services.invitation_accept(actor=request.user, token=token)
        except NotFound:
            raise Http404("This invitation link is not valid.") from None
        except ApplicationError as exc:
            error = exc.message
        else:
            request.session[SESSION_KEY] = membership.organization_id
            messages.success(request, f"Welcome to {membership.organization.name}.")
            return redirect("portal:dashboard")
    elif invitation.is_expired:
        error = "This invitation has expired. Ask for a new one."
    elif invitation.status != InvitationStatus.PENDING:
        error = (
            "This invitation has already been used."
            if invitation.status == InvitationStatus.ACCEPTED
            else (f"This invitation is no longer valid ({invitation.get_status_display().lower()}).")
        )
    return render(
        request,
        "accounts/invitation_accept.html",
        {"invitation": invitation, "error": error},
        status=410 if error and request.method == "GET" else 200,
    )


@portal_view
def partnerships(request):
    org = request.org
    invite_form = PartnershipInviteForm()
    if request.method == "POST":
        invite_form = PartnershipInviteForm(request.POST)
        if invite_form.is_valid():
            try:
                invitation = partnership_services.partnership_invite(
                    actor=request.user, org=org, **invite_form.cleaned_data
                )
            except ApplicationError as exc:
                apply_error_to_form(invite_form, exc)
            else:
                messages.success(request, f"Partnership invitation sent to {invitation.email}.")
                return redirect("portal:partnerships")
    invitations = selectors.partnership_invitations_of(org=org).filter(status=InvitationStatus.PENDING)
    return render(
        request,
        "accounts/partnerships.html",
        {
            "partnerships": selectors.partnerships_of(org=org),
            "invitations": invitations,
            "invite_form": invite_form,
            "can_manage": role_can(request.membership.role, Capability.MANAGE_PARTNERSHIPS),
        },
    )


def _partnership_context(request, partnership, **forms):
    stage_values = [s for s, _ in Stage.choices]
    current_index = stage_values.index(partnership.stage)
    return {
        "partnership": partnership,
        "other": partnership.other(request.org),
        "stages": [
            {"value": v, "label": label, "done": i < current_index, "current": i == current_index}
            for i, (v, label) in enumerate(Stage.choices)
        ],
        "changes": partnership.stage_changes.select_related("changed_by", "changed_by_organization")[:50],
        "tier_changes": selectors.partnership_tier_changes(org=request.org, partnership_id=partnership.pk)[
            :50
        ],
        "can_manage": role_can(request.membership.role, Capability.MANAGE_PARTNERSHIPS)
        and partnership.status == partnership.Status.ACTIVE,
        "can_set_tier": partnership.sets_tier(request.org),
        "stage_form": forms.get("stage_form") or StageForm(initial={"stage": partnership.stage}),
        "tier_form": forms.get("tier_form") or TierForm(initial={"tier": partnership.tier}),
        "end_form": forms.get("end_form") or EndForm(),
    }


@portal_view
def partnership_detail(request, partnership_id: int):
    partnership = selectors.partnership_for(org=request.org, partnership_id=partnership_id)
    forms = {}
    if request.method == "POST":
        action = request.POST.get("action")
        form_class, service, key = {
            "stage": (StageForm, partnership_services.partnership_change_stage, "stage_form"),
            "tier": (TierForm, partnership_services.partnership_set_tier, "tier_form"),
            "end": (EndForm, partnership_services.partnership_end, "end_form"),
        }.get(action, (None, None, None))
        if form_class is None:
            messages.error(request, "Unknown action.")
        else:
            form = forms[key] = form_class(request.POST)
            if form.is_valid():
                try:
                    partnership = service(
                        actor=request.user, org=request.org, partnership=partnership, **form.cleaned_data
                    )
                except ApplicationError as exc:
                    apply_error_to_form(form, exc)
                else:
                    forms = {}
                    messages.success(
                        request,
                        {
                            "stage": f"Stage changed to {partnership.get_stage_display()}.",
                            "tier": f"Tier set to {partnership.get_tier_display()}.",
                            "end": "The partnership has ended.",
                        }[action],
                    )
                    if not request.htmx:
                        return redirect("portal:partnership_detail", partnership_id=partnership.pk)
    context = _partnership_context(request, partnership, **forms)
    if getattr(request, "htmx", False):
        return render(request, "accounts/_lifecycle.html", context)
    return render(request, "accounts/partnership_detail.html", context)


@login_required
def partnership_invitation(request, token: str):
    """The partner's side of the dual opt-in: accept or decline for one of my organizations."""
    try:
        invitation = selectors.partnership_invitation_by_token(token=token)
    except NotFound:
        raise Http404("This partnership invitation link is not valid.") from None
    manageable = [
        m.organization_id
        for m in Membership.objects.filter(user=request.user)
        if role_can(m.role, Capability.MANAGE_PARTNERSHIPS) and m.organization_id != invitation.inviter_id
    ]
    from accounts.models import Organization

    orgs = Organization.objects.filter(pk__in=manageable)
    if invitation.invitee_id:
        orgs = orgs.filter(pk=invitation.invitee_id)
    form = RespondForm(request.POST or None, organizations=orgs)
    error = None
    if request.method == "POST" and form.is_valid():
        org = form.cleaned_data["organization"]
        try:
            if form.cleaned_data["decision"] == "accept":
                partnership = partnership_services.partnership_invitation_accept(
                    actor=request.user, org=org, token=token
                )
                request.session[SESSION_KEY] = org.pk
                messages.success(request, f"You are now partners with {invitation.inviter.name}.")
                return redirect("portal:partnership_detail", partnership_id=partnership.pk)
            partnership_services.partnership_invitation_decline(actor=request.user, org=org, token=token)
            messages.info(request, f"You declined {invitation.inviter.name}'s invitation.")
            return redirect("portal:dashboard")
        except NotFound:
            raise Http404("This partnership invitation link is not valid.") from None
        except ApplicationError as exc:
            error = exc.message
    elif invitation.is_expired:
        error = "This partnership invitation has expired. Ask the partner for a new one."
    elif invitation.status != InvitationStatus.PENDING:
        error = f"This partnership invitation is already {invitation.get_status_display().lower()}."
    return render(
        request,
        "accounts/partnership_invitation.html",
        {"invitation": invitation, "form": form, "error": error, "has_orgs": orgs.exists()},
    )


@portal_view
@require_POST
def partnership_invitation_revoke(request, invitation_id: int):
    invitation = selectors.partnership_invitation_for(org=request.org, invitation_id=invitation_id)
    partnership_services.partnership_invitation_revoke(
        actor=request.user, org=request.org, invitation=invitation
    )
    messages.success(request, f"Invitation to {invitation.email} revoked.")
    return redirect("portal:partnerships")
