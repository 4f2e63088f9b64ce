from django.urls import path

from mapping import matching_apis, matching_views

api_urlpatterns = [
    path("partnerships/<int:partnership_id>/match-runs/", matching_apis.MatchRunListApi.as_view(),
         name="api-match-runs"),
    path("partnerships/<int:partnership_id>/match-runs/<int:run_id>/", matching_apis.MatchRunDetailApi.as_view(),
         name="api-match-run"),
]

portal_urlpatterns = [
    path("partnerships/<int:partnership_id>/matching/", matching_views.matching_status, name="matching_status"),
]
