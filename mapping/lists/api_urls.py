from django.urls import path

from mapping.lists import apis

urlpatterns = [
    path("lists/", apis.AccountListListApi.as_view(), name="api-lists"),
    path("lists/<int:list_id>/", apis.AccountListDetailApi.as_view(), name="api-list"),
    path("lists/<int:list_id>/records/", apis.AccountRecordListApi.as_view(), name="api-list-records"),
    path("lists/<int:list_id>/records/push/", apis.AccountRecordPushApi.as_view(), name="api-list-push"),
    path("lists/<int:list_id>/export.csv", apis.AccountListExportApi.as_view(), name="api-list-export"),
    path("lists/<int:list_id>/imports/", apis.ImportListApi.as_view(), name="api-list-imports"),
    path("lists/<int:list_id>/imports/<int:job_id>/", apis.ImportDetailApi.as_view(), name="api-list-import"),
    path(
        "lists/<int:list_id>/imports/<int:job_id>/report.csv",
        apis.ImportReportApi.as_view(),
        name="api-list-import-report",
    ),
    path("lists/<int:list_id>/changesets/", apis.ChangeSetListApi.as_view(), name="api-list-changesets"),
    path(
        "lists/<int:list_id>/changesets/<int:changeset_id>/",
        apis.ChangeSetDetailApi.as_view(),
        name="api-list-changeset",
    ),
]
