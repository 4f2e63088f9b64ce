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
it; the review queue (selectors_review) and decisions (partner_record_visible) reach only partner
records that an overlap or a list at "all accounts" already shows; the scoring model changes only
when both sides asked for it.

Rules are read at every call here. The matrix and overlap pages that the API and the portal keep
(mapping.read_cache) are keyed by read stamps that every change to their data bumps at commit, so
a change is honoured by the next request there too.
Counts of base-list pairs come from OverlapTally on PostgreSQL (kept by triggers in the writer's
transaction, with the overlaps of private records counted apart), so a count is one indexed read.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import Organization, Partnership, Role
from mapping.models import AccountList, AccountRecord, Overlap, OverlapTally, SharingRule, SharingRuleChange
from mapping.selectors import account_lists_of
from mapping.sharing_models import (
    LEVEL_RANK,
    SHAREABLE_FIELD_LABELS,
    SHAREABLE_FIELDS,
    SharingLevel,
    levels_at_least,
)
from prm.common.errors import NotFound, PermissionDeniedError, ValidationFailed

MATCH = Overlap.Status.MATCH
# What the views read of a list (not its mapping, import job or other baggage).
LIST_FIELDS = ("id", "organization_id", "kind", "name", "record_count", "base_list_id", "filters")


# Record fields read by my_record_view, partner_view and _record_in (segment filters).
ROW_RECORD_FIELDS = ("id", "account_list_id", "name", "domain", "domain_norm", "country", "country_norm", "region", "city",
                     "industry", "owner_name", "owner_email", "stage", "crm_id", "private", "extra")
POPULATIONS = (AccountList.Kind.CUSTOMERS, AccountList.Kind.PROSPECTS, AccountList.Kind.OPPORTUNITIES)

# The ready views of account mapping ("quick wins"): my population x the partner's population.
QUICK_WINS = {
    "intros": ("prospects", "customers", "My prospects that are the partner's customers: ask for intros"),
    "shared-prospects": ("prospects", "prospects", "Prospects we share: plan the pursuit together"),
    "shared-customers": ("customers", "customers", "Customers we share: expand and retain together"),
    "my-opportunities": ("opportunities", "customers", "My open opportunities at the partner's customers"),
}

SORTS = {
    "-score": ("-score", "id"),
    "score": ("score", "id"),
    "name": ("{mine}_record__name", "id"),
    "-name": ("-{mine}_record__name", "id"),
    "region": ("{mine}_record__region", "-score", "id"),
    "owner": ("{mine}_record__owner_email", "-score", "id"),
}


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


def partner_lists_for(*, org: Organization, partnership: Partnership, at_least: str = SharingLevel.COUNTS
                      ) -> list[SharedList]:
    """The partner's lists shared with org at `at_least` or more. An ended partnership shares nothing."""
    return lists_in_view(org=org, partnership=partnership, at_least=at_least)[1]


def _marks(values) -> str:
    """Placeholders for an IN (...) of plain SQL: one %s per value."""
    return ", ".join(["%s"] * len(values))


