"""API tokens: issued against what a portal sign-in asks for, the password and, for a user with
two-factor authentication, a code from the authenticator app or a recovery code."""

from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import Role, User
from accounts.selectors import memberships_of
from prm.common.errors import ApplicationError, PermissionDeniedError


class SecondFactorRequired(ApplicationError):
    status_code = 401
    code = "mfa_code_required"


class SecondFactorInvalid(ApplicationError):
    status_code = 401
    code = "mfa_code_invalid"


class SecondFactorThrottled(ApplicationError):
    status_code = 429
    code = "too_many_attempts"


class MFASetupRequired(PermissionDeniedError):
    code = "mfa_required"


def _second_factor_check(*, request, user: User, code: str) -> None:
    """Nothing to prove without an authenticator; else the code must be right (allauth checks it,
    with its per-user rate limit and its memory of TOTP codes already used)."""
    from allauth.mfa.base.forms import BaseAuthenticateForm
    from allauth.mfa.models import Authenticator

    if not Authenticator.objects.filter(user=user).exclude(type=Authenticator.Type.WEBAUTHN).exists():
        return
    if not code:
        raise SecondFactorRequired(
            "This account uses two-factor authentication: send the current code of the authenticator app "
            "(or a recovery code) as `code`."
        )
    form = BaseAuthenticateForm(user=user, data={"code": code})
    if form.is_valid():
        form.authenticator.record_usage()
        return
    if any(error.code == "too_many_login_attempts" for error in form.errors.as_data().get("code", [])):
        raise SecondFactorThrottled("Too many attempts; try again later.")
    # A wrong code counts as a failed sign-in for django-axes, as a wrong password does.
    user_login_failed.send(sender=__name__, credentials={"email": user.email}, request=request)
    raise SecondFactorInvalid("Incorrect two-factor code.")


def api_token_issue(*, request, user: User, code: str = "") -> Token:
    """A fresh token (its expiry starts now) for a user whose password was checked. What a session
    could not do, a token cannot: a user with an authenticator proves it (SecondFactorRequired,
    SecondFactorInvalid), and an organization admin without TOTP, whom the portal sends to set it
    up first, gets no token (MFASetupRequired)."""
    from allauth.mfa.models import Authenticator

    _second_factor_check(request=request, user=user, code=code)
    if (
        any(m.role == Role.ADMIN for m in memberships_of(user=user))
        and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    ):
        raise MFASetupRequired(
            "Organization admins must set up two-factor authentication (in the portal) before using the API."
        )
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)
