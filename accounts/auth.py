from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from prm.common.rows import columns, fetch_one


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


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF token auth whose tokens stop working API_TOKEN_TTL after they were issued."""

    keyword = "Token"

    def authenticate_credentials(self, key):
        # DRF's checks, with the token and its user read in one plain query (every API request)
        model, user_model = self.get_model(), get_user_model()
        found = fetch_one(
            f"SELECT {columns(model, 't')}, {columns(user_model, 'u')} FROM {model._meta.db_table} t "
            f"JOIN {user_model._meta.db_table} u ON u.{user_model._meta.pk.column} = t.user_id WHERE t.key = %s",
            [key], model, user_model,
        )
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        token, user = found
        token.user = user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        if token.created < timezone.now() - settings.API_TOKEN_TTL:
            raise exceptions.AuthenticationFailed("Token has expired; request a new one.")
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
