"""The one rule that matching needs from a layer above it, handed down at start-up.

Recording a reviewer's word on a pair must refuse a pair whose partner record the caller does not
already see: that rule is sharing's (`mapping.sharing.selectors.visibility.partner_record_visible`),
and sharing sits above matching. `MappingConfig.ready` installs it here; until then every record
counts as not visible, so a missing installation refuses decisions instead of leaking ids.
"""

from collections.abc import Callable

_partner_record_visible: Callable[..., bool] | None = None


def install_partner_record_visible(rule: Callable[..., bool]) -> None:
    global _partner_record_visible
    _partner_record_visible = rule


def partner_record_visible(*, org, partnership, record_id) -> bool:
    """Whether the partner's record `record_id` is already shown to org (see the rule it stands for)."""
    if _partner_record_visible is None:
        return False
    return _partner_record_visible(org=org, partnership=partnership, record_id=record_id)
