from django.urls import path

from mapping.matching import views

P = "partnerships/<int:partnership_id>/"

# Included under the namespace "matching" together with sharing.urls.matching_urlpatterns (mapping/urls.py).
urlpatterns = [
    path(P + "matching/settings/", views.match_settings, name="match_settings"),
]
