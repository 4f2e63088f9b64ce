"""/api/docs/ in headless Chromium: Redoc renders the schema and every request the page makes,
fonts and images included, goes to the app itself."""

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_load_nothing_from_another_origin(live_server, page):
    requests, failed, console = [], [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
    page.on("console", lambda message: console.append(message.text))
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector("h1:has-text('PRM API')")
    page.wait_for_selector("text=/api/partnerships/{partnership_id}/sharing-rules/", state="attached")
    logo = page.wait_for_selector("img[alt='redocly logo']")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", logo), "the docs' logo did not load"

    app = urlsplit(live_server.url).netloc
    external = [
        url for url in requests if urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc != app
    ]
    assert not external, external
    assert not failed, failed
    assert not [text for text in console if "Content Security Policy" in text], console
    assert any(url.endswith("/api/docs/redoc.standalone.js") for url in requests)
    assert any("/api/schema/" in url for url in requests)
