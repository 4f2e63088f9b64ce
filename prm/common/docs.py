"""/api/docs/: Redoc, with every asset served by the app.

drf-spectacular's Redoc page links Google Fonts, and the Redoc bundle (from drf-spectacular-sidecar)
shows a logo that it loads from Redocly's CDN. The page here is our own template (system fonts),
the bundle is served with that logo's address pointing at a static file of ours, and a
Content-Security-Policy keeps the page from loading anything from another origin.
"""

import hashlib
from functools import cache

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView

BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
LOGO = "img/api-docs-logo.svg"
SYSTEM_FONTS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
REDOC_SETTINGS = {
    "theme": {"typography": {"fontFamily": SYSTEM_FONTS, "headings": {"fontFamily": SYSTEM_FONTS}}}
}
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'"
)


@cache
def redoc_bundle_bytes() -> tuple[bytes, str]:
    """The sidecar's Redoc bundle with the logo's address made ours and no source map link; and
    its ETag. Read once per process."""
    path = finders.find(BUNDLE)
    with open(path, encoding="utf-8") as bundle:
        text = bundle.read()
    if REDOC_LOGO not in text:  # a new Redoc release: tests/schema/test_api_docs.py says so
        raise RuntimeError(f"The Redoc bundle no longer names {REDOC_LOGO}; check what it loads.")
    text = text.replace(REDOC_LOGO, static(LOGO)).replace("//# sourceMappingURL=redoc.standalone.js.map", "")
    data = text.encode("utf-8")
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


@require_GET
@gzip_page
def redoc_bundle(request):
    data, etag = redoc_bundle_bytes()
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(data, content_type="text/javascript; charset=utf-8")
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=86400)
    return response


class ApiDocsView(SpectacularRedocView):
    template_name = "api/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        configured = spectacular_settings.REDOC_UI_SETTINGS
        response.data["settings_json"] = {
            **REDOC_SETTINGS,
            **(configured if isinstance(configured, dict) else {}),
        }
        response["Content-Security-Policy"] = DOCS_CSP
        return response

    @staticmethod
    def _redoc_standalone():
        return reverse("api-docs-bundle")
