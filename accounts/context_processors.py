from accounts.context import current_membership as _current_membership
from accounts.context import memberships as _memberships
from accounts.roles import ROLE_CAPABILITIES
from prm.common.errors import NotFound


def current_membership(request):
    try:
        membership = _current_membership(request)
    except NotFound:
        membership = None
    user = getattr(request, "user", None)
    memberships = _memberships(request) if membership is not None and user is not None else []
    caps = ROLE_CAPABILITIES.get(membership.role, frozenset()) if membership else frozenset()
    return {
        "membership": membership,
        "current_org": membership.organization if membership else None,
        "memberships": memberships,
        "can": {str(c): True for c in caps},
    }
