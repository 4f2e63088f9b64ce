"""Writes to sharing rules and to the privacy of records. Every rule change is audited (who, when,
before, after); reads apply the rules at every request, so a change is honoured by the very next one."""

from django.db import transaction

from accounts.models import Partnership
from accounts.roles import Capability
from accounts.services.common import require_capability
from mapping.lists.models import AccountList, AccountRecord
from mapping.sharing.models import (
    HIDDEN_SNAPSHOT,
    SHAREABLE_FIELDS,
    SharingLevel,
    SharingRule,
    SharingRuleChange,
)
from prm.common.errors import NotFound, ValidationFailed

MAX_EXTRA_FIELDS = 30


def _clean_fields(fields) -> list[str]:
    if fields in (None, ""):
        return []
    if isinstance(fields, str):
        fields = [fields]
    if not isinstance(fields, list | tuple) or not all(isinstance(f, str) for f in fields):
        raise ValidationFailed(
            "Fields must be a list of field names.", extra={"fields": ["A list of names."]}
        )
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
        raise ValidationFailed(
            "Extra fields must be a list of names.", extra={"extra_fields": ["A list of names."]}
        )
    cleaned = []
    for name in extra_fields:
        name = name.strip()
        if not name:
            continue
        if len(name) > 100:
            raise ValidationFailed(
                "An extra field name is too long.", extra={"extra_fields": ["100 characters at most."]}
            )
        if name not in cleaned:
            cleaned.append(name)
    if len(cleaned) > MAX_EXTRA_FIELDS:
        raise ValidationFailed(
            f"At most {MAX_EXTRA_FIELDS} extra fields.",
            extra={"extra_fields": [f"{MAX_EXTRA_FIELDS} at most."]},
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
    rule = (
        SharingRule.objects.select_for_update()
        .filter(partnership=partnership, account_list=account_list)
        .first()
    )
    before = rule.snapshot() if rule is not None else dict(HIDDEN_SNAPSHOT)
    after = {"level": level, "fields": fields, "extra_fields": extra_fields}
    if rule is None:
        rule = SharingRule(partnership=partnership, account_list=account_list)
    if before == after and rule.pk is not None:
        return rule
    rule.level, rule.fields, rule.extra_fields, rule.updated_by = level, fields, extra_fields, actor
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


MAX_PRIVATE_BATCH = 10_000


@transaction.atomic
def records_set_private(*, actor, account_list: AccountList, record_ids, private: bool) -> int:
    """Mark records of one of my lists private (never shown to any partner, not even counted) or
    shareable again. Needs Manage lists. Every id must be a record of that list, or nothing changes.
    Returns how many records changed. PostgreSQL moves their overlaps between the tally's visible
    and private counts in the same transaction (trigger, migration 0006)."""
    require_capability(actor=actor, org=account_list.organization, capability=Capability.MANAGE_LISTS)
    if account_list.is_segment:
        raise ValidationFailed("A segment holds no records of its own; mark them in its base list.")
    if not isinstance(private, bool):
        raise ValidationFailed("private must be true or false.", extra={"private": ["A boolean."]})
    if not isinstance(record_ids, list | tuple) or not record_ids:
        raise ValidationFailed(
            "Give the ids of the records to change.", extra={"record_ids": ["A non-empty list."]}
        )
    if len(record_ids) > MAX_PRIVATE_BATCH:
        raise ValidationFailed(
            f"At most {MAX_PRIVATE_BATCH} records at a time.",
            extra={"record_ids": [f"{MAX_PRIVATE_BATCH} at most."]},
        )
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in record_ids):
        raise ValidationFailed("Record ids must be integers.", extra={"record_ids": ["Integers."]})
    ids = set(record_ids)
    records = AccountRecord.objects.filter(account_list=account_list, pk__in=ids)
    found = set(records.values_list("pk", flat=True))
    if found != ids:
        raise NotFound(
            f"Records not found in this list: {', '.join(str(i) for i in sorted(ids - found)[:20])}."
        )
    return records.exclude(private=private).update(private=private)
