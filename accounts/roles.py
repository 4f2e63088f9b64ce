"""What each role may do. One table, read by services (which enforce) and templates (which hide)."""

from enum import StrEnum

from accounts.models import Role


class Capability(StrEnum):
    MANAGE_MEMBERS = "manage_members"  # invite people, change roles, remove members
    MANAGE_PARTNERSHIPS = "manage_partnerships"  # invite partners, accept, end, lifecycle stage, tier
    MANAGE_LISTS = "manage_lists"  # upload account lists, sharing rules
    COSELL = "cosell"  # intros, co-sell tasks, deal registrations
    FINANCE = "finance"  # review and approve payouts
    VIEW = "view"


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ADMIN: frozenset(Capability),
    Role.PARTNER_MANAGER: frozenset(
        {Capability.MANAGE_PARTNERSHIPS, Capability.MANAGE_LISTS, Capability.COSELL, Capability.VIEW}
    ),
    Role.SALES_REP: frozenset({Capability.COSELL, Capability.VIEW}),
    Role.FINANCE: frozenset({Capability.FINANCE, Capability.VIEW}),
    Role.VIEWER: frozenset({Capability.VIEW}),
}


def role_can(role: str, capability: Capability) -> bool:
    return capability in ROLE_CAPABILITIES.get(role, frozenset())
