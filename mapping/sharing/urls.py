from django.urls import path

from mapping.sharing import views

app_name = "overlaps"

P = "partnerships/<int:partnership_id>/"

urlpatterns = [
    path(P + "mapping/", views.matrix, name="matrix"),
    path(P + "mapping/sharing/", views.sharing, name="sharing"),
    path(P + "mapping/overlaps/", views.overlap_list, name="overlaps"),
    path(P + "mapping/overlaps/export.csv", views.overlap_export, name="overlaps_export"),
    path(P + "mapping/white-space/", views.partner_white_space, name="white_space"),
    path(P + "mapping/white-space/export.csv", views.partner_white_space_export, name="white_space_export"),
    path(P + "mapping/my-white-space/", views.my_white_space, name="my_white_space"),
    path(P + "mapping/my-white-space/export.csv", views.my_white_space_export, name="my_white_space_export"),
    path("mapping/accounts/<int:record_id>/", views.account_360, name="account_360"),
    path("mapping/ecosystem/", views.ecosystem, name="ecosystem"),
    path("lists/<int:list_id>/records/<int:record_id>/private/", views.record_private, name="record_private"),
    path("mapping/ecosystem/export.csv", views.ecosystem_export, name="ecosystem_export"),
]

# Pages that keep their names in the namespace "matching" (mapping/urls.py includes them there).
matching_urlpatterns = [
    path(P + "matching/", views.matching_status, name="matching_status"),
    path(P + "review/", views.review_queue, name="review_queue"),
    path(P + "review/<int:pair_id>/", views.review_decide, name="review_decide"),
]
