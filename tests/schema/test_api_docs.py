"""/api/docs/ is served whole by the app (the browser's view of it: tests/e2e/test_api_docs_browser.py)."""

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_docs_page_names_no_other_origin_and_forbids_loading_from_one(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.findall(r"https?://", html), re.findall(r"https?://\S+", html)
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "font-src 'self'" in csp and "img-src 'self'" in csp
    assert "/api/docs/redoc.standalone.js" in html and "/api/schema/" in html


def test_redoc_bundle_points_its_logo_at_our_static_file(client):
    response = client.get("/api/docs/redoc.standalone.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    bundle = b"".join(response.streaming_content) if response.streaming else response.content
    text = bundle.decode()
    for origin in ("cdn.redoc.ly", "fonts.googleapis.com", "fonts.gstatic.com"):
        assert origin not in text
    assert "/static/img/api-docs-logo.svg" in text and "sourceMappingURL=redoc.standalone.js.map" not in text
    again = client.get("/api/docs/redoc.standalone.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert finders.find("img/api-docs-logo.svg")