def lists_in_view(*, org: Organization, partnership: Partnership, at_least: str = SharingLevel.COUNTS
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
        account_list = AccountList(id=list_id, organization_id=org_id, kind=kind, name=name,
                                   record_count=record_count, base_list_id=base_list_id, filters=_json(filters))
        if org_id == org.pk:
            mine.append(account_list)
        else:
            rule = SharingRule(account_list=account_list, level=level, fields=_json(fields) or [],
                               extra_fields=_json(extra_fields) or [])
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
    return Overlap.objects.filter(partnership=partnership, status=MATCH,
                                  **{f"{side.theirs}_record_id": record.pk}).exists()


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


def sharing_rules_of(*, org: Organization, partnership: Partnership) -> list[tuple[AccountList, SharingRule | None]]:
    """Each of my lists with the rule I set for this partnership (None: hidden)."""
    side_of(org=org, partnership=partnership)
    lists = list(account_lists_of(org=org))
    rules = {r.account_list_id: r for r in SharingRule.objects.filter(partnership=partnership, account_list__in=lists)}
    return [(lst, rules.get(lst.pk)) for lst in lists]


def sharing_rule_changes_of(*, org: Organization, membership, partnership: Partnership | None = None
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
    """The records of a custom segment (same semantics as mapping.selectors' segment filter)."""
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


# ------------------------------------------------------------------------------------ counting


def _use_tally() -> bool:
    return connection.vendor == "postgresql"


def _visible_pair_counts(*, partnership_ids: list[int], left_ids: list[int], right_ids: list[int], theirs: str
                         ) -> dict:
    """Matched overlaps per (partnership, left list, right list), leaving out those whose record on
    `theirs` ("left"/"right") is private. PostgreSQL: one read of the tally (its triggers keep the
    private counts too); elsewhere a live count."""
    if not (partnership_ids and left_ids and right_ids):
        return {}
    if _use_tally():
        assert theirs in ("left", "right")
        with connection.cursor() as cursor:  # plain SQL: read on every matrix and list request
            cursor.execute(
                f"SELECT partnership_id, left_list_id, right_list_id, matches - {theirs}_private "  # nosec B608  # names from the models and code; values are query parameters
                f"FROM {OverlapTally._meta.db_table} WHERE partnership_id = ANY(%s) AND left_list_id = ANY(%s) "
                f"AND right_list_id = ANY(%s)",
                [list(partnership_ids), list(left_ids), list(right_ids)],
            )
            return {(p, left, right): n for p, left, right, n in cursor.fetchall()}
    rows = (
        Overlap.objects.filter(
            partnership_id__in=partnership_ids, status=MATCH, left_list_id__in=left_ids, right_list_id__in=right_ids,
            **{f"{theirs}_record__private": False},
        )
        .values("partnership_id", "left_list_id", "right_list_id")
        .annotate(n=Count("pk"))
        .values_list("partnership_id", "left_list_id", "right_list_id", "n")
    )
    return {(p, left, right): n for p, left, right, n in rows}


def _list_sizes(lists: list[AccountList], *, exclude_private: bool) -> dict[int, int]:
    """Records per list (a segment: its base list's records passing its filters)."""
    sizes = {lst.pk: lst.record_count for lst in lists if not lst.is_segment}
    if exclude_private and sizes:
        ids = list(sizes)
        with connection.cursor() as cursor:  # plain SQL: read on every matrix request
            cursor.execute(
                f"SELECT account_list_id, count(*) FROM {AccountRecord._meta.db_table} "  # nosec B608  # names from the models and code; values are query parameters
                f"WHERE private AND account_list_id IN ({_marks(ids)}) GROUP BY account_list_id",
                ids,
            )
            private = dict(cursor.fetchall())
        sizes = {pk: max(0, n - private.get(pk, 0)) for pk, n in sizes.items()}
    segments = [lst for lst in lists if lst.is_segment]
    if segments:
        qs = AccountRecord.objects.filter(account_list_id__in={s.base_list_id for s in segments})
        if exclude_private:
            qs = qs.filter(private=False)
        counts = qs.aggregate(**{
            f"s{s.pk}": Count("pk", filter=Q(account_list_id=s.base_list_id) & _segment_q(s.filters)) for s in segments
        })
        sizes.update({s.pk: counts[f"s{s.pk}"] for s in segments})
    return sizes


# ------------------------------------------------------------------------------------ the matrix


@dataclass
class MatrixCell:
    my_list: AccountList
    their_list: SharedList
    count: int
    rate: float  # share of my list's accounts the partner has in theirs
    heat: int = 0  # 0..5: colour step relative to the largest cell
    opens: bool = False  # record-level view allowed (their list at "overlapping accounts" or more)


@dataclass
class MatrixRow:
    my_list: AccountList
    size: int
    cells: list[MatrixCell] = field(default_factory=list)


@dataclass
class OverlapMatrix:
    side: Side
    columns: list[tuple[SharedList, int]]
    rows: list[MatrixRow]
    max_count: int

    def cell(self, my_list_id: int, their_list_id: int) -> MatrixCell | None:
        for row in self.rows:
            if row.my_list.pk == my_list_id:
                for cell in row.cells:
                    if cell.their_list.id == their_list_id:
                        return cell
        return None


def overlap_matrix_for(*, org: Organization, partnership: Partnership) -> OverlapMatrix:
    """My lists x the partner's lists shared with me (counts only or more): overlap counts and
    match rates. Their private records are not counted; mine are (they are mine)."""
    side = side_of(org=org, partnership=partnership)
    mine, theirs = lists_in_view(org=org, partnership=partnership)
    my_sizes = _list_sizes(mine, exclude_private=False)
    their_sizes = _list_sizes([s.account_list for s in theirs], exclude_private=True)
    counts: dict[tuple[int, int], int] = {}

    my_bases = [lst for lst in mine if not lst.is_segment]
    my_segments = [lst for lst in mine if lst.is_segment]
    their_bases = [s.account_list for s in theirs if not s.account_list.is_segment]
    their_segments = [s.account_list for s in theirs if s.account_list.is_segment]

    def oriented(mine_ids, their_ids):
        return (mine_ids, their_ids) if side.mine == "left" else (their_ids, mine_ids)

    # base x base: the tally, minus their private records
    if my_bases and their_bases:
        left_ids, right_ids = oriented([m.pk for m in my_bases], [t.pk for t in their_bases])
        visible_counts = _visible_pair_counts(partnership_ids=[partnership.pk], left_ids=left_ids,
                                              right_ids=right_ids, theirs=side.theirs)
        for (_p, left, right), n in visible_counts.items():
            my_id, their_id = (left, right) if side.mine == "left" else (right, left)
            counts[(my_id, their_id)] = n

    visible = Overlap.objects.filter(partnership=partnership, status=MATCH, **{f"{side.theirs}_record__private": False})
    segment_counts = {f"s{s.pk}": Count("pk", filter=_in_list(side.mine, s)) for s in my_segments}
    # my segments x their base lists: one query
    if my_segments and their_bases:
        rows = (
            visible.filter(**{f"{side.theirs}_list_id__in": [t.pk for t in their_bases]})
            .values(f"{side.theirs}_list_id").annotate(**segment_counts)
        )
        for row in rows:
            for s in my_segments:
                counts[(s.pk, row[f"{side.theirs}_list_id"])] = row[f"s{s.pk}"]
    # their segments x all my lists: one query per segment of theirs
    for t in their_segments:
        rows = visible.filter(_in_list(side.theirs, t)).values(f"{side.mine}_list_id").annotate(
            n=Count("pk"), **segment_counts
        )
        for row in rows:
            counts[(row[f"{side.mine}_list_id"], t.pk)] = row["n"]
            for s in my_segments:
                counts[(s.pk, t.pk)] = counts.get((s.pk, t.pk), 0) + row[f"s{s.pk}"]

    max_count = max([n for n in counts.values()] + [0])
    rows_out = []
    for lst in mine:
        row = MatrixRow(my_list=lst, size=my_sizes.get(lst.pk, 0))
        for shared in theirs:
            n = max(0, counts.get((lst.pk, shared.id), 0))
            rate = min(1.0, n / row.size) if row.size else 0.0
            heat = 0 if n == 0 or max_count == 0 else 1 + min(4, int(4 * n / max_count))
            row.cells.append(MatrixCell(lst, shared, n, rate, heat, shared.shows_records))
        rows_out.append(row)
    return OverlapMatrix(side, [(s, their_sizes.get(s.id, 0)) for s in theirs], rows_out, max_count)


# ------------------------------------------------------------------------------- overlap lists


@dataclass
class OverlapFilters:
    my_list_id: int | None = None
    their_list_id: int | None = None
    my_kind: str = ""
    their_kind: str = ""
    owner_email: str = ""
    mine_only: bool = False
    region: str = ""
    industry: str = ""
    min_score: float | None = None
    search: str = ""
    sort: str = "-score"
    view: str = ""  # one of QUICK_WINS

    def has_record_filters(self) -> bool:
        return bool(self.owner_email or self.mine_only or self.region or self.industry
                    or self.min_score is not None or self.search)


def _kind(value: str, field_name: str) -> str:
    if not value:
        return ""
    if value not in POPULATIONS:
        raise ValidationFailed(
            f"Unknown population {value!r}; use {', '.join(POPULATIONS)}.", extra={field_name: ["Unknown population."]}
        )
    return value


class _Record:
    """A record's ROW_RECORD_FIELDS (plus pk) read from a values_list row."""

    __slots__ = ROW_RECORD_FIELDS

    def __init__(self, values):
        for name, value in zip(ROW_RECORD_FIELDS, values, strict=True):
            setattr(self, name, value)

    @property
    def pk(self):
        return self.id


def _records_by_id(ids: set[int], *, extra: bool) -> dict[int, _Record]:
    """ROW_RECORD_FIELDS of the records with these ids, in one plain query (read for every page).
    `extra` False: the extra fields are not read (no list in view shows any)."""
    if not ids:
        return {}
    columns = [name for name in ROW_RECORD_FIELDS if name != "extra"] + (["extra"] if extra else [])
    table = AccountRecord._meta.db_table
    if connection.vendor == "postgresql":
        where, params = "id = ANY(%s)", [list(ids)]
    else:
        where, params = f"id IN ({_marks(ids)})", list(ids)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}", params)  # nosec B608  # names from the models and code; values are query parameters
        rows = cursor.fetchall()
    out = {}
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        values["extra"] = _json(values.get("extra")) or {}
        values["private"] = bool(values["private"])
        out[values["id"]] = _Record([values[name] for name in ROW_RECORD_FIELDS])
    return out


class OverlapListing:
    """The overlaps one organization may see at record level, filtered; lazy (count, a page, or
    every row for an export)."""

    def __init__(self, *, side: Side, user, my_lists: list[AccountList], their_lists: list[SharedList],
                 filters: OverlapFilters, shown_through: list[SharedList] | None = None):
        """their_lists: the partner's lists whose records are listed; shown_through (default: the
        same): every list of theirs shared at record level, whose allow-lists a listed record
        gets when it holds that record (a segment of a listed base list, say), as in account 360."""
        self.side, self.user, self.filters = side, user, filters
        self.my_lists, self.their_lists = my_lists, their_lists
        self.shown_through = their_lists if shown_through is None else shown_through
        self._my_list_names = {lst.pk: lst.name for lst in my_lists}
        # every listed record shows these (each is in one of their_lists, each of which allows them)
        self.allowed_everywhere = set.intersection(*[set(s.fields) for s in their_lists]) if their_lists else set()
        self.columns = [f for f in SHAREABLE_FIELDS if any(f in s.fields for s in self.shown_through)]
        self.extra_columns = list(dict.fromkeys(k for s in self.shown_through for k in s.extra_fields))
        # partner_view's per-list plans: only when no list in view is a segment
        self._plans = None if any(s.account_list.is_segment for s in self.shown_through) else {}

    def queryset(self) -> QuerySet[Overlap]:
        side, f = self.side, self.filters
        if not self.their_lists or not self.my_lists:
            return Overlap.objects.none()
        qs = Overlap.objects.filter(partnership=side.partnership, status=MATCH)
        qs = qs.filter(_in_lists(side.theirs, [s.account_list for s in self.their_lists]))
        qs = qs.filter(_in_lists(side.mine, self.my_lists))
        qs = qs.filter(**{f"{side.theirs}_record__private": False})
        rec = f"{side.mine}_record__"
        if f.owner_email:
            qs = qs.filter(**{f"{rec}owner_email__iexact": f.owner_email})
        if f.mine_only:
            qs = qs.filter(**{f"{rec}owner_email__iexact": getattr(self.user, "email", "") or "-"})
        if f.region:
            qs = qs.filter(**{f"{rec}region__iexact": f.region})
        if f.industry:
            qs = qs.filter(**{f"{rec}industry__iexact": f.industry})
        if f.min_score is not None:
            qs = qs.filter(score__gte=f.min_score)
        if f.search:
            term = f.search
            search_q = Q(**{f"{rec}name__icontains": term}) | Q(**{f"{rec}domain_norm__icontains": term}) | Q(
                **{f"{rec}crm_id": term})
            # Their names may be searched only where every list in view shows names: otherwise the
            # result set would tell what a hidden name contains.
            if "name" in self.allowed_everywhere:
                search_q |= Q(**{f"{side.theirs}_record__name__icontains": term})
            qs = qs.filter(search_q)
        order = [o.format(mine=side.mine) for o in SORTS[f.sort]]
        return qs.order_by(*order)

    def count(self) -> int:
        f, side = self.filters, self.side
        simple = (not f.has_record_filters() and all(not s.account_list.is_segment for s in self.their_lists)
                  and all(not lst.is_segment for lst in self.my_lists))
        if not simple or not self.their_lists or not self.my_lists:
            return self.queryset().count()
        their_ids = [s.id for s in self.their_lists]
        my_ids = [lst.pk for lst in self.my_lists]
        left_ids, right_ids = (my_ids, their_ids) if side.mine == "left" else (their_ids, my_ids)
        pid = [side.partnership.pk]
        return max(0, sum(_visible_pair_counts(partnership_ids=pid, left_ids=left_ids, right_ids=right_ids,
                                               theirs=side.theirs).values()))

    # A page is read in two plain queries: the overlaps (their columns only: the joins serve the
    # filters), then the records of both sides by id. Selecting 30-odd record columns through
    # joins costs more to compile than both queries cost to run.
    _OVERLAP_COLUMNS = ("id", "score", "confirmed", "reasons", "left_record_id", "right_record_id")

    def _values(self, qs):
        return qs.values_list(*self._OVERLAP_COLUMNS)

    def _rows_of(self, overlaps: list[tuple]) -> list[dict]:
        records = _records_by_id({o[4] for o in overlaps} | {o[5] for o in overlaps}, extra=bool(self.extra_columns))
        mine_at = 4 if self.side.mine == "left" else 5
        theirs_at = 9 - mine_at
        return [self._row_of(o, records[o[mine_at]], records[o[theirs_at]]) for o in overlaps]

    def _row_of(self, overlap: tuple, mine: _Record, theirs: _Record) -> dict:
        overlap_id, score, confirmed, reasons = overlap[:4]
        partner = partner_view(theirs, self.shown_through, self._plans)
        my_view = my_record_view(mine)
        my_view["list_name"] = self._my_list_names.get(mine.account_list_id, "")
        return {
            "id": overlap_id,
            "score": round(score, 3),
            "confirmed": confirmed,
            "reasons": safe_reasons(reasons, set(partner["fields"])),
            "mine": my_view,
            "partner": partner,
        }

    def rows(self, offset: int, limit: int) -> list[dict]:
        page = self._plain_page(offset, limit)
        if page is None:
            page = list(self._values(self.queryset())[offset:offset + limit])
        return self._rows_of(page)

    def _plain_page(self, offset: int, limit: int) -> list[tuple] | None:
        """The page in one plain query when the listing is the common one (base lists, ordered by
        score, no filter on records but the score): what queryset() would select, without its
        compiling. None: use queryset()."""
        f, side = self.filters, self.side
        if (f.sort not in ("-score", "score") or f.owner_email or f.mine_only or f.region or f.industry or f.search
                or not self.their_lists or not self.my_lists
                or any(s.account_list.is_segment for s in self.their_lists)
                or any(lst.is_segment for lst in self.my_lists)):
            return None
        their_ids, my_ids = [s.id for s in self.their_lists], [lst.pk for lst in self.my_lists]
        sql = (
            f"SELECT o.id, o.score, o.confirmed, o.reasons, o.left_record_id, o.right_record_id "  # nosec B608  # names from the models and code; values are query parameters
            f"FROM {Overlap._meta.db_table} o JOIN {AccountRecord._meta.db_table} t ON t.id = o.{side.theirs}_record_id "
            f"WHERE o.partnership_id = %s AND o.status = %s AND o.{side.theirs}_list_id IN ({_marks(their_ids)}) "
            f"AND o.{side.mine}_list_id IN ({_marks(my_ids)}) AND NOT t.private"
        )
        params = [side.partnership.pk, MATCH, *their_ids, *my_ids]
        if f.min_score is not None:
            sql += " AND o.score >= %s"
            params.append(f.min_score)
        direction = "DESC" if f.sort == "-score" else "ASC"
        sql += f" ORDER BY o.score {direction}, o.id ASC LIMIT %s OFFSET %s"
        params += [limit, offset]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [(i, score, bool(confirmed), reasons, left, right)
                    for i, score, confirmed, reasons, left, right in cursor.fetchall()]

    def iter_rows(self) -> Iterator[dict]:
        batch = []
        for overlap in self._values(self.queryset()).iterator(chunk_size=2000):
            batch.append(overlap)
            if len(batch) == 2000:
                yield from self._rows_of(batch)
                batch = []
        if batch:
            yield from self._rows_of(batch)


def overlap_listing_for(*, org: Organization, partnership: Partnership, user, filters: OverlapFilters,
                        in_view: tuple[list[AccountList], list[SharedList]] | None = None) -> OverlapListing:
    """My accounts with the partner's matched accounts, where the partner shares the list at
    "overlapping accounts" or more, reduced to the fields each list allows. in_view: what
    lists_in_view(at_least=OVERLAPS) gave the caller for this request, if it read it already."""
    side = side_of(org=org, partnership=partnership)
    if filters.sort not in SORTS:
        raise ValidationFailed(f"Unknown sort {filters.sort!r}.", extra={"sort": [f"Use one of {', '.join(SORTS)}."]})
    if filters.view:
        if filters.view not in QUICK_WINS:
            raise ValidationFailed(f"Unknown view {filters.view!r}.", extra={"view": [f"Use {', '.join(QUICK_WINS)}."]})
        filters.my_kind, filters.their_kind = QUICK_WINS[filters.view][:2]
    my_kind, their_kind = _kind(filters.my_kind, "my_kind"), _kind(filters.their_kind, "their_kind")
    mine, shared = in_view or lists_in_view(org=org, partnership=partnership, at_least=SharingLevel.OVERLAPS)
    if filters.my_list_id is not None:
        mine = [lst for lst in mine if lst.pk == filters.my_list_id]
        if not mine:
            raise NotFound("List not found.")
    else:
        mine = [lst for lst in mine if not lst.is_segment]  # segments are views of these
        if my_kind:
            mine = [lst for lst in mine if lst.kind == my_kind]

    if filters.their_list_id is not None:
        theirs = [s for s in shared if s.id == filters.their_list_id]
        if not theirs:
            raise NotFound("List not found.")
    else:
        base_ids = {s.id for s in shared if not s.account_list.is_segment}
        # a segment adds nothing a shared base list already shows (its rows are among them)
        theirs = [s for s in shared if not (s.account_list.is_segment and s.account_list.base_list_id in base_ids)]
        if their_kind:
            theirs = [s for s in theirs if s.kind == their_kind]
    # a listed record also shows what a shared segment holding it allows
    listed_bases = {_base_id(s.account_list) for s in theirs}
    shown_through = [s for s in shared if _base_id(s.account_list) in listed_bases]
    return OverlapListing(side=side, user=user, my_lists=mine, their_lists=theirs, filters=filters,
                          shown_through=shown_through)


# --------------------------------------------------------------------------------- white space


class RecordListing:
    """Records (no pairs): white space lists. rows()/iter_rows() give what may be shown."""

    def __init__(self, qs: QuerySet[AccountRecord], to_row, *, holds: str, columns=(), extra_columns=(),
                 shared: SharedList | None = None):
        self._qs, self._to_row, self.holds = qs, to_row, holds  # holds: "partner" or "mine" records
        self.columns, self.extra_columns = list(columns), list(extra_columns)
        self.shared = shared  # the partner's list it reads (partner white space)

    def queryset(self) -> QuerySet[AccountRecord]:
        return self._qs

    def count(self) -> int:
        return self._qs.count()

    def rows(self, offset: int, limit: int) -> list[dict]:
        return [self._to_row(r) for r in self._qs[offset:offset + limit]]

    def iter_rows(self) -> Iterator[dict]:
        for record in self._qs.iterator(chunk_size=2000):
            yield self._to_row(record)


def partner_white_space_for(*, org: Organization, partnership: Partnership, their_list_id, search: str = ""
                            ) -> RecordListing:
    """The partner's accounts (in a list shared as "all accounts") that match none of my lists."""
    side = side_of(org=org, partnership=partnership)
    shared = partner_list_for(org=org, partnership=partnership, list_id=their_list_id, at_least=SharingLevel.ALL)
    lst = shared.account_list
    qs = AccountRecord.objects.filter(account_list_id=_base_id(lst), private=False)
    if lst.is_segment:
        qs = qs.filter(_segment_q(lst.filters))
    matched = Overlap.objects.filter(partnership=side.partnership, status=MATCH,
                                     **{f"{side.theirs}_record_id": OuterRef("pk")})
    qs = qs.filter(~Exists(matched))
    search = (search or "").strip()
    if search:
        condition = Q(pk__in=[])
        if "name" in shared.fields:
            condition |= Q(name__icontains=search)
        if "domain" in shared.fields:
            condition |= Q(domain_norm__icontains=search)
        qs = qs.filter(condition)
    order = ("name", "id") if "name" in shared.fields else ("id",)
    qs = qs.order_by(*order)
    return RecordListing(qs, lambda r: {"partner": partner_view(r, [shared])}, holds="partner",
                         columns=shared.fields, extra_columns=shared.extra_fields, shared=shared)


def my_white_space_for(*, org: Organization, partnership: Partnership, my_list_id=None, user=None,
                       mine_only: bool = False, search: str = "") -> RecordListing:
    """My accounts the partner does not have: no match in any of the partner's lists shared at
    "overlapping accounts" or more (which already tell me which of mine they have). My own data."""
    side = side_of(org=org, partnership=partnership)
    shared = partner_lists_for(org=org, partnership=partnership, at_least=SharingLevel.OVERLAPS)
    if not shared:
        raise ValidationFailed("The partner shares no accounts with you yet, so nobody can tell what they lack.")
    mine = list(account_lists_of(org=org))
    if my_list_id is not None:
        mine = [lst for lst in mine if str(lst.pk) == str(my_list_id)]
        if not mine:
            raise NotFound("List not found.")
    else:
        mine = [lst for lst in mine if not lst.is_segment]
    records_q = Q(pk__in=[])
    for lst in mine:
        q = Q(account_list_id=_base_id(lst))
        if lst.is_segment:
            q &= _segment_q(lst.filters)
        records_q |= q
    theirs_q = Q()
    for s in shared:
        theirs_q |= _in_list(side.theirs, s.account_list)
    matched = Overlap.objects.filter(theirs_q, partnership=side.partnership, status=MATCH,
                                     **{f"{side.theirs}_record__private": False,
                                        f"{side.mine}_record_id": OuterRef("pk")})
    qs = AccountRecord.objects.filter(records_q).filter(~Exists(matched))
    if mine_only:
        qs = qs.filter(owner_email__iexact=getattr(user, "email", "") or "-")
    search = (search or "").strip()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(domain_norm__icontains=search) | Q(crm_id=search))
    names = {lst.pk: lst.name for lst in mine}

    def to_row(record):
        view = my_record_view(record)
        view["list_name"] = names.get(record.account_list_id, "")
        return {"id": record.pk, "mine": view}

    return RecordListing(qs.order_by("name", "id"), to_row, holds="mine")


