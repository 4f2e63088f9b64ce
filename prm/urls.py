from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from mapping.matching import urls as matching_urls
from mapping.sharing import urls as sharing_urls
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
    path("api/", include("mapping.lists.api_urls")),
    path("api/", include("mapping.matching.api_urls")),
    path("api/", include("mapping.sharing.api_urls")),
    path("lists/", include("mapping.lists.urls")),
    path("", include((matching_urls.urlpatterns + sharing_urls.matching_urlpatterns, "matching"))),
    path("", include(sharing_urls)),
    path("healthz", healthz, name="healthz"),
    path("", include("accounts.urls")),
]
