"""Every read of overlaps, through the sharing rules.

The caller's organization is *mine*; the other side of the partnership is *theirs*. Of my side I
see everything (my own private records included). Of their side I see:

- a list exists only if its owner shares it at "counts only" or more (no rule row = hidden);
- counts of overlaps with a list at "counts only" or more;
- their records (only the allowed fields) at "overlapping accounts" or more;
- their records with no overlap (white space) at "all accounts";
- never a private record of theirs, not even in a count.

Only matched pairs (status "match") are overlaps here: pairs waiting for review may well be two
different companies, and showing them would show a record that does not overlap.

No write by one side widens what it sees of the other's records (the rule is in the README,
"Account mapping and sharing"): a pair is "match" only at or above both sides' thresholds (the
engine runs at the higher bar, MatchSettings.effective_thresholds) or once both sides confirmed
it; the review queue (selectors.review) and decisions (partner_record_visible) reach only partner
records that an overlap or a list at "all accounts" already shows; the scoring model changes only
when both sides asked for it.

Rules are read at every call here. The matrix and overlap pages that the API and the portal keep
(mapping.sharing.read_cache) are keyed by read stamps that every change to their data bumps at commit, so
a change is honoured by the next request there too.
Counts of base-list pairs come from OverlapTally on PostgreSQL (kept by triggers in the writer's
transaction, with the overlaps of private records counted apart), so a count is one indexed read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import Organization, Partnership, Role
from mapping.lists.models import AccountList, AccountRecord
from mapping.lists.selectors import account_lists_of
from mapping.matching.models import Overlap
from mapping.sharing.models import (
    LEVEL_RANK,
    SHAREABLE_FIELDS,
    SharingLevel,
    SharingRule,
    SharingRuleChange,
    levels_at_least,
)
from prm.common.errors import NotFound, PermissionDeniedError

MATCH = Overlap.Status.MATCH
# What the views read of a list (not its mapping, import job or other baggage).
LIST_FIELDS = ("id", "organization_id", "kind", "name", "record_count", "base_list_id", "filters")


# Record fields read by my_record_view, partner_view and _record_in (segment filters).
ROW_RECORD_FIELDS = (
    "id",
    "account_list_id",
    "name",
    "domain",
    "domain_norm",
    "country",
    "country_norm",
    "region",
    "city",
    "industry",
    "owner_name",
    "owner_email",
    "stage",
    "crm_id",
    "private",
    "extra",
)
POPULATIONS = (AccountList.Kind.CUSTOMERS, AccountList.Kind.PROSPECTS, AccountList.Kind.OPPORTUNITIES)


# ------------------------------------------------------------------------------------ the sides


@dataclass(frozen=True)
class Side:
    """A partnership seen by one of its organizations."""

    partnership: Partnership
    org: Organization
    other: Organization
    mine: str  # "left" or "right" (the initiator is always left)
    theirs: str

    @property
    def active(self) -> bool:
        return self.partnership.status == Partnership.Status.ACTIVE


def side_of(*, org: Organization, partnership: Partnership) -> Side:
    if not partnership.involves(org):
        raise NotFound("Partnership not found.")
    mine = "left" if partnership.initiator_id == org.pk else "right"
    return Side(partnership, org, partnership.other(org), mine, "right" if mine == "left" else "left")


@dataclass(frozen=True)
class SharedList:
    """One of the partner's lists as I may see it."""

    account_list: AccountList
    level: str
    fields: tuple[str, ...] = ()
    extra_fields: tuple[str, ...] = ()

    @property
    def id(self) -> int:
        return self.account_list.pk

    @property
    def name(self) -> str:
        return self.account_list.name

    @property
    def kind(self) -> str:
        return self.account_list.kind

    @property
    def shows_records(self) -> bool:
        return LEVEL_RANK[self.level] >= LEVEL_RANK[SharingLevel.OVERLAPS]

    @property
    def shows_white_space(self) -> bool:
        return self.level == SharingLevel.ALL

    def get_level_display(self) -> str:
        return SharingLevel(self.level).label


def _shared(rule: SharingRule) -> SharedList:
    shows = LEVEL_RANK[rule.level] >= LEVEL_RANK[SharingLevel.OVERLAPS]
    return SharedList(
        account_list=rule.account_list,
        level=rule.level,
        fields=tuple(f for f in SHAREABLE_FIELDS if f in (rule.fields or [])) if shows else (),
        extra_fields=tuple(str(f) for f in (rule.extra_fields or [])) if shows else (),
    )


def partner_lists_for(
    *, org: Organization, partnership: Partnership, at_least: str = SharingLevel.COUNTS
) -> list[SharedList]:
    """The partner's lists shared with org at `at_least` or more. An ended partnership shares nothing."""
    return lists_in_view(org=org, partnership=partnership, at_least=at_least)[1]


