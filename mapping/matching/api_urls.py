from django.urls import path

from mapping.matching import apis

P = "partnerships/<int:partnership_id>/"

urlpatterns = [
    path(P + "match-runs/", apis.MatchRunListApi.as_view(), name="api-match-runs"),
    path(P + "match-runs/<int:run_id>/", apis.MatchRunDetailApi.as_view(), name="api-match-run"),
    path(P + "match-settings/", apis.MatchSettingsApi.as_view(), name="api-match-settings"),
    path(P + "match-settings/model/", apis.MatchModelTrainApi.as_view(), name="api-match-model"),
    path(P + "match-decisions/", apis.MatchDecisionApi.as_view(), name="api-match-decisions"),
]
