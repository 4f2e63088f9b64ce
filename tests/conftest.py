import os
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from accounts.models import Organization, Role, User
from tests.factories import OrganizationFactory, PartnershipFactory, member

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def require_service(name: str, available: bool, why: str = "") -> None:
    """Skip when a real service is missing, except under REQUIRE_SERVICES=1 (CI), where it fails."""
    if available:
        return
    message = f"{name} is not available{': ' + why if why else ''}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # Tests speak plain HTTP to the test client and the live server.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _celery_in_process(settings):
    """Tasks run in-process in tests, even when CI configures a broker; the integration tests that
    start a real worker switch this off (see tests/integration)."""
    from prm.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Each test starts with no rate-limit counts (the token throttle, allauth's limits: the
    default cache), as the test client always calls from the same address."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _empty_read_cache():
    """Each test starts with nothing cached (mapping.sharing.read_cache; the stamps make it correct anyway)."""
    from mapping.sharing import read_cache

    read_cache.clear()


@dataclass
class World:
    """Three actors: a member of the owner org, a member of a partner org, and an outsider."""

    owner_org: Organization
    partner_org: Organization
    outsider_org: Organization
    owner: User
    partner: User
    outsider: User
    partnership: object

    def api(self, user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client


def with_mfa(user: User) -> str:
    """Give the user a TOTP authenticator; returns its secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


@pytest.fixture
def world(db) -> World:
    owner_org = OrganizationFactory(name="Owner Co")
    partner_org = OrganizationFactory(name="Partner Co")
    outsider_org = OrganizationFactory(name="Outsider Co")
    partnership = PartnershipFactory(initiator=owner_org, partner=partner_org)
    outsider = member(outsider_org, Role.ADMIN, email="admin@outsider.test")
    with_mfa(outsider)  # admins must have MFA to use the portal
    return World(
        owner_org=owner_org,
        partner_org=partner_org,
        outsider_org=outsider_org,
        owner=member(owner_org, Role.PARTNER_MANAGER, email="owner@owner.test"),
        partner=member(partner_org, Role.PARTNER_MANAGER, email="pm@partner.test"),
        outsider=outsider,
        partnership=partnership,
    )


def assert_no_leak(response, *secrets: str) -> None:
    body = response.content.decode(errors="replace")
    for secret in secrets:
        assert secret not in body, f"{secret!r} leaked in a {response.status_code} response"
