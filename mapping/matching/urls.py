from django.urls import path

from mapping.matching import views

P = "partnerships/<int:partnership_id>/"

# Included under the namespace "matching" together with the pages that show what matching found of
# the partner's accounts (status with its review count, review queue): they read through the sharing
# rules, so they live in mapping.sharing (sharing.urls.matching_urlpatterns; prm/urls.py).
urlpatterns = [
    path(P + "matching/settings/", views.match_settings, name="match_settings"),
]
