from django.urls import path

from mapping import matching_apis, matching_views

api_urlpatterns = [
    path("partnerships/<int:partnership_id>/match-runs/", matching_apis.MatchRunListApi.as_view(),
         name="api-match-runs"),
    path("partnerships/<int:partnership_id>/match-runs/<int:run_id>/", matching_apis.MatchRunDetailApi.as_view(),
         name="api-match-run"),
    path("partnerships/<int:partnership_id>/match-settings/", matching_apis.MatchSettingsApi.as_view(),
         name="api-match-settings"),
    path("partnerships/<int:partnership_id>/match-settings/model/", matching_apis.MatchModelTrainApi.as_view(),
         name="api-match-model"),
    path("partnerships/<int:partnership_id>/match-decisions/", matching_apis.MatchDecisionApi.as_view(),
         name="api-match-decisions"),
    path("partnerships/<int:partnership_id>/review-queue/", matching_apis.ReviewQueueApi.as_view(),
         name="api-review-queue"),
]

portal_urlpatterns = [
    path("partnerships/<int:partnership_id>/matching/", matching_views.matching_status, name="matching_status"),
    path("partnerships/<int:partnership_id>/matching/settings/", matching_views.match_settings,
         name="match_settings"),
    path("partnerships/<int:partnership_id>/review/", matching_views.review_queue, name="review_queue"),
    path("partnerships/<int:partnership_id>/review/<int:pair_id>/", matching_views.review_decide,
         name="review_decide"),
]
