"""Which organization a request acts for.

A user may belong to several organizations. The API takes the `X-Organization` header (an
organization id); the portal keeps the choice in the session. Without either, the first
membership by organization name is used.
"""

from accounts.models import Membership
from prm.common.errors import NotFound

SESSION_KEY = "current_org_id"
HEADER = "HTTP_X_ORGANIZATION"


def current_membership(request) -> Membership | None:
    if hasattr(request, "_current_membership"):
        return request._current_membership
    membership = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        qs = Membership.objects.filter(user=user).select_related("organization")
        wanted = request.META.get(HEADER)
        if wanted is not None:
            if not str(wanted).isdigit():
                raise NotFound("Organization not found.")
            membership = qs.filter(organization_id=int(wanted)).first()
            if membership is None:
                raise NotFound("Organization not found.")
        else:
            session = getattr(request, "session", None)
            org_id = session.get(SESSION_KEY) if session is not None else None
            if org_id:
                membership = qs.filter(organization_id=org_id).first()
            if membership is None:
                membership = qs.order_by("organization__name", "organization_id").first()
    if membership is not None:
        membership.user = user  # already loaded: no second read of the user row
    request._current_membership = membership
    return membership