def _marks(values) -> str:
    """Placeholders for an IN (...) of plain SQL: one %s per value."""
    return ", ".join(["%s"] * len(values))


def lists_in_view(
    *, org: Organization, partnership: Partnership, at_least: str = SharingLevel.COUNTS
) -> tuple[list[AccountList], list[SharedList]]:
    """My lists, and the partner's lists shared with me at `at_least` or more, in one query (the
    pages that show overlaps read both on every request). An ended partnership shares nothing."""
    side = side_of(org=org, partnership=partnership)
    levels = levels_at_least(at_least) if side.active else []
    level_marks = _marks(levels) or "NULL"
    table, rules = AccountList._meta.db_table, SharingRule._meta.db_table
    sql = (
        f"SELECT l.id, l.organization_id, l.kind, l.name, l.record_count, l.base_list_id, l.filters, "  # nosec B608  # names from the models and code; values are query parameters
        f"r.level, r.fields, r.extra_fields FROM {table} l "
        f"LEFT JOIN {rules} r ON r.account_list_id = l.id AND r.partnership_id = %s "
        f"WHERE l.organization_id = %s OR (l.organization_id = %s AND r.level IN ({level_marks}))"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [partnership.pk, org.pk, side.other.pk, *levels])
        rows = cursor.fetchall()
    mine, theirs = [], []
    for list_id, org_id, kind, name, record_count, base_list_id, filters, level, fields, extra_fields in rows:
        account_list = AccountList(
            id=list_id,
            organization_id=org_id,
            kind=kind,
            name=name,
            record_count=record_count,
            base_list_id=base_list_id,
            filters=_json(filters),
        )
        if org_id == org.pk:
            mine.append(account_list)
        else:
            rule = SharingRule(
                account_list=account_list,
                level=level,
                fields=_json(fields) or [],
                extra_fields=_json(extra_fields) or [],
            )
            theirs.append(_shared(rule))
    mine.sort(key=lambda lst: (lst.name, lst.pk))
    theirs.sort(key=lambda s: (s.account_list.kind, s.account_list.name, s.account_list.pk))
    return mine, theirs


def _json(value):
    return json.loads(value) if isinstance(value, str | bytes) else value


def partner_record_visible(*, org: Organization, partnership: Partnership, record_id) -> bool:
    """Whether one of the partner's records is already shown to org at record level: not private,
    in a list the partner shares with org at "overlapping accounts" or more, and either an overlap
    of this partnership (a matched pair) or in a list shared at "all accounts" (white space).

    A record that is merely in a shared list is not shown: at "overlapping accounts" a record that
    overlaps nothing is white space, which only "all accounts" shows."""
    side = side_of(org=org, partnership=partnership)
    _mine, shared = lists_in_view(org=org, partnership=partnership, at_least=SharingLevel.OVERLAPS)
    if not shared:
        return False
    try:
        record = AccountRecord.objects.filter(pk=int(record_id), private=False).first()
    except (TypeError, ValueError):
        return False
    holding = [s for s in shared if record is not None and _record_in(record, s.account_list)]
    if not holding:
        return False
    if any(s.shows_white_space for s in holding):
        return True
    return Overlap.objects.filter(
        partnership=partnership, status=MATCH, **{f"{side.theirs}_record_id": record.pk}
    ).exists()


def partner_list_for(*, org: Organization, partnership: Partnership, list_id, at_least: str) -> SharedList:
    """One of the partner's lists, if shared at `at_least` or more: else 404 (hidden lists do not exist)."""
    try:
        list_id = int(list_id)
    except (TypeError, ValueError):
        raise NotFound("List not found.") from None
    for shared in partner_lists_for(org=org, partnership=partnership, at_least=at_least):
        if shared.id == list_id:
            return shared
    raise NotFound("List not found.")


def sharing_rules_of(
    *, org: Organization, partnership: Partnership
) -> list[tuple[AccountList, SharingRule | None]]:
    """Each of my lists with the rule I set for this partnership (None: hidden)."""
    side_of(org=org, partnership=partnership)
    lists = list(account_lists_of(org=org))
    rules = {
        r.account_list_id: r
        for r in SharingRule.objects.filter(partnership=partnership, account_list__in=lists)
    }
    return [(lst, rules.get(lst.pk)) for lst in lists]


def sharing_rule_changes_of(
    *, org: Organization, membership, partnership: Partnership | None = None
) -> QuerySet[SharingRuleChange]:
    """The audit log of my organization's rule changes: for its admins only."""
    if membership.organization_id != org.pk or membership.role != Role.ADMIN:
        raise PermissionDeniedError("Only your organization's admins can read the sharing audit log.")
    qs = SharingRuleChange.objects.filter(organization=org).select_related(
        "changed_by", "partnership__initiator", "partnership__partner"
    )
    if partnership is not None:
        side_of(org=org, partnership=partnership)
        qs = qs.filter(partnership=partnership)
    return qs.order_by("-changed_at", "-id")


