"""API tokens ask for what a portal sign-in asks for: the second factor of a user who has one, and
TOTP set up for an organization admin; a token then allows only what a session would. The
admin-MFA check of the portal goes by who the session signed in, whatever the headers say."""

import time

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from rest_framework.authtoken.models import Token

from accounts.models import Membership, Role
from tests.conftest import with_mfa
from tests.factories import PASSWORD, OrganizationFactory, member

pytestmark = pytest.mark.django_db

URL = "/api/auth/token/"


def totp_code(secret: str, shift: int = 0) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + shift))


@pytest.fixture
def org_with_admin():
    org = OrganizationFactory(name="Northwind")
    admin = member(org, Role.ADMIN, email="admin@northwind.test")
    secret = with_mfa(admin)
    viewer = member(org, Role.VIEWER, email="viewer@northwind.test")
    return org, admin, secret, Membership.objects.get(user=viewer)


def test_password_alone_gets_no_token_when_the_user_has_totp(client, org_with_admin):
    org, admin, secret, _ = org_with_admin
    missing = client.post(URL, {"email": admin.email, "password": PASSWORD})
    assert missing.status_code == 401 and missing.json()["code"] == "mfa_code_required"
    assert "token" not in missing.json()
    wrong = client.post(URL, {"email": admin.email, "password": PASSWORD, "code": "000000"})
    if wrong.json().get("code") != "mfa_code_invalid":  # 000000 happens to be the current code
        wrong = client.post(URL, {"email": admin.email, "password": PASSWORD, "code": "999999"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "mfa_code_invalid"
    blank = client.post(URL, {"email": admin.email, "password": PASSWORD, "code": ""})
    assert blank.status_code == 401 and blank.json()["code"] == "mfa_code_required"
    assert not Token.objects.exists()
    # a wrong password is still just a wrong password (whether the account has MFA is not told)
    bad = client.post(URL, {"email": admin.email, "password": "guess", "code": totp_code(secret)})
    assert bad.status_code == 401 and bad.json()["code"] == "authentication_failed"


def test_the_right_code_gets_a_token_that_does_what_the_admin_may(client, org_with_admin):
    org, admin, secret, viewer = org_with_admin
    response = client.post(URL, {"email": admin.email, "password": PASSWORD, "code": totp_code(secret)})
    assert response.status_code == 200
    auth = {"HTTP_AUTHORIZATION": f"Token {response.json()['token']}"}
    changed = client.patch(
        f"/api/organizations/{org.pk}/members/{viewer.pk}/",
        {"role": "sales_rep"},
        content_type="application/json",
        **auth,
    )
    assert changed.status_code == 200 and changed.json()["role"] == "sales_rep"


def test_a_totp_code_serves_once(client, org_with_admin):
    _, admin, secret, _ = org_with_admin
    code = totp_code(secret)
    assert client.post(URL, {"email": admin.email, "password": PASSWORD, "code": code}).status_code == 200
    again = client.post(URL, {"email": admin.email, "password": PASSWORD, "code": code})
    assert again.status_code == 401 and again.json()["code"] == "mfa_code_invalid"


def test_a_recovery_code_serves_once_instead_of_the_app(client, org_with_admin):
    _, admin, _, _ = org_with_admin
    recovery = RecoveryCodes.activate(admin).generate_codes()[0]
    assert client.post(URL, {"email": admin.email, "password": PASSWORD, "code": recovery}).status_code == 200
    again = client.post(URL, {"email": admin.email, "password": PASSWORD, "code": recovery})
    assert again.status_code == 401 and again.json()["code"] == "mfa_code_invalid"


def test_any_user_with_totp_proves_it_and_users_without_do_not(client):
    org = OrganizationFactory()
    pm = member(org, Role.PARTNER_MANAGER, email="pm@example.test")
    rep = member(org, Role.SALES_REP, email="rep@example.test")
    secret = with_mfa(pm)
    assert client.post(URL, {"email": pm.email, "password": PASSWORD}).json()["code"] == "mfa_code_required"
    assert (
        client.post(URL, {"email": pm.email, "password": PASSWORD, "code": totp_code(secret)}).status_code
        == 200
    )
    assert client.post(URL, {"email": rep.email, "password": PASSWORD}).status_code == 200


def test_wrong_codes_count_as_failed_sign_ins(client, settings, org_with_admin):
    settings.AXES_FAILURE_LIMIT = 3
    _, admin, secret, _ = org_with_admin
    for _ in range(3):
        client.post(URL, {"email": admin.email, "password": PASSWORD, "code": "12345678"})
    locked = client.post(URL, {"email": admin.email, "password": PASSWORD, "code": totp_code(secret)})
    assert locked.status_code == 429 and "token" not in locked.json()
    assert not Token.objects.exists()


def test_an_admin_without_totp_gets_no_token(client):
    admin = member(OrganizationFactory(), Role.ADMIN, email="nototp@example.test")
    response = client.post(URL, {"email": admin.email, "password": PASSWORD})
    assert response.status_code == 403 and response.json()["code"] == "mfa_required"
    assert not Token.objects.exists()


def test_a_token_allows_no_more_than_a_session(client):
    """A token an admin holds without TOTP (issued while a sales rep, say) is refused as the
    portal refuses the session: the API answers 403 mfa_required."""
    org = OrganizationFactory()
    admin = member(org, Role.SALES_REP, email="promoted@example.test")
    other = Membership.objects.get(user=member(org, Role.VIEWER))
    key = client.post(URL, {"email": admin.email, "password": PASSWORD}).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    assert client.get("/api/partnerships/", **auth).status_code == 200
    Membership.objects.filter(user=admin).update(role=Role.ADMIN)
    for response in (
        client.get("/api/partnerships/", **auth),
        client.get("/api/me/", **auth),
        client.patch(
            f"/api/organizations/{org.pk}/members/{other.pk}/",
            {"role": "admin"},
            content_type="application/json",
            **auth,
        ),
    ):
        assert response.status_code == 403 and response.json()["code"] == "mfa_required"
    assert Membership.objects.get(pk=other.pk).role == Role.VIEWER
    with_mfa(admin)  # TOTP set up after the token was issued: that token was not issued against it
    late = client.get("/api/partnerships/", **auth)
    assert late.status_code == 401 and "Two-factor" in late.json()["detail"]


def test_a_token_issued_before_totp_stops_working(client):
    pm = member(OrganizationFactory(), Role.PARTNER_MANAGER, email="careful@example.test")
    key = client.post(URL, {"email": pm.email, "password": PASSWORD}).json()["token"]
    secret = with_mfa(pm)
    refused = client.get("/api/partnerships/", HTTP_AUTHORIZATION=f"Token {key}")
    assert refused.status_code == 401
    fresh = client.post(URL, {"email": pm.email, "password": PASSWORD, "code": totp_code(secret)}).json()[
        "token"
    ]
    assert client.get("/api/partnerships/", HTTP_AUTHORIZATION=f"Token {fresh}").status_code == 200


def test_token_schema_documents_the_code_and_its_errors():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][URL]["post"]
    assert {"200", "400", "401", "403", "429"} <= set(operation["responses"])
    assert "mfa_code_required" in operation["responses"]["401"]["description"]
    body = schema["components"]["schemas"]["TokenInRequest"]
    assert "code" in body["properties"] and "code" not in body.get("required", [])


# ---------------------------------------------------------------- the portal's admin-MFA check


@pytest.mark.parametrize("header", ["Bearer anything", "Token not-a-token", "Basic YTpi"])
def test_an_authorization_header_does_not_skip_the_admin_mfa_check(client, header):
    admin = member(OrganizationFactory(), Role.ADMIN, email="header@example.test")
    client.force_login(admin)
    for path in ("/partnerships/", "/org/", "/lists/", "/"):
        response = client.get(path, HTTP_AUTHORIZATION=header)
        assert response.status_code == 302 and response.url.startswith("/accounts/2fa/totp/activate/"), path
    for path in ("/api/me/", "/api/partnerships/"):
        response = client.get(path, HTTP_AUTHORIZATION=header)
        assert response.status_code == 403 and response.json()["code"] == "mfa_required", path


def test_a_session_admin_with_totp_and_a_header_is_served(client):
    admin = member(OrganizationFactory(), Role.ADMIN, email="fine@example.test")
    with_mfa(admin)
    client.force_login(admin)
    assert client.get("/partnerships/", HTTP_AUTHORIZATION="Bearer anything").status_code == 200


def test_the_upgrade_drops_tokens_issued_without_the_second_factor():
    """Tokens the old endpoint gave for the password alone to users with two-factor
    authentication are dropped by migration accounts 0003; the others stay."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0003_tokens_need_second_factor")
    org = OrganizationFactory()
    with_totp, without = member(org, Role.ADMIN), member(org, Role.PARTNER_MANAGER)
    with_mfa(with_totp)
    Token.objects.create(user=with_totp)
    kept = Token.objects.create(user=without)
    migration.drop_tokens_of_users_with_mfa(apps, None)
    assert list(Token.objects.all()) == [kept]
