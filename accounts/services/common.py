from accounts.models import Membership, Organization
from accounts.roles import Capability, role_can
from prm.common.errors import NotFound, PermissionDeniedError


def require_capability(*, actor, org: Organization, capability: Capability) -> Membership:
    """The actor's membership in org if their role grants capability.

    Not a member at all: NotFound (the organization's existence is not disclosed).
    """
    membership = Membership.objects.filter(user=actor, organization=org).first()
    if membership is None:
        raise NotFound("Organization not found.")
    if not role_can(membership.role, capability):
        raise PermissionDeniedError(
            f"Your role ({membership.get_role_display()}) does not allow this action."
        )
    return membership