# ---------------------------------------------------------------------------- segment membership


def _segment_q(filters: dict, prefix: str = "") -> Q:
    """The records of a custom segment (same semantics as mapping.lists.selectors' segment filter)."""
    condition = Q()
    for name, values in (filters or {}).items():
        if name == "country":
            condition &= Q(**{f"{prefix}country_norm__in": values})
        else:
            any_of = Q()
            for value in values:
                any_of |= Q(**{f"{prefix}{name}__iexact": value})
            condition &= any_of
    return condition


def _base_id(account_list: AccountList) -> int:
    return account_list.base_list_id if account_list.is_segment else account_list.pk


def _in_list(side_prefix: str, account_list: AccountList) -> Q:
    """Overlaps whose record on side_prefix ("left"/"right") is in account_list."""
    q = Q(**{f"{side_prefix}_list_id": _base_id(account_list)})
    if account_list.is_segment:
        q &= _segment_q(account_list.filters, f"{side_prefix}_record__")
    return q


def _in_lists(side_prefix: str, lists: list[AccountList]) -> Q:
    """Overlaps whose record on side_prefix is in any of the lists: base lists in one IN."""
    q = Q(**{f"{side_prefix}_list_id__in": [lst.pk for lst in lists if not lst.is_segment]})
    for lst in lists:
        if lst.is_segment:
            q |= _in_list(side_prefix, lst)
    return q


def _record_in(record: AccountRecord, account_list: AccountList) -> bool:
    """Python twin of _in_list for one loaded record (decides which allow-lists apply to it)."""
    if record.account_list_id != _base_id(account_list):
        return False
    if not account_list.is_segment:
        return True
    for name, values in (account_list.filters or {}).items():
        if name == "country":
            if record.country_norm not in values:
                return False
        else:
            value = (getattr(record, name, "") or "").casefold()
            if value not in {v.casefold() for v in values}:
                return False
    return True


# ------------------------------------------------------------------------------ what is revealed


def partner_view(record: AccountRecord, lists: list[SharedList], plans: dict | None = None) -> dict:
    """A partner record reduced to what its owner allows: the union of the allow-lists of the
    shared lists that hold it (at "overlapping accounts" or more). Nothing else leaves here.

    `plans` (a dict the caller keeps for one set of lists) remembers, per account list, which
    shared lists hold its records; only valid when none of `lists` is a segment (membership of a
    segment depends on the record's values), which the caller checks."""
    plan = plans.get(record.account_list_id) if plans is not None else None
    if plan is None:
        holding = [s for s in lists if s.shows_records and _record_in(record, s.account_list)]
        allowed = {f for s in holding for f in s.fields}
        plan = (
            [{"id": s.id, "name": s.name, "kind": s.kind} for s in holding],
            tuple(name for name in SHAREABLE_FIELDS if name in allowed),
            tuple(dict.fromkeys(k for s in holding for k in s.extra_fields)),
        )
        if plans is not None:
            plans[record.account_list_id] = plan
    lists_out, allowed_fields, extra_allowed = plan
    extra = record.extra if isinstance(record.extra, dict) else {}
    fields = {}
    for name in allowed_fields:
        fields[name] = (record.domain_norm or record.domain) if name == "domain" else getattr(record, name)
    return {
        "lists": [dict(item) for item in lists_out],
        "fields": fields,
        "extra": {k: str(extra[k]) for k in extra_allowed if k in extra},
    }


# A reason part -> the partner fields it speaks about. Unknown parts are dropped: reasons say
# things about the partner's record and only what its owner allows may be said.
_REASON_FIELDS = (
    ("confirmed by reviewer", ()),
    ("sure match: same domain and same name", ("domain", "name")),
    ("domain", ("domain",)),
    ("name", ("name",)),
    ("region", ("region",)),
)


def safe_reasons(reasons: str, allowed: set[str]) -> str:
    return _safe_reasons(reasons or "", frozenset(allowed))


@lru_cache(maxsize=8192)
def _safe_reasons(reasons: str, allowed: frozenset) -> str:
    kept = []
    for part in reasons.split(";"):
        part = part.strip()
        for prefix, needs in _REASON_FIELDS:
            if part.startswith(prefix):
                if all(n in allowed for n in needs):
                    kept.append(part)
                break
    return "; ".join(kept)


def my_record_view(record: AccountRecord, account_list: AccountList | None = None) -> dict:
    return {
        "id": record.pk,
        "list_id": record.account_list_id,
        "list_name": account_list.name if account_list else "",
        "name": record.name,
        "domain": record.domain_norm or record.domain,
        "country": record.country_norm or record.country,
        "region": record.region,
        "industry": record.industry,
        "owner_name": record.owner_name,
        "owner_email": record.owner_email,
        "stage": record.stage,
        "crm_id": record.crm_id,
        "private": record.private,
    }
