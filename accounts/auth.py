"""Who is signing in, from where, and how hard they may try.

- client_ip: the caller's address, the one source for the token endpoint's throttle, django-axes
  and allauth's rate limits: REMOTE_ADDR, unless TRUSTED_PROXY_COUNT says how many proxies in front
  of us append to X-Forwarded-For (then the entry the outermost trusted proxy appended).
- ClientAddressThrottle: a fixed-window counter per address in the default cache (Redis with
  THROTTLE_CACHE_URL, so that every worker process shares the counts).
- AxesLimitsHandler: django-axes with two limits: per username and address, and per address
  across usernames.
- ExpiringTokenAuthentication: API tokens, refused where a session would be (an organization admin
  without TOTP) and when issued before the user turned TOTP on.
"""

import ipaddress
import time

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_parameters, get_client_username, get_failure_limit
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import Membership, Role
from prm.common.rows import columns, fetch_one_with_extras

MFA_REQUIRED = "Organization admins must set up two-factor authentication first."


def client_ip(request) -> str | None:
    """The caller's address. X-Forwarded-For is anyone's to write, so it counts only with
    TRUSTED_PROXY_COUNT = n > 0: each trusted proxy appends the address it saw, and the n-th entry
    from the right is what the outermost one saw (the leftmost entry when there are fewer)."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded.strip():
        hops = [hop.strip() for hop in forwarded.split(",")]
        try:  # not an address (only a client's own entry can be): the connection's address
            return str(ipaddress.ip_address(hops[-min(proxies, len(hops))]))
        except ValueError:
            return remote
    return remote


def axes_username(request, credentials):
    """Axes keys lockouts on the login; allauth sends it as `email` (or `login` in forms)."""
    credentials = credentials or {}
    for key in ("email", "login", "username"):
        if credentials.get(key):
            return str(credentials[key]).strip().lower()
    if request is not None and request.method == "POST":
        for key in ("login", "email", "username"):
            if request.POST.get(key):
                return request.POST[key].strip().lower()
    return None


class ClientAddressThrottle(ScopedRateThrottle):
    """The view's throttle_scope rate per client address (client_ip), counted with one atomic
    increment in the default cache: concurrent requests, in one process or many, cannot all read
    the same count and pass. Windows are fixed (rate periods aligned on the clock)."""

    def get_ident(self, request):
        return client_ip(request) or "unknown"

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        now = time.time()
        window = int(now // self.duration)
        key = self.cache_format % {"scope": self.scope, "ident": f"{self.get_ident(request)}:{window}"}
        cache.add(key, 0, timeout=self.duration + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=self.duration + 1)
            count = 1
        self._wait = (window + 1) * self.duration - now
        return count <= self.num_requests

    def wait(self):
        return getattr(self, "_wait", None)


class AxesLimitsHandler(AxesDatabaseHandler):
    """django-axes' database handler (shared by every worker) with a limit per parameter set:
    AXES_FAILURE_LIMIT for the sets that include the username, AXES_IP_FAILURE_LIMIT for those
    that do not (an address trying many usernames). Axes compares one number with
    AXES_FAILURE_LIMIT, so each set's count is expressed on that scale; a set reaches the limit
    exactly when its count reaches its own limit."""

    def _parameter_sets(self, request, credentials):
        return get_client_parameters(
            get_client_username(request, credentials),
            request.axes_ip_address,
            request.axes_user_agent,
            request,
            credentials,
        )

    def get_failures(self, request, credentials=None) -> int:
        limit = get_failure_limit(request, credentials)
        worst = 0
        for params, attempts in zip(
            self._parameter_sets(request, credentials),
            self.get_user_attempts(request, credentials),
            strict=True,
        ):
            count = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            own = limit if "username" in params else settings.AXES_IP_FAILURE_LIMIT
            worst = max(worst, count * limit // max(own, 1))
        return worst

    def reset_user_attempts(self, request, credentials=None) -> int:
        # A success resets that username's failures, not those of the whole address: else whoever
        # signs in to their own account wipes the address's count of guesses at others.
        count = 0
        for params, attempts in zip(
            self._parameter_sets(request, credentials),
            self.filter_user_attempts(request, credentials),
            strict=True,
        ):
            if "username" in params:
                count += attempts.delete()[0]
        return count


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF token auth whose tokens stop working API_TOKEN_TTL after they were issued, and that
    a session would refuse: an organization admin without TOTP gets 403 mfa_required (as
    RequireAdminMFAMiddleware answers a session), and a token issued before its user turned TOTP
    on no longer works (it was not issued against the second factor)."""

    keyword = "Token"

    def authenticate_credentials(self, key):
        from allauth.mfa.models import Authenticator

        # DRF's checks, with the token, its user and the two-factor facts in one plain query
        # (every API request)
        model, user_model = self.get_model(), get_user_model()
        totp = Authenticator.Type.TOTP
        sql = (
            f"SELECT {columns(model, 't')}, {columns(user_model, 'u')}, "  # nosec B608  # names from the models and code; values are query parameters
            f"EXISTS (SELECT 1 FROM {Membership._meta.db_table} m WHERE m.user_id = u.id AND m.role = %s), "
            f"EXISTS (SELECT 1 FROM {Authenticator._meta.db_table} a WHERE a.user_id = u.id AND a.type = %s), "
            f"EXISTS (SELECT 1 FROM {Authenticator._meta.db_table} a WHERE a.user_id = u.id AND a.type = %s "
            f"AND a.created_at > t.created) "
            f"FROM {model._meta.db_table} t "
            f"JOIN {user_model._meta.db_table} u ON u.{user_model._meta.pk.column} = t.user_id WHERE t.key = %s"
        )
        found = fetch_one_with_extras(sql, [Role.ADMIN, totp, totp, key], model, user_model)
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        (token, user), extras = found
        is_admin, has_totp, totp_after_token = (bool(value) for value in extras)
        token.user = user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if token.created < timezone.now() - settings.API_TOKEN_TTL:
            raise exceptions.AuthenticationFailed("Token has expired; request a new one.")
        if totp_after_token:
            raise exceptions.AuthenticationFailed(
                "Two-factor authentication was turned on after this token was issued; request a new one with a code."
            )
        if is_admin and not has_totp:
            raise exceptions.PermissionDenied(MFA_REQUIRED, code="mfa_required")
        return user, token


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out client sees: JSON for the API, a page for people."""
    from django.http import JsonResponse
    from django.shortcuts import render

    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "Too many failed sign-in attempts; try again later.", "code": "locked_out"}, status=429
        )
    return render(request, "account/lockout.html", status=429)
