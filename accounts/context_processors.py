from accounts.context import current_membership as _current_membership
from accounts.roles import ROLE_CAPABILITIES
from prm.common.errors import NotFound


def current_membership(request):
    try:
        membership = _current_membership(request)
    except NotFound:
        membership = None
    caps = ROLE_CAPABILITIES.get(membership.role, frozenset()) if membership else frozenset()
    return {
        "membership": membership,
        "current_org": membership.organization if membership else None,
        "can": {str(c): True for c in caps},
    }
