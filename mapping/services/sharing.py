"""Writes to sharing rules and to the privacy of records. Every rule change is audited (who, when,
before, after); reads apply the rules at every request, so a change is honoured by the very next one."""

from django.db import transaction
from django.utils import timezone

from accounts.models import Partnership
from accounts.roles import Capability
from accounts.services.common import require_capability
from mapping.models import AccountList, AccountRecord, SharingRule, SharingRuleChange
from mapping.sharing_models import HIDDEN_SNAPSHOT, SHAREABLE_FIELDS, SharingLevel
from prm.common.errors import NotFound, ValidationFailed

MAX_EXTRA_FIELDS = 30


def _clean_fields(fields) -> list[str]:
    if fields in (None, ""):
        return []
    if isinstance(fields, str):
        fields = [fields]
    if not isinstance(fields, list | tuple) or not all(isinstance(f, str) for f in fields):
        raise ValidationFailed("Fields must be a list of field names.", extra={"fields": ["A list of names."]})
    unknown = sorted({f for f in fields if f not in SHAREABLE_FIELDS})
    if unknown:
        raise ValidationFailed(
            f"Fields that cannot be shared: {', '.join(unknown)}; choose among {', '.join(SHAREABLE_FIELDS)}.",
            extra={"fields": [f"Unknown field {name!r}." for name in unknown]},
        )
    return [f for f in SHAREABLE_FIELDS if f in set(fields)]  # canonical order, no duplicates


def _clean_extra_fields(extra_fields) -> list[str]:
    if extra_fields in (None, ""):
        return []
    if isinstance(extra_fields, str):
        extra_fields = [part for part in extra_fields.split(",")]
    if not isinstance(extra_fields, list | tuple) or not all(isinstance(f, str) for f in extra_fields):
        raise ValidationFailed("Extra fields must be a list of names.", extra={"extra_fields": ["A list of names."]})
    cleaned = []
    for name in extra_fields:
        name = name.strip()
        if not name:
            continue
        if len(name) > 100:
            raise ValidationFailed("An extra field name is too long.", extra={"extra_fields": ["100 characters at most."]})
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_EXTRA_FIELDS:
        raise ValidationFailed(
            f"At most {MAX_EXTRA_FIELDS} extra fields.", extra={"extra_fields": [f"{MAX_EXTRA_FIELDS} at most."]}
        )
    return cleaned


@transaction.atomic
def sharing_rule_set(
    *,
    actor,
    partnership: Partnership,
    account_list: AccountList,
    level: str,
    fields: list[str] | None = None,
    extra_fields: list[str] | None = None,
) -> SharingRule:
    """Set what the other side of the partnership sees of one of the owner's lists.

    Needs Manage lists in the list's organization. Field allow-lists only matter at "overlapping
    accounts" and above; below that they are cleared so the audit log says what is shown.
    """
    org = account_list.organization
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_LISTS)
    if not partnership.involves(org):
        raise NotFound("Partnership not found.")
    if level not in SharingLevel.values:
        raise ValidationFailed(
            f"Unknown sharing level {level!r}; use {', '.join(SharingLevel.values)}.",
            extra={"level": ["Unknown level."]},
        )
    fields, extra_fields = _clean_fields(fields), _clean_extra_fields(extra_fields)
    if level in (SharingLevel.HIDDEN, SharingLevel.COUNTS):
        fields, extra_fields = [], []

    # Lock the rule row (or, when there is none yet, the list row) so that concurrent edits of one
    # rule are serialized and each audit entry's "before" is what the edit really replaced.
    AccountList.objects.select_for_update().filter(pk=account_list.pk).first()
    rule = SharingRule.objects.select_for_update().filter(partnership=partnership, account_list=account_list).first()
    before = rule.snapshot() if rule is not None else dict(HIDDEN_SNAPSHOT)
    after = {"level": level, "fields": fields, "extra_fields": extra_fields}
    if rule is None:
        rule = SharingRule(partnership=partnership, account_list=account_list)
    if before == after and rule.pk is not None:
        return rule
    rule.level, rule.fields, rule.extra_fields, rule.updated_by = level, fields, extra_fields, actor
    if before != after or rule.pk is None:
        rule.save()
    if before != after:
        SharingRuleChange.objects.create(
            partnership=partnership,
            organization=org,
            account_list=account_list,
            list_name=account_list.name,
            changed_by=actor,
            before=before,
            after=after,
        )
    return rule


@transaction.atomic
def account_records_set_private(*, actor, account_list: AccountList, crm_ids: list[str], private: bool = True) -> int:
    """Mark records of one of the owner's lists private (never shown to any partner, whatever the
    rules) or shared again; found by CRM id. Returns how many records changed."""
    require_capability(actor=actor, org=account_list.organization, capability=Capability.MANAGE_LISTS)
    if not isinstance(crm_ids, list | tuple) or not all(isinstance(c, str) for c in crm_ids):
        raise ValidationFailed("CRM ids must be a list of texts.", extra={"crm_ids": ["A list of texts."]})
    list_id = account_list.base_list_id if account_list.is_segment else account_list.pk  # a segment's records
    return (
        AccountRecord.objects.filter(account_list_id=list_id, crm_id__in=[c for c in crm_ids if c])
        .exclude(private=private)
        .update(private=private, updated_at=timezone.now())
    )