# ---------------------------------------------------------------------------- account 360


def account_360_for(*, org: Organization, record_id) -> tuple[AccountRecord, list[dict]]:
    """One of my accounts and every partner that has it and how (in which of their lists), each
    partner's rules applied: only lists shared at "overlapping accounts" or more tell."""
    try:
        record = AccountRecord.objects.select_related("account_list").get(
            pk=int(record_id), account_list__organization=org
        )
    except (AccountRecord.DoesNotExist, TypeError, ValueError):
        raise NotFound("Account not found.") from None
    overlaps = list(
        Overlap.objects.filter(status=MATCH, partnership__status=Partnership.Status.ACTIVE)
        .filter(Q(partnership__initiator=org, left_record=record) | Q(partnership__partner=org, right_record=record))
        .select_related("partnership__initiator", "partnership__partner", "left_record", "right_record")
        .order_by("partnership_id", "-score", "id")
    )
    if not overlaps:
        return record, []
    partnership_ids = {o.partnership_id for o in overlaps}
    rules = SharingRule.objects.filter(
        partnership_id__in=partnership_ids, level__in=levels_at_least(SharingLevel.OVERLAPS)
    ).exclude(account_list__organization=org).select_related("account_list")
    shared_by_partnership: dict[int, list[SharedList]] = defaultdict(list)
    for rule in rules:
        shared_by_partnership[rule.partnership_id].append(_shared(rule))
    out = []
    for o in overlaps:
        side = side_of(org=org, partnership=o.partnership)
        theirs = getattr(o, f"{side.theirs}_record")
        if theirs.private:
            continue
        view = partner_view(theirs, shared_by_partnership.get(o.partnership_id, []))
        if not view["lists"]:
            continue
        out.append({
            "partnership_id": o.partnership_id,
            "partner": {"id": side.other.pk, "name": side.other.name},
            "score": round(o.score, 3),
            "reasons": safe_reasons(o.reasons, set(view["fields"])),
            "how": sorted({lst["kind"] for lst in view["lists"]}),
            "record": view,
        })
    return record, out


