from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


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
        user, token = super().authenticate_credentials(key)
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
