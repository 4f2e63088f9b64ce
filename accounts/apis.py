from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors
from accounts.auth import ClientAddressThrottle
from accounts.models import Invitation, Organization, PartnershipInvitation, Role, Stage, Tier
from accounts.services import invitations as invitation_services
from accounts.services import organizations as org_services
from accounts.services import partnerships as partnership_services
from accounts.services import tokens as token_services
from prm.common.api import OrgAPIView, PaginatedAPIView, parse
from prm.common.text import model_max_length

# ---------------------------------------------------------------- output serializers


class OrganizationOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    kind = serializers.CharField()
    website = serializers.CharField()


class MembershipOfMeOut(serializers.Serializer):
    organization = OrganizationOut()
    role = serializers.CharField()


class MemberOut(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField(source="user.email")
    full_name = serializers.CharField(source="user.full_name")
    role = serializers.CharField()
    joined_at = serializers.DateTimeField(source="created_at")


class InvitationOut(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.CharField()
    status = serializers.CharField()
    expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class OrgRefOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PartnershipOut(serializers.Serializer):
    id = serializers.IntegerField()
    initiator = OrgRefOut()
    partner = OrgRefOut()
    status = serializers.CharField()
    stage = serializers.CharField()
    tier = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)


class StageChangeOut(serializers.Serializer):
    id = serializers.IntegerField()
    from_stage = serializers.CharField()
    to_stage = serializers.CharField()
    note = serializers.CharField()
    changed_at = serializers.DateTimeField()
    changed_by = serializers.SerializerMethodField()
    changed_by_organization = serializers.CharField(source="changed_by_organization.name", default=None)

    def get_changed_by(self, obj) -> str | None:
        return obj.changed_by.email if obj.changed_by else None


class TierChangeOut(serializers.Serializer):
    id = serializers.IntegerField()
    from_tier = serializers.CharField()
    to_tier = serializers.CharField()
    changed_at = serializers.DateTimeField()
    changed_by = serializers.SerializerMethodField()
    changed_by_organization = serializers.CharField(source="changed_by_organization.name", default=None)

    def get_changed_by(self, obj) -> str | None:
        return obj.changed_by.email if obj.changed_by else None


class PartnershipInvitationOut(serializers.Serializer):
    id = serializers.IntegerField()
    inviter = OrgRefOut()
    invitee = OrgRefOut(allow_null=True)
    email = serializers.EmailField()
    status = serializers.CharField()
    message = serializers.CharField()
    expires_at = serializers.DateTimeField()
    partnership_id = serializers.IntegerField(allow_null=True)


# ---------------------------------------------------------------- input serializers


class TokenIn(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(max_length=512, trim_whitespace=False)
    code = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="",
        help_text="Required when the account has two-factor authentication: the current code of the "
        "authenticator app, or an unused recovery code.",
    )


class OrganizationUpdateIn(serializers.Serializer):
    name = serializers.CharField(max_length=model_max_length(Organization, "name"), required=False)
    website = serializers.URLField(
        max_length=model_max_length(Organization, "website"), required=False, allow_blank=True
    )
    kind = serializers.ChoiceField(choices=Organization.Kind.choices, required=False)


class OrganizationCreateIn(serializers.Serializer):
    name = serializers.CharField(max_length=model_max_length(Organization, "name"))
    website = serializers.URLField(
        max_length=model_max_length(Organization, "website"), required=False, allow_blank=True, default=""
    )
    kind = serializers.ChoiceField(choices=Organization.Kind.choices, default=Organization.Kind.OTHER)


class RoleIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationIn(serializers.Serializer):
    email = serializers.EmailField(max_length=model_max_length(Invitation, "email"))
    role = serializers.ChoiceField(choices=Role.choices)


class TokenOnlyIn(serializers.Serializer):
    token = serializers.CharField(max_length=64)


class StageIn(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Stage.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class TierIn(serializers.Serializer):
    tier = serializers.ChoiceField(choices=Tier.choices)


class EndIn(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class PartnershipInviteIn(serializers.Serializer):
    email = serializers.EmailField(max_length=model_max_length(PartnershipInvitation, "email"))
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


# ---------------------------------------------------------------- views


class TokenErrorOut(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class TokenObtainApi(APIView):
    """Exchange e-mail and password (and, with two-factor authentication, a code) for an API token
    (expires; see API_TOKEN_TTL). Limited per client address (the `token` throttle rate)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ClientAddressThrottle]
    throttle_scope = "token"

    class TokenOut(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(
        request=TokenIn,
        responses={
            200: TokenOut,
            400: OpenApiResponse(TokenErrorOut, description="Invalid input (`code`: invalid)."),
            401: OpenApiResponse(
                TokenErrorOut,
                description="Wrong e-mail or password (`authentication_failed`); the account has two-factor "
                "authentication and `code` is missing (`mfa_code_required`) or wrong (`mfa_code_invalid`).",
            ),
            403: OpenApiResponse(
                TokenErrorOut, description="An organization admin without an authenticator app (`mfa_required`): "
                "set it up in the portal first.",
            ),
            429: OpenApiResponse(
                TokenErrorOut, description="Too many requests from this address, or too many failed sign-ins "
                "(`throttled`, `locked_out`, `too_many_attempts`).",
            ),
        },
    )
    def post(self, request):
        data = parse(TokenIn, request.data)
        user = authenticate(request._request, email=data["email"], password=data["password"])
        if user is None or not user.is_active:
            return Response(
                {"detail": "Unable to sign in with these credentials.", "code": "authentication_failed"},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        token = token_services.api_token_issue(request=request._request, user=user, code=data["code"])
        return Response({"token": token.key})


class MeApi(APIView):
    class MeOut(serializers.Serializer):
        email = serializers.EmailField()
        full_name = serializers.CharField()
        memberships = MembershipOfMeOut(many=True)

    @extend_schema(responses=MeOut)
    def get(self, request):
        memberships = selectors.memberships_of(user=request.user)
        return Response(
            self.MeOut(
                {"email": request.user.email, "full_name": request.user.full_name, "memberships": memberships}
            ).data
        )


class OrganizationListApi(APIView):
    @extend_schema(responses=OrganizationOut(many=True))
    def get(self, request):
        orgs = [m.organization for m in selectors.memberships_of(user=request.user)]
        return Response(OrganizationOut(orgs, many=True).data)

    @extend_schema(request=OrganizationCreateIn, responses={201: OrganizationOut})
    def post(self, request):
        data = parse(OrganizationCreateIn, request.data)
        org = org_services.organization_create(actor=request.user, **data)
        return Response(OrganizationOut(org).data, status=status.HTTP_201_CREATED)


class OrganizationDetailApi(APIView):
    @extend_schema(responses=OrganizationOut)
    def get(self, request, org_id: int):
        membership = selectors.membership_for(user=request.user, organization_id=org_id)
        return Response(OrganizationOut(membership.organization).data)

    @extend_schema(request=OrganizationUpdateIn, responses=OrganizationOut)
    def patch(self, request, org_id: int):
        membership = selectors.membership_for(user=request.user, organization_id=org_id)
        data = parse(OrganizationUpdateIn, request.data)
        org = org_services.organization_update(actor=request.user, org=membership.organization, **data)
        return Response(OrganizationOut(org).data)


class MemberListApi(PaginatedAPIView):
    @extend_schema(responses=MemberOut(many=True))
    def get(self, request, org_id: int):
        org = selectors.membership_for(user=request.user, organization_id=org_id).organization
        return self.paginate(selectors.organization_members(org=org), MemberOut)


class MemberDetailApi(APIView):
    @extend_schema(request=RoleIn, responses=MemberOut)
    def patch(self, request, org_id: int, member_id: int):
        org = selectors.membership_for(user=request.user, organization_id=org_id).organization
        member = selectors.organization_member(org=org, membership_id=member_id)
        data = parse(RoleIn, request.data)
        member = org_services.membership_change_role(actor=request.user, membership=member, role=data["role"])
        return Response(MemberOut(member).data)

    @extend_schema(responses={204: None})
    def delete(self, request, org_id: int, member_id: int):
        org = selectors.membership_for(user=request.user, organization_id=org_id).organization
        member = selectors.organization_member(org=org, membership_id=member_id)
        org_services.membership_remove(actor=request.user, membership=member)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListApi(PaginatedAPIView):
    @extend_schema(responses=InvitationOut(many=True))
    def get(self, request, org_id: int):
        org = selectors.membership_for(user=request.user, organization_id=org_id).organization
        return self.paginate(selectors.organization_invitations(org=org), InvitationOut)

    @extend_schema(request=InvitationIn, responses={201: InvitationOut})
    def post(self, request, org_id: int):
        org = selectors.membership_for(user=request.user, organization_id=org_id).organization
        data = parse(InvitationIn, request.data)
        invitation = invitation_services.invitation_create(actor=request.user, org=org, **data)
        return Response(InvitationOut(invitation).data, status=status.HTTP_201_CREATED)


class InvitationRevokeApi(APIView):
    @extend_schema(request=None, responses=InvitationOut)
    def post(self, request, org_id: int, invitation_id: int):
        org = selectors.membership_for(user=request.user, organization_id=org_id).organization
        invitation = selectors.organization_invitation(org=org, invitation_id=invitation_id)
        invitation = invitation_services.invitation_revoke(actor=request.user, invitation=invitation)
        return Response(InvitationOut(invitation).data)


class InvitationAcceptApi(APIView):
    @extend_schema(request=TokenOnlyIn, responses=MembershipOfMeOut)
    def post(self, request):
        data = parse(TokenOnlyIn, request.data)
        membership = invitation_services.invitation_accept(actor=request.user, token=data["token"])
        return Response(MembershipOfMeOut(membership).data, status=status.HTTP_201_CREATED)


class PartnershipListApi(OrgAPIView):
    @extend_schema(responses=PartnershipOut(many=True))
    def get(self, request):
        return self.paginate(selectors.partnerships_of(org=self.org), PartnershipOut)


class PartnershipDetailApi(OrgAPIView):
    @extend_schema(responses=PartnershipOut)
    def get(self, request, partnership_id: int):
        return Response(PartnershipOut(selectors.partnership_for(org=self.org, partnership_id=partnership_id)).data)


class PartnershipStageApi(OrgAPIView):
    """Move the partnership to another POEM lifecycle stage; the change is recorded."""

    @extend_schema(request=StageIn, responses=PartnershipOut)
    def post(self, request, partnership_id: int):
        partnership = selectors.partnership_for(org=self.org, partnership_id=partnership_id)
        data = parse(StageIn, request.data)
        partnership = partnership_services.partnership_change_stage(
            actor=request.user, org=self.org, partnership=partnership, **data
        )
        return Response(PartnershipOut(partnership).data)


class PartnershipStageChangesApi(OrgAPIView):
    @extend_schema(responses=StageChangeOut(many=True))
    def get(self, request, partnership_id: int):
        changes = selectors.partnership_stage_changes(org=self.org, partnership_id=partnership_id)
        return self.paginate(changes, StageChangeOut)


class PartnershipTierApi(OrgAPIView):
    @extend_schema(request=TierIn, responses=PartnershipOut)
    def post(self, request, partnership_id: int):
        """Set the tier (the initiator's side only; the partner gets 403); the change is recorded."""
        partnership = selectors.partnership_for(org=self.org, partnership_id=partnership_id)
        data = parse(TierIn, request.data)
        partnership = partnership_services.partnership_set_tier(
            actor=request.user, org=self.org, partnership=partnership, tier=data["tier"]
        )
        return Response(PartnershipOut(partnership).data)


class PartnershipTierChangesApi(OrgAPIView):
    @extend_schema(responses=TierChangeOut(many=True))
    def get(self, request, partnership_id: int):
        changes = selectors.partnership_tier_changes(org=self.org, partnership_id=partnership_id)
        return self.paginate(changes, TierChangeOut)


class PartnershipEndApi(OrgAPIView):
    @extend_schema(request=EndIn, responses=PartnershipOut)
    def post(self, request, partnership_id: int):
        partnership = selectors.partnership_for(org=self.org, partnership_id=partnership_id)
        data = parse(EndIn, request.data)
        partnership = partnership_services.partnership_end(
            actor=request.user, org=self.org, partnership=partnership, reason=data["reason"]
        )
        return Response(PartnershipOut(partnership).data)


class PartnershipInvitationListApi(OrgAPIView):
    @extend_schema(responses=PartnershipInvitationOut(many=True))
    def get(self, request):
        return self.paginate(selectors.partnership_invitations_of(org=self.org), PartnershipInvitationOut)

    @extend_schema(request=PartnershipInviteIn, responses={201: PartnershipInvitationOut})
    def post(self, request):
        data = parse(PartnershipInviteIn, request.data)
        invitation = partnership_services.partnership_invite(actor=request.user, org=self.org, **data)
        return Response(PartnershipInvitationOut(invitation).data, status=status.HTTP_201_CREATED)


class PartnershipInvitationAcceptApi(OrgAPIView):
    """Accept for the current organization (X-Organization): the partnership starts now."""

    @extend_schema(request=TokenOnlyIn, responses={201: PartnershipOut})
    def post(self, request):
        data = parse(TokenOnlyIn, request.data)
        partnership = partnership_services.partnership_invitation_accept(
            actor=request.user, org=self.org, token=data["token"]
        )
        return Response(PartnershipOut(partnership).data, status=status.HTTP_201_CREATED)


class PartnershipInvitationDeclineApi(OrgAPIView):
    @extend_schema(request=TokenOnlyIn, responses=PartnershipInvitationOut)
    def post(self, request):
        data = parse(TokenOnlyIn, request.data)
        invitation = partnership_services.partnership_invitation_decline(
            actor=request.user, org=self.org, token=data["token"]
        )
        return Response(PartnershipInvitationOut(invitation).data)


class PartnershipInvitationRevokeApi(OrgAPIView):
    @extend_schema(request=None, responses=PartnershipInvitationOut)
    def post(self, request, invitation_id: int):
        invitation = selectors.partnership_invitation_for(org=self.org, invitation_id=invitation_id)
        invitation = partnership_services.partnership_invitation_revoke(
            actor=request.user, org=self.org, invitation=invitation
        )
        return Response(PartnershipInvitationOut(invitation).data)

