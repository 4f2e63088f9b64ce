"""Throttles and lockouts count per real client address (REMOTE_ADDR, unless TRUSTED_PROXY_COUNT
says how many X-Forwarded-For hops to trust), in counts that every worker process shares: the token
endpoint's rate limit in the default cache (Redis with THROTTLE_CACHE_URL), django-axes' failures
in the database, per login and address and per address across logins."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import cache

from accounts.auth import client_ip
from accounts.models import Role
from tests.conftest import require_service
from tests.factories import PASSWORD, OrganizationFactory, UserFactory, member

pytestmark = pytest.mark.django_db

URL = "/api/auth/token/"
BASE_DIR = Path(__file__).resolve().parents[2]
THROTTLE_REDIS = "redis://127.0.0.1:6379/5"


def _token_attempts(client, n, headers):
    return [
        client.post(URL, {"email": f"nobody{i}@example.test", "password": "guess"}, **headers(i)).status_code
        for i in range(n)
    ]


@pytest.fixture
def no_lockouts(settings):
    settings.AXES_IP_FAILURE_LIMIT = 1000  # these tests are about the throttle alone


def test_rotating_x_forwarded_for_does_not_escape_the_token_throttle(client, no_lockouts):
    codes = _token_attempts(client, 25, headers=lambda i: {"HTTP_X_FORWARDED_FOR": f"198.51.100.{i}"})
    assert codes[:20] == [401] * 20
    assert codes[20:] == [429] * 5
    throttled = client.post(URL, {"email": "x@example.test", "password": "guess"})
    assert throttled.json()["code"] == "throttled" and int(throttled["Retry-After"]) <= 60


def test_behind_trusted_proxies_the_address_they_saw_counts(client, settings, no_lockouts):
    settings.TRUSTED_PROXY_COUNT = 1
    # the client writes what it likes on the left; our proxy appends the address it saw
    codes = _token_attempts(
        client, 25, headers=lambda i: {"HTTP_X_FORWARDED_FOR": f"10.9.9.{i}, 203.0.113.7"}
    )
    assert codes.count(429) == 5
    # other clients behind the same proxy have their own count
    other = client.post(
        URL, {"email": "x@example.test", "password": "guess"}, HTTP_X_FORWARDED_FOR="203.0.113.8"
    )
    assert other.status_code == 401


def test_client_ip_trusts_only_the_configured_hops(rf, settings):
    request = rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.0.0.1, 10.0.0.2")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "192.0.2.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 5  # fewer hops than proxies: the leftmost, never an error
    assert client_ip(request) == "6.6.6.6"
    assert client_ip(rf.get("/", REMOTE_ADDR="192.0.2.1")) == "192.0.2.1"
    # a client's own entry that is no address is not taken (axes stores addresses in an inet column)
    for odd in ("not-an-ip", "1.2.3.4:80", "", "::1\x00", "9" * 300):
        assert client_ip(rf.get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=odd)) == "192.0.2.1", odd


def test_odd_forwarded_addresses_behind_a_proxy_are_no_500(client, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    for i, odd in enumerate(("not-an-ip", "'; DROP TABLE x; --", "1.2.3.4.5")):
        response = client.post(
            "/accounts/login/",
            {"login": f"x{i}@example.test", "password": "guess"},
            HTTP_X_FORWARDED_FOR=f"{odd}, 10.0.0.1",
        )
        assert response.status_code == 200, odd
        api = client.post(URL, {"email": f"y{i}@example.test", "password": "guess"}, HTTP_X_FORWARDED_FOR=odd)
        assert api.status_code == 401, odd


def _redis_available() -> bool:
    try:
        import redis

        return redis.Redis.from_url(THROTTLE_REDIS, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - any failure means: no Redis here
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gunicorn(port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "prm.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _post(port: int) -> int:
    import urllib.error
    import urllib.request

    # Invalid input (no password): the throttle counts it before the view reads anything, and the
    # servers need no database rows (nor leave any).
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{URL}",
        data=b'{"email": "x@example.test"}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_token_throttle_counts_are_shared_between_processes():
    """Two gunicorn servers (two processes) with THROTTLE_CACHE_URL on one Redis: 25 requests from
    one address, alternating between them, get 20 answers and 5 429s, as one process would."""
    require_service("Redis", _redis_available(), THROTTLE_REDIS)
    import redis

    redis.Redis.from_url(THROTTLE_REDIS).flushdb()
    env = {
        **os.environ,
        "THROTTLE_CACHE_URL": THROTTLE_REDIS,
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "AXES_ENABLED": "1",
        "TOKEN_THROTTLE_RATE": "20/min",
    }
    ports = [_free_port(), _free_port()]
    servers = [_gunicorn(port, env) for port in ports]
    try:
        deadline = time.monotonic() + 60
        for port, server in zip(ports, servers, strict=True):
            while True:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.2)
        if int(time.time()) % 60 > 50:  # keep the 25 requests inside one throttle window
            time.sleep(61 - int(time.time()) % 60)
        codes = [_post(ports[i % 2]) for i in range(25)]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        redis.Redis.from_url(THROTTLE_REDIS).flushdb()
    assert codes.count(400) == 20 and codes.count(429) == 5, codes
    assert codes[-5:] == [429] * 5


# ---------------------------------------------------------------- portal sign-in lockouts


def _portal_failures(client, n, **extra):
    return [
        client.post(
            "/accounts/login/", {"login": f"guess{i}@example.test", "password": "guess"}, **extra
        ).status_code
        for i in range(n)
    ]


def test_one_address_trying_many_logins_is_locked_out(client, settings):
    assert settings.AXES_IP_FAILURE_LIMIT == 10  # the default
    victim = member(OrganizationFactory(), Role.SALES_REP, email="victim@example.test")
    codes = _portal_failures(client, 25, HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert codes[:9] == [200] * 9  # the form's error
    assert codes[9] == 429  # the 10th failure locks the address out
    assert "_auth_user_id" not in client.session
    # (later attempts are refused before they reach axes by allauth's own 10/min per address; that
    # limit lives in the cache: without it the lockout, in the database, still holds)
    cache.clear()
    # from that address even the right password of another user does not sign in
    locked = client.post(
        "/accounts/login/",
        {"login": victim.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.99",
    )
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    # the same user from another address does
    elsewhere = client.post(
        "/accounts/login/", {"login": victim.email, "password": PASSWORD}, REMOTE_ADDR="192.0.2.55"
    )
    assert elsewhere.status_code == 302 and client.session["_auth_user_id"] == str(victim.pk)


def test_the_token_endpoint_shares_the_per_address_lockout(client, settings):
    settings.AXES_IP_FAILURE_LIMIT = 6
    user = UserFactory(email="api@example.test")
    for i in range(6):
        client.post(URL, {"email": f"other{i}@example.test", "password": "guess"})
    locked = client.post(URL, {"email": user.email, "password": PASSWORD})
    assert locked.status_code == 429 and "token" not in locked.json()


def test_signing_in_to_ones_own_account_does_not_reset_the_address_count(client, settings):
    settings.AXES_IP_FAILURE_LIMIT = 10
    mine = member(OrganizationFactory(), Role.SALES_REP, email="attacker@example.test")
    assert _portal_failures(client, 9) == [200] * 9
    ok = client.post("/accounts/login/", {"login": mine.email, "password": PASSWORD})
    assert ok.status_code == 302
    client.logout()
    assert _portal_failures(client, 1) == [429]


def test_per_login_limit_still_applies_below_the_address_limit(client, settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_IP_FAILURE_LIMIT = 10
    user = UserFactory(email="target@example.test")
    codes = [
        client.post("/accounts/login/", {"login": user.email, "password": "guess"}).status_code
        for _ in range(5)
    ]
    assert codes == [200] * 4 + [429]
    # other logins from the address are not locked yet (5 of 10)
    assert _portal_failures(client, 1) == [200]
