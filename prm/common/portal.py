"""Shared pieces for server-rendered portal views."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect

from prm.common.errors import ApplicationError, NotFound, PermissionDeniedError


def apply_error_to_form(form, exc: ApplicationError) -> None:
    """Show a domain error on the form: field errors where the service named fields.

    A permission error is not about the form (the user may not even see it): it propagates, and
    portal_view shows it as a message on the page the user came from.
    """
    if isinstance(exc, PermissionDeniedError):
        raise exc
    placed = False
    for field, errors in (exc.extra or {}).items():
        if field in form.fields:
            for error in errors if isinstance(errors, list | tuple) else [errors]:
                form.add_error(field, str(error))
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def portal_view(view):
    """Sign-in required; the caller must belong to an organization (else: create one).

    Sets request.membership and request.org. A NotFound becomes a 404 page and any other domain
    error raised outside a form becomes a message on the page the user came from.
    """

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        from accounts.context import current_membership

        try:
            membership = current_membership(request)
        except NotFound:
            raise Http404("Organization not found.") from None
        if membership is None:
            return redirect("portal:organization_create")
        request.membership = membership
        request.org = membership.organization
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(_safe_back(request))

    return wrapper


def _safe_back(request) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    back = request.META.get("HTTP_REFERER") or ""
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return "/"
