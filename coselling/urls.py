from django.urls import path

from coselling import views

app_name = "coselling"

urlpatterns = [
    path("partnerships/<int:partnership_id>/cosell/", views.hub, name="hub"),
    path(
        "partnerships/<int:partnership_id>/cosell/registrations/new/",
        views.registration_new,
        name="registration_new",
    ),
    path(
        "partnerships/<int:partnership_id>/cosell/registrations/<int:registration_id>/",
        views.registration_detail,
        name="registration",
    ),
    path("partnerships/<int:partnership_id>/cosell/intros/new/", views.intro_new, name="intro_new"),
    path("partnerships/<int:partnership_id>/cosell/intros/<int:intro_id>/", views.intro_detail, name="intro"),
]