# ------------------------------------------------------------------------------ ecosystem


ECOSYSTEM_PAIRS = [(a, b) for a in POPULATIONS for b in POPULATIONS]


def ecosystem_for(*, org: Organization, sort: str = "-total") -> list[dict]:
    """One row per active partnership: overlap counts per population pair (my customers x their
    customers, ...), counting only the partner's lists shared at "counts only" or more."""
    keys = [f"{a}__{b}" for a, b in ECOSYSTEM_PAIRS]
    allowed_sorts = {"partner", "-partner", "total", "-total", *keys, *[f"-{k}" for k in keys]}
    if sort not in allowed_sorts:
        raise ValidationFailed(f"Unknown sort {sort!r}.", extra={"sort": ["Unknown sort."]})
    partnerships = list(
        Partnership.objects.filter(Q(initiator=org) | Q(partner=org), status=Partnership.Status.ACTIVE)
        .select_related("initiator", "partner")
    )
    if not partnerships:
        return []
    my_lists = {lst.pk: lst.kind for lst in AccountList.objects.filter(organization=org, kind__in=POPULATIONS)}
    rules = SharingRule.objects.filter(
        partnership__in=partnerships, level__in=levels_at_least(SharingLevel.COUNTS),
        account_list__kind__in=POPULATIONS,
    ).exclude(account_list__organization=org).values_list("partnership_id", "account_list_id", "account_list__kind")
    their_lists: dict[int, dict[int, str]] = defaultdict(dict)
    for pid, list_id, kind in rules:
        their_lists[pid][list_id] = kind
    counts: dict[int, dict[str, int]] = {p.pk: dict.fromkeys(keys, 0) for p in partnerships}
    for mine_side in ("left", "right"):
        group = [p for p in partnerships if (p.initiator_id == org.pk) == (mine_side == "left") and their_lists[p.pk]]
        if not group or not my_lists:
            continue
        their_ids = sorted({lid for p in group for lid in their_lists[p.pk]})
        my_ids = sorted(my_lists)
        left_ids, right_ids = (my_ids, their_ids) if mine_side == "left" else (their_ids, my_ids)
        theirs = "right" if mine_side == "left" else "left"
        pids = [p.pk for p in group]
        visible_counts = _visible_pair_counts(partnership_ids=pids, left_ids=left_ids, right_ids=right_ids,
                                              theirs=theirs)
        for (pid, left, right), n in visible_counts.items():
            my_id, their_id = (left, right) if mine_side == "left" else (right, left)
            if their_id not in their_lists[pid]:
                continue  # that list of theirs is not shared with me
            key = f"{my_lists[my_id]}__{their_lists[pid][their_id]}"
            counts[pid][key] += max(0, n)
    rows = []
    for p in partnerships:
        other = p.other(org)
        row_counts = counts[p.pk]
        rows.append({"partnership_id": p.pk, "partner": {"id": other.pk, "name": other.name},
                     "counts": row_counts, "total": sum(row_counts.values())})
    key = sort.lstrip("-")
    if key == "partner":
        rows.sort(key=lambda r: (r["partner"]["name"].casefold(), r["partnership_id"]), reverse=sort.startswith("-"))
    else:
        value = (lambda r: r["total"]) if key == "total" else (lambda r: r["counts"][key])
        rows.sort(key=lambda r: (value(r), r["partner"]["name"].casefold()), reverse=sort.startswith("-"))
    return rows


