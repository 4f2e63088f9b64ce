"""Every read of account lists, scoped to the caller's organization. Lists are visible to the
members of the organization that owns them and to nobody else (sharing comes with sharing rules)."""

import json
from collections.abc import Iterator

from django.db.models import Q, QuerySet

from accounts.models import Organization
from mapping.lists.models import AccountList, AccountRecord, ImportJob, ListChangeSet
from prm.common.errors import NotFound


def account_lists_of(*, org: Organization) -> QuerySet[AccountList]:
    return (
        AccountList.objects.filter(organization=org)
        .select_related("base_list", "last_import")
        .order_by("name", "id")
    )


def account_list_for(*, org: Organization, list_id) -> AccountList:
    """The one way to fetch a list for a caller: 404 unless their organization owns it."""
    try:
        return account_lists_of(org=org).select_related("organization").get(pk=list_id)
    except (AccountList.DoesNotExist, ValueError, TypeError):
        raise NotFound("List not found.") from None


def _segment_filter(filters: dict) -> Q:
    condition = Q()
    for name, values in (filters or {}).items():
        if name == "country":
            condition &= Q(country_norm__in=values)
        else:
            any_of = Q()
            for value in values:
                any_of |= Q(**{f"{name}__iexact": value})
            condition &= any_of
    return condition


def account_list_records(
    *, org: Organization, account_list: AccountList, search: str = ""
) -> QuerySet[AccountRecord]:
    """The records of a list (a segment: the records of its base list that pass its filters)."""
    if account_list.organization_id != org.pk:
        raise NotFound("List not found.")
    if account_list.is_segment:
        qs = AccountRecord.objects.filter(account_list_id=account_list.base_list_id).filter(
            _segment_filter(account_list.filters)
        )
    else:
        qs = AccountRecord.objects.filter(account_list=account_list)
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(domain_norm__icontains=search) | Q(crm_id=search))
    return qs.order_by("id")


def account_list_record_count(*, org: Organization, account_list: AccountList) -> int:
    if account_list.is_segment:
        return account_list_records(org=org, account_list=account_list).count()
    return account_list.record_count


def account_record_for(*, org: Organization, account_list: AccountList, record_id) -> AccountRecord:
    try:
        return account_list_records(org=org, account_list=account_list).get(pk=record_id)
    except (AccountRecord.DoesNotExist, ValueError, TypeError):
        raise NotFound("Record not found.") from None


def import_jobs_of(*, org: Organization, account_list: AccountList) -> QuerySet[ImportJob]:
    if account_list.organization_id != org.pk:
        raise NotFound("List not found.")
    return (
        ImportJob.objects.filter(account_list=account_list)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def import_job_for(*, org: Organization, list_id, job_id) -> ImportJob:
    try:
        return ImportJob.objects.select_related(
            "account_list", "account_list__organization", "created_by"
        ).get(pk=job_id, account_list_id=int(list_id), account_list__organization=org)
    except (ImportJob.DoesNotExist, ValueError, TypeError):
        raise NotFound("Import not found.") from None


def changesets_of(*, org: Organization, account_list: AccountList) -> QuerySet[ListChangeSet]:
    if account_list.organization_id != org.pk:
        raise NotFound("List not found.")
    return (
        ListChangeSet.objects.filter(account_list=account_list)
        .defer("added_ids", "edited_ids", "removed_ids")
        .order_by("-created_at", "-id")
    )


def changeset_for(*, org: Organization, list_id, changeset_id) -> ListChangeSet:
    try:
        return ListChangeSet.objects.get(
            pk=changeset_id, account_list_id=int(list_id), account_list__organization=org
        )
    except (ListChangeSet.DoesNotExist, ValueError, TypeError):
        raise NotFound("Change set not found.") from None


EXPORT_COLUMNS = (
    ("name", "Account name"),
    ("website", "Website"),
    ("domain", "Domain"),
    ("country", "Country"),
    ("region", "Region"),
    ("city", "City"),
    ("postal_code", "Postal code"),
    ("industry", "Industry"),
    ("owner_name", "Owner name"),
    ("owner_email", "Owner e-mail"),
    ("crm_id", "CRM id"),
    ("stage", "Stage"),
    ("private", "Private"),
)


def account_list_export_rows(*, org: Organization, account_list: AccountList) -> Iterator[list[str]]:
    """The header, then one row per record, read in chunks (a list may hold millions)."""
    from mapping.lists.exports import csv_safe

    records = account_list_records(org=org, account_list=account_list)
    yield [label for _field, label in EXPORT_COLUMNS] + ["Extra"]
    fields = [name for name, _label in EXPORT_COLUMNS]
    for values in records.values_list(*fields, "extra").iterator(chunk_size=5000):
        row = [csv_safe("yes" if v is True else "no" if v is False else v) for v in values[:-1]]
        extra = values[-1]
        row.append(csv_safe(_extra_text(extra)) if extra else "")
        yield row


def _extra_text(extra: dict) -> str:
    return json.dumps(extra, ensure_ascii=False, sort_keys=True)
