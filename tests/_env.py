"""Loaded by pytest before Django starts (see addopts in pyproject.toml).

Tests talk plain HTTP to the test client and to the live server that the browser tests use; the
security middleware reads these settings once, when the server starts, so they are set here.
"""

import os

for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS"):
    os.environ.setdefault(name, "0")
os.environ.setdefault("MANIFEST_STATIC", "0")
