from django.urls import path

from mapping import overlap_apis, overlap_views

P = "partnerships/<int:partnership_id>/"

api_urlpatterns = [
    path(P + "sharing-rules/", overlap_apis.SharingRuleListApi.as_view(), name="api-sharing-rules"),
    path(P + "sharing-rules/changes/", overlap_apis.SharingRuleChangeListApi.as_view(),
         name="api-sharing-rule-changes"),
    path(P + "sharing-rules/<int:list_id>/", overlap_apis.SharingRuleDetailApi.as_view(), name="api-sharing-rule"),
    path(P + "overlap-matrix/", overlap_apis.OverlapMatrixApi.as_view(), name="api-overlap-matrix"),
    path(P + "overlaps/", overlap_apis.OverlapListApi.as_view(), name="api-overlaps"),
    path(P + "overlaps/export.csv", overlap_apis.OverlapExportApi.as_view(), name="api-overlaps-export"),
    path(P + "white-space/", overlap_apis.PartnerWhiteSpaceApi.as_view(), name="api-white-space"),
    path(P + "white-space/export.csv", overlap_apis.PartnerWhiteSpaceExportApi.as_view(),
         name="api-white-space-export"),
    path(P + "my-white-space/", overlap_apis.MyWhiteSpaceApi.as_view(), name="api-my-white-space"),
    path(P + "my-white-space/export.csv", overlap_apis.MyWhiteSpaceExportApi.as_view(),
         name="api-my-white-space-export"),
    path("accounts/<int:record_id>/partners/", overlap_apis.Account360Api.as_view(), name="api-account-360"),
    path("ecosystem/", overlap_apis.EcosystemApi.as_view(), name="api-ecosystem"),
    path("lists/<int:list_id>/private-records/", overlap_apis.PrivateRecordsApi.as_view(), name="api-private-records"),
    path("ecosystem/export.csv", overlap_apis.EcosystemExportApi.as_view(), name="api-ecosystem-export"),
]

portal_urlpatterns = [
    path(P + "mapping/", overlap_views.matrix, name="matrix"),
    path(P + "mapping/sharing/", overlap_views.sharing, name="sharing"),
    path(P + "mapping/overlaps/", overlap_views.overlap_list, name="overlaps"),
    path(P + "mapping/overlaps/export.csv", overlap_views.overlap_export, name="overlaps_export"),
    path(P + "mapping/white-space/", overlap_views.partner_white_space, name="white_space"),
    path(P + "mapping/white-space/export.csv", overlap_views.partner_white_space_export, name="white_space_export"),
    path(P + "mapping/my-white-space/", overlap_views.my_white_space, name="my_white_space"),
    path(P + "mapping/my-white-space/export.csv", overlap_views.my_white_space_export, name="my_white_space_export"),
    path("mapping/accounts/<int:record_id>/", overlap_views.account_360, name="account_360"),
    path("mapping/ecosystem/", overlap_views.ecosystem, name="ecosystem"),
    path("lists/<int:list_id>/records/<int:record_id>/private/", overlap_views.record_private, name="record_private"),
    path("mapping/ecosystem/export.csv", overlap_views.ecosystem_export, name="ecosystem_export"),
]
