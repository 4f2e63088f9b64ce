"""Which organization a request acts for.

A user may belong to several organizations. The API takes the `X-Organization` header (an
organization id); the portal keeps the choice in the session. Without either, the first
membership by organization name is used.
"""

from accounts.models import Membership
from accounts.selectors import memberships_of
from prm.common.errors import NotFound
from prm.common.rows import as_id

SESSION_KEY = "current_org_id"
HEADER = "HTTP_X_ORGANIZATION"


def current_membership(request) -> Membership | None:
    if hasattr(request, "_current_membership"):
        return request._current_membership
    membership = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        mine = memberships(request)
        wanted = request.META.get(HEADER)
        if wanted is not None:
            wanted_id = as_id(wanted)
            if wanted_id is None:
                raise NotFound("Organization not found.")
            membership = next((m for m in mine if m.organization_id == wanted_id), None)
            if membership is None:
                raise NotFound("Organization not found.")
        else:
            session = getattr(request, "session", None)
            org_id = as_id(session.get(SESSION_KEY)) if session is not None else None
            if org_id:
                membership = next((m for m in mine if m.organization_id == org_id), None)
            if membership is None and mine:
                membership = mine[0]
    request._current_membership = membership
    return membership


def memberships(request) -> list[Membership]:
    """The signed-in user's memberships, their organizations attached, by organization name: one
    plain query per request (the MFA check, the current organization and the organization switcher
    all read them). A request that may change them (not GET/HEAD) reads afresh each time."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    if getattr(request, "method", None) in ("GET", "HEAD") and hasattr(request, "_memberships"):
        return request._memberships
    out = memberships_of(user=user)
    request._memberships = out
    return out
