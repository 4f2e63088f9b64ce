from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

admin.site.site_header = "PRM administration"
admin.site.site_title = "PRM admin"


def healthz(request):
    return JsonResponse({"status": "ok"})


def api_not_found(request, exception=None):
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("accounts.api_urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("accounts.urls")),
]
