from django.urls import path

from accounts import views

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("org/", views.organization, name="organization"),
    path("org/new/", views.organization_create, name="organization_create"),
    path("org/switch/", views.organization_switch, name="organization_switch"),
    path("org/members/<int:member_id>/role/", views.member_role, name="member_role"),
    path("org/members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path("org/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("partnerships/", views.partnerships, name="partnerships"),
    path("partnerships/<int:partnership_id>/", views.partnership_detail, name="partnership_detail"),
    path("partnerships/invite/<str:token>/", views.partnership_invitation, name="partnership_invitation"),
    path(
        "partnerships/invitations/<int:invitation_id>/revoke/",
        views.partnership_invitation_revoke,
        name="partnership_invitation_revoke",
    ),
]
