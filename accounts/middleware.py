from django.shortcuts import redirect
from django.urls import reverse

from accounts.context import memberships
from accounts.models import Role

# Paths an admin without MFA may still reach: to set it up, sign out, or load assets.
_ALLOWED_PREFIXES = ("/accounts/", "/static/", "/favicon")


class RequireAdminMFAMiddleware:
    """Organization admins must have an authenticator app (TOTP) before using the portal or the
    session-authenticated API. Everyone else may turn MFA on; admins may not skip it.

    The check is on whoever the session signed in (request.user here is the session's user), with
    or without an Authorization header: a header proves nothing until DRF has checked it, and a
    request signed in by a token alone has no user here; ExpiringTokenAuthentication applies the
    same rule to token users."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(_ALLOWED_PREFIXES)
            and any(m.role == Role.ADMIN for m in memberships(request))
        ):
            from allauth.mfa.models import Authenticator

            if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
                if request.path.startswith("/api/"):
                    from django.http import JsonResponse

                    from accounts.auth import MFA_REQUIRED

                    return JsonResponse({"detail": MFA_REQUIRED, "code": "mfa_required"}, status=403)
                return redirect(reverse("mfa_activate_totp") + "?next=" + request.path)
        return self.get_response(request)