def ecosystem_columns() -> list[tuple[str, str]]:
    labels = dict(AccountList.Kind.choices)
    return [(f"{a}__{b}", f"My {labels[a].lower()} × their {labels[b].lower()}") for a, b in ECOSYSTEM_PAIRS]


FIELD_LABELS = SHAREABLE_FIELD_LABELS


# ------------------------------------------------------------------------------------ CSV rows


MY_COLUMNS = (("list_name", "My list"), ("name", "My account"), ("domain", "My domain"), ("country", "My country"),
              ("region", "My region"), ("industry", "My industry"), ("owner_name", "My owner"),
              ("owner_email", "My owner e-mail"), ("stage", "My stage"), ("crm_id", "My CRM id"))


def listing_csv_rows(listing) -> Iterator[list[str]]:
    """Header then rows of any listing (overlaps, white space): the same reduced rows the API
    returns, every cell made safe for spreadsheets."""
    from mapping.exports import csv_safe

    is_overlaps = isinstance(listing, OverlapListing)
    has_mine = is_overlaps or listing.holds == "mine"
    has_partner = is_overlaps or listing.holds == "partner"
    header = []
    if has_mine:
        header += [label for _key, label in MY_COLUMNS]
    if has_partner:
        header += ["Partner lists"] + [f"Partner {SHAREABLE_FIELD_LABELS[c].lower()}" for c in listing.columns]
        header += [f"Partner extra: {k}" for k in listing.extra_columns]
    if is_overlaps:
        header += ["Score", "Reasons"]
    yield [csv_safe(h) for h in header]
    for row in listing.iter_rows():
        out = []
        if has_mine:
            out += [row["mine"].get(key, "") for key, _label in MY_COLUMNS]
        if has_partner:
            partner = row["partner"]
            out.append(", ".join(lst["name"] for lst in partner["lists"]))
            out += [partner["fields"].get(c, "") for c in listing.columns]
            out += [partner["extra"].get(k, "") for k in listing.extra_columns]
        if is_overlaps:
            out += [f"{row['score']:.3f}", row["reasons"]]
        yield [csv_safe(v) for v in out]


def ecosystem_csv_rows(rows: list[dict]) -> Iterator[list[str]]:
    from mapping.exports import csv_safe

    columns = ecosystem_columns()
    yield ["Partner"] + [label for _key, label in columns] + ["Total"]
    for row in rows:
        yield [csv_safe(row["partner"]["name"])] + [str(row["counts"][key]) for key, _l in columns] + [str(row["total"])]
