from django.urls import path

from coselling import apis

REG = "partnerships/<int:partnership_id>/registrations/<int:registration_id>/"
INTRO = "partnerships/<int:partnership_id>/intros/<int:intro_id>/"

urlpatterns = [
    path(
        "partnerships/<int:partnership_id>/registrations/",
        apis.RegistrationListApi.as_view(),
        name="api-registrations",
    ),
    path(REG, apis.RegistrationDetailApi.as_view(), name="api-registration"),
    path(REG + "history/", apis.RegistrationHistoryApi.as_view(), name="api-registration-history"),
    path(REG + "conflicts/", apis.RegistrationConflictsApi.as_view(), name="api-registration-conflicts"),
    path(
        REG + "request-info/", apis.RegistrationRequestInfoApi.as_view(), name="api-registration-request-info"
    ),
    path(REG + "approve/", apis.RegistrationApproveApi.as_view(), name="api-registration-approve"),
    path(REG + "reject/", apis.RegistrationRejectApi.as_view(), name="api-registration-reject"),
    path(REG + "extend/", apis.RegistrationExtendApi.as_view(), name="api-registration-extend"),
    path(REG + "close/", apis.RegistrationCloseApi.as_view(), name="api-registration-close"),
    path(REG + "resubmit/", apis.RegistrationResubmitApi.as_view(), name="api-registration-resubmit"),
    path("partnerships/<int:partnership_id>/intros/", apis.IntroListApi.as_view(), name="api-intros"),
    path(INTRO, apis.IntroDetailApi.as_view(), name="api-intro"),
    path(INTRO + "accept/", apis.IntroAcceptApi.as_view(), name="api-intro-accept"),
    path(INTRO + "decline/", apis.IntroDeclineApi.as_view(), name="api-intro-decline"),
    path(INTRO + "reply/", apis.IntroReplyApi.as_view(), name="api-intro-reply"),
    path(INTRO + "done/", apis.IntroDoneApi.as_view(), name="api-intro-done"),
]
