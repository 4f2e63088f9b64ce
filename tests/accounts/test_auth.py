import re

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail

from accounts.models import Role
from tests.conftest import with_mfa
from tests.factories import PASSWORD, OrganizationFactory, UserFactory, member

pytestmark = pytest.mark.django_db


def test_signup_requires_email_verification_then_signs_in(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "Founder@NewCo.test",
            "password1": "a-long-pass-phrase-42",
            "password2": "a-long-pass-phrase-42",
        },
    )
    assert response.status_code == 302
    assert "confirm-email" in response.url or "verification" in response.url or response.url.endswith("/")
    # not signed in until the address is verified
    assert client.get("/").status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    path = link.split("8000", 1)[-1] if "8000" in link else link.split("testserver", 1)[-1]
    confirmed = client.post(path)
    assert confirmed.status_code == 302
    home = client.get("/")
    assert home.status_code == 302 and home.url == "/org/new/"  # signed in, no org yet


def test_login_with_email_and_password(client):
    user = UserFactory(email="pat@example.test")
    member(OrganizationFactory(), Role.PARTNER_MANAGER, email="other@example.test")
    response = client.post("/accounts/login/", {"login": "PAT@example.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_lockout_after_repeated_failures(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    user = UserFactory(email="victim@example.test")
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": user.email, "password": "guess"})
        assert "_auth_user_id" not in client.session
    # the attempt that reaches the limit is answered with the lockout page
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    # from then on even the right password does not sign in
    locked = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert locked.status_code in (200, 403, 429)
    assert "_auth_user_id" not in client.session


def test_token_endpoint_is_locked_out_too(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    user = UserFactory(email="apivictim@example.test")
    for _ in range(3):
        client.post("/api/auth/token/", {"email": user.email, "password": "guess"})
    response = client.post("/api/auth/token/", {"email": user.email, "password": PASSWORD})
    assert response.status_code in (401, 403, 429)
    assert "token" not in response.json()


def test_password_reset_sends_mail(client):
    UserFactory(email="forgetful@example.test")
    response = client.post("/accounts/password/reset/", {"email": "forgetful@example.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_admin_without_mfa_must_set_it_up(client):
    admin = member(OrganizationFactory(), Role.ADMIN)
    client.force_login(admin)
    response = client.get("/partnerships/")
    assert response.status_code == 302 and response.url.startswith("/accounts/2fa/totp/activate/")
    api = client.get("/api/partnerships/")
    assert api.status_code == 403 and api.json()["code"] == "mfa_required"
    # the activation flow itself is reachable (allauth first asks to confirm the password)
    activate = client.get("/accounts/2fa/totp/activate/")
    assert activate.status_code == 200 or activate.url.startswith("/accounts/reauthenticate/")
    assert client.get("/accounts/reauthenticate/").status_code == 200


def test_admin_with_mfa_is_asked_for_a_code_at_login(client):
    admin = member(OrganizationFactory(), Role.ADMIN, email="boss@example.test")
    secret = with_mfa(admin)
    response = client.post("/accounts/login/", {"login": admin.email, "password": PASSWORD})
    assert response.status_code == 302 and "/accounts/2fa/authenticate/" in response.url
    assert "_auth_user_id" not in client.session
    import time

    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    done = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert done.status_code == 302
    assert client.session["_auth_user_id"] == str(admin.pk)
    assert client.get("/partnerships/").status_code == 200


def test_non_admins_may_use_the_portal_without_mfa(client):
    rep = member(OrganizationFactory(), Role.SALES_REP)
    client.force_login(rep)
    assert client.get("/partnerships/").status_code == 200
