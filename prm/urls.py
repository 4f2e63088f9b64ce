from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from prm.common.docs import ApiDocsView, redoc_bundle

admin.site.site_header = "PRM administration"
admin.site.site_title = "PRM admin"


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/docs/redoc.standalone.js", redoc_bundle, name="api-docs-bundle"),
    path("api/", include("accounts.api_urls")),
    path("api/", include("coselling.api_urls")),
    path("", include("mapping.urls")),
    path("", include("coselling.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("accounts.urls")),
]
