from django.urls import path

from mapping.lists import views

app_name = "lists"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:list_id>/", views.detail, name="detail"),
    path("<int:list_id>/upload/", views.upload, name="upload"),
    path("<int:list_id>/delete/", views.delete, name="delete"),
    path("<int:list_id>/export.csv", views.export, name="export"),
    path("<int:list_id>/imports/<int:job_id>/", views.import_job, name="import"),
    path("<int:list_id>/imports/<int:job_id>/progress/", views.import_progress, name="import_progress"),
    path("<int:list_id>/imports/<int:job_id>/report.csv", views.import_report, name="import_report"),
]
