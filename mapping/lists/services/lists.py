"""Writes to account lists themselves (not their records: see services.imports)."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organization
from accounts.roles import Capability
from accounts.services.common import require_capability
from mapping.lists.models import AccountList, AccountRecord
from prm.common.errors import Conflict, ValidationFailed
from prm.common.text import clean_single_line, model_max_length

# Fields a custom segment may filter on, each with "any of these values" semantics. Country
# compares ISO codes (the normalized country), the others compare case-insensitively.
SEGMENT_FILTERS = ("country", "region", "city", "industry", "stage", "owner_email", "owner_name")


def clean_filters(filters) -> dict[str, list[str]]:
    from mapping.engine.normalize import country_code

    if filters in (None, ""):
        return {}
    if not isinstance(filters, dict):
        raise ValidationFailed(
            'Filters must be an object such as {"country": ["DE"]}.',
            extra={"filters": ["Must be an object."]},
        )
    cleaned: dict[str, list[str]] = {}
    for name, values in filters.items():
        if name not in SEGMENT_FILTERS:
            raise ValidationFailed(
                f"Unknown filter {name!r}; use {', '.join(SEGMENT_FILTERS)}.",
                extra={"filters": [f"Unknown filter {name!r}."]},
            )
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValidationFailed(
                f"Filter {name!r} needs a list of texts.", extra={"filters": [f"{name}: a list of texts."]}
            )
        values = [v.strip() for v in values if v and v.strip()][:500]
        if name == "country":
            codes = []
            for value in values:
                code = country_code(value)
                if not code:
                    raise ValidationFailed(
                        f"Unknown country {value!r}.", extra={"filters": [f"Unknown country {value!r}."]}
                    )
                codes.append(code)
            values = sorted(set(codes))
        if values:
            cleaned[name] = values
    return cleaned


def _check_name(name: str) -> str:
    if not (name or "").strip():
        raise ValidationFailed("A list needs a name.", extra={"name": ["This field is required."]})
    return clean_single_line(
        name, field="name", label="list name", max_length=model_max_length(AccountList, "name")
    )


@transaction.atomic
def account_list_create(
    *,
    actor,
    org: Organization,
    name: str,
    kind: str = AccountList.Kind.CUSTOMERS,
    description: str = "",
    base_list: AccountList | None = None,
    filters: dict | None = None,
) -> AccountList:
    require_capability(actor=actor, org=org, capability=Capability.MANAGE_LISTS)
    name = _check_name(name)
    if kind not in AccountList.Kind.values:
        raise ValidationFailed(f"Unknown list kind: {kind!r}.", extra={"kind": ["Unknown kind."]})
    source = AccountList.Source.FILE
    if kind == AccountList.Kind.CUSTOM:
        if base_list is None or base_list.organization_id != org.pk:
            raise ValidationFailed(
                "A custom segment filters another of your lists: choose it.",
                extra={"base_list": ["Required."]},
            )
        if base_list.is_segment:
            raise ValidationFailed(
                "A segment filters a list, not another segment.", extra={"base_list": ["Not a segment."]}
            )
        filters = clean_filters(filters)
        source = AccountList.Source.SEGMENT
    else:
        base_list, filters = None, {}
    if AccountList.objects.filter(organization=org, name=name).exists():
        raise Conflict(f"You already have a list named {name!r}.", extra={"name": ["Already used."]})
    try:
        with transaction.atomic():
            return AccountList.objects.create(
                organization=org,
                name=name,
                kind=kind,
                description=(description or "")[:2000],
                base_list=base_list,
                filters=filters,
                source=source,
            )
    except IntegrityError:
        raise Conflict(
            f"You already have a list named {name!r}.", extra={"name": ["Already used."]}
        ) from None


@transaction.atomic
def account_list_update(
    *,
    actor,
    account_list: AccountList,
    name: str | None = None,
    description: str | None = None,
    filters: dict | None = None,
) -> AccountList:
    require_capability(actor=actor, org=account_list.organization, capability=Capability.MANAGE_LISTS)
    if name is not None:
        name = _check_name(name)
        clash = AccountList.objects.filter(organization_id=account_list.organization_id, name=name)
        if clash.exclude(pk=account_list.pk).exists():
            raise Conflict(f"You already have a list named {name!r}.", extra={"name": ["Already used."]})
        account_list.name = name
    if description is not None:
        account_list.description = description[:2000]
    if filters is not None:
        if not account_list.is_segment:
            raise ValidationFailed(
                "Only custom segments have filters.", extra={"filters": ["Not a segment."]}
            )
        account_list.filters = clean_filters(filters)
        account_list.last_changed_at = timezone.now()
    account_list.save()
    return account_list


@transaction.atomic
def account_list_delete(*, actor, account_list: AccountList) -> None:
    require_capability(actor=actor, org=account_list.organization, capability=Capability.MANAGE_LISTS)
    # Records first: one DELETE (nothing refers to records yet) rather than a cascade collecting them.
    AccountRecord.objects.filter(account_list=account_list).delete()
    account_list.delete()
