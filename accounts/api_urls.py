from django.urls import path

from accounts import apis

urlpatterns = [
    path("auth/token/", apis.TokenObtainApi.as_view(), name="api-token"),
    path("me/", apis.MeApi.as_view(), name="api-me"),
    path("organizations/", apis.OrganizationListApi.as_view(), name="api-organizations"),
    path("organizations/<int:org_id>/", apis.OrganizationDetailApi.as_view(), name="api-organization"),
    path("organizations/<int:org_id>/members/", apis.MemberListApi.as_view(), name="api-members"),
    path(
        "organizations/<int:org_id>/members/<int:member_id>/",
        apis.MemberDetailApi.as_view(),
        name="api-member",
    ),
    path("organizations/<int:org_id>/invitations/", apis.InvitationListApi.as_view(), name="api-invitations"),
    path(
        "organizations/<int:org_id>/invitations/<int:invitation_id>/revoke/",
        apis.InvitationRevokeApi.as_view(),
        name="api-invitation-revoke",
    ),
    path("invitations/accept/", apis.InvitationAcceptApi.as_view(), name="api-invitation-accept"),
    path("partnerships/", apis.PartnershipListApi.as_view(), name="api-partnerships"),
    path("partnerships/<int:partnership_id>/", apis.PartnershipDetailApi.as_view(), name="api-partnership"),
    path(
        "partnerships/<int:partnership_id>/stage/",
        apis.PartnershipStageApi.as_view(),
        name="api-partnership-stage",
    ),
    path(
        "partnerships/<int:partnership_id>/stage-changes/",
        apis.PartnershipStageChangesApi.as_view(),
        name="api-partnership-stage-changes",
    ),
    path(
        "partnerships/<int:partnership_id>/tier/",
        apis.PartnershipTierApi.as_view(),
        name="api-partnership-tier",
    ),
    path(
        "partnerships/<int:partnership_id>/tier-changes/",
        apis.PartnershipTierChangesApi.as_view(),
        name="api-partnership-tier-changes",
    ),
    path(
        "partnerships/<int:partnership_id>/end/", apis.PartnershipEndApi.as_view(), name="api-partnership-end"
    ),
    path(
        "partnership-invitations/",
        apis.PartnershipInvitationListApi.as_view(),
        name="api-partnership-invitations",
    ),
    path(
        "partnership-invitations/accept/",
        apis.PartnershipInvitationAcceptApi.as_view(),
        name="api-partnership-invitation-accept",
    ),
    path(
        "partnership-invitations/decline/",
        apis.PartnershipInvitationDeclineApi.as_view(),
        name="api-partnership-invitation-decline",
    ),
    path(
        "partnership-invitations/<int:invitation_id>/revoke/",
        apis.PartnershipInvitationRevokeApi.as_view(),
        name="api-partnership-invitation-revoke",
    ),
]
