from django.urls import path

from mapping.sharing import apis

P = "partnerships/<int:partnership_id>/"

urlpatterns = [
    path(P + "review-queue/", apis.ReviewQueueApi.as_view(), name="api-review-queue"),
    path(P + "sharing-rules/", apis.SharingRuleListApi.as_view(), name="api-sharing-rules"),
    path(
        P + "sharing-rules/changes/", apis.SharingRuleChangeListApi.as_view(), name="api-sharing-rule-changes"
    ),
    path(P + "sharing-rules/<int:list_id>/", apis.SharingRuleDetailApi.as_view(), name="api-sharing-rule"),
    path(P + "overlap-matrix/", apis.OverlapMatrixApi.as_view(), name="api-overlap-matrix"),
    path(P + "overlaps/", apis.OverlapListApi.as_view(), name="api-overlaps"),
    path(P + "overlaps/export.csv", apis.OverlapExportApi.as_view(), name="api-overlaps-export"),
    path(P + "white-space/", apis.PartnerWhiteSpaceApi.as_view(), name="api-white-space"),
    path(
        P + "white-space/export.csv", apis.PartnerWhiteSpaceExportApi.as_view(), name="api-white-space-export"
    ),
    path(P + "my-white-space/", apis.MyWhiteSpaceApi.as_view(), name="api-my-white-space"),
    path(
        P + "my-white-space/export.csv",
        apis.MyWhiteSpaceExportApi.as_view(),
        name="api-my-white-space-export",
    ),
    path("accounts/<int:record_id>/partners/", apis.Account360Api.as_view(), name="api-account-360"),
    path("ecosystem/", apis.EcosystemApi.as_view(), name="api-ecosystem"),
    path(
        "lists/<int:list_id>/private-records/", apis.PrivateRecordsApi.as_view(), name="api-private-records"
    ),
    path("ecosystem/export.csv", apis.EcosystemExportApi.as_view(), name="api-ecosystem-export"),
]
