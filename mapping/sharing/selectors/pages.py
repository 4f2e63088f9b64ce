"""The overlap pages: the matched pairs of a partnership, filtered, sorted and paged, each partner record
reduced to what its owner allows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import Organization, Partnership
from mapping.lists.models import AccountList, AccountRecord
from mapping.matching.models import Overlap
from mapping.sharing.models import (
    SHAREABLE_FIELDS,
    SharingLevel,
)
from mapping.sharing.selectors.counting import _visible_pair_counts
from mapping.sharing.selectors.visibility import (
    MATCH,
    POPULATIONS,
    ROW_RECORD_FIELDS,
    SharedList,
    Side,
    _base_id,
    _in_lists,
    _json,
    _marks,
    lists_in_view,
    my_record_view,
    partner_view,
    safe_reasons,
    side_of,
)
from prm.common.errors import NotFound, ValidationFailed

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
        return bool(
            self.owner_email
            or self.mine_only
            or self.region
            or self.industry
            or self.min_score is not None
            or self.search
        )


def _kind(value: str, field_name: str) -> str:
    if not value:
        return ""
    if value not in POPULATIONS:
        raise ValidationFailed(
            f"Unknown population {value!r}; use {', '.join(POPULATIONS)}.",
            extra={field_name: ["Unknown population."]},
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

    def __init__(
        self,
        *,
        side: Side,
        user,
        my_lists: list[AccountList],
        their_lists: list[SharedList],
        filters: OverlapFilters,
        shown_through: list[SharedList] | None = None,
    ):
        """their_lists: the partner's lists whose records are listed; shown_through (default: the
        same): every list of theirs shared at record level, whose allow-lists a listed record
        gets when it holds that record (a segment of a listed base list, say), as in account 360."""
        self.side, self.user, self.filters = side, user, filters
        self.my_lists, self.their_lists = my_lists, their_lists
        self.shown_through = their_lists if shown_through is None else shown_through
        self._my_list_names = {lst.pk: lst.name for lst in my_lists}
        # every listed record shows these (each is in one of their_lists, each of which allows them)
        self.allowed_everywhere = (
            set.intersection(*[set(s.fields) for s in their_lists]) if their_lists else set()
        )
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
            search_q = (
                Q(**{f"{rec}name__icontains": term})
                | Q(**{f"{rec}domain_norm__icontains": term})
                | Q(**{f"{rec}crm_id": term})
            )
            # Their names may be searched only where every list in view shows names: otherwise the
            # result set would tell what a hidden name contains.
            if "name" in self.allowed_everywhere:
                search_q |= Q(**{f"{side.theirs}_record__name__icontains": term})
            qs = qs.filter(search_q)
        order = [o.format(mine=side.mine) for o in SORTS[f.sort]]
        return qs.order_by(*order)

    def count(self) -> int:
        f, side = self.filters, self.side
        simple = (
            not f.has_record_filters()
            and all(not s.account_list.is_segment for s in self.their_lists)
            and all(not lst.is_segment for lst in self.my_lists)
        )
        if not simple or not self.their_lists or not self.my_lists:
            return self.queryset().count()
        their_ids = [s.id for s in self.their_lists]
        my_ids = [lst.pk for lst in self.my_lists]
        left_ids, right_ids = (my_ids, their_ids) if side.mine == "left" else (their_ids, my_ids)
        pid = [side.partnership.pk]
        return max(
            0,
            sum(
                _visible_pair_counts(
                    partnership_ids=pid, left_ids=left_ids, right_ids=right_ids, theirs=side.theirs
                ).values()
            ),
        )

    # A page is read in two plain queries: the overlaps (their columns only: the joins serve the
    # filters), then the records of both sides by id. Selecting 30-odd record columns through
    # joins costs more to compile than both queries cost to run.
    _OVERLAP_COLUMNS = ("id", "score", "confirmed", "reasons", "left_record_id", "right_record_id")

    def _values(self, qs):
        return qs.values_list(*self._OVERLAP_COLUMNS)

    def _rows_of(self, overlaps: list[tuple]) -> list[dict]:
        records = _records_by_id(
            {o[4] for o in overlaps} | {o[5] for o in overlaps}, extra=bool(self.extra_columns)
        )
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
            page = list(self._values(self.queryset())[offset : offset + limit])
        return self._rows_of(page)

    def _plain_page(self, offset: int, limit: int) -> list[tuple] | None:
        """The page in one plain query when the listing is the common one (base lists, ordered by
        score, no filter on records but the score): what queryset() would select, without its
        compiling. None: use queryset()."""
        f, side = self.filters, self.side
        if (
            f.sort not in ("-score", "score")
            or f.owner_email
            or f.mine_only
            or f.region
            or f.industry
            or f.search
            or not self.their_lists
            or not self.my_lists
            or any(s.account_list.is_segment for s in self.their_lists)
            or any(lst.is_segment for lst in self.my_lists)
        ):
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
            return [
                (i, score, bool(confirmed), reasons, left, right)
                for i, score, confirmed, reasons, left, right in cursor.fetchall()
            ]

    def iter_rows(self) -> Iterator[dict]:
        batch = []
        for overlap in self._values(self.queryset()).iterator(chunk_size=2000):
            batch.append(overlap)
            if len(batch) == 2000:
                yield from self._rows_of(batch)
                batch = []
        if batch:
            yield from self._rows_of(batch)


def overlap_listing_for(
    *,
    org: Organization,
    partnership: Partnership,
    user,
    filters: OverlapFilters,
    in_view: tuple[list[AccountList], list[SharedList]] | None = None,
) -> OverlapListing:
    """My accounts with the partner's matched accounts, where the partner shares the list at
    "overlapping accounts" or more, reduced to the fields each list allows. in_view: what
    lists_in_view(at_least=OVERLAPS) gave the caller for this request, if it read it already."""
    side = side_of(org=org, partnership=partnership)
    if filters.sort not in SORTS:
        raise ValidationFailed(
            f"Unknown sort {filters.sort!r}.", extra={"sort": [f"Use one of {', '.join(SORTS)}."]}
        )
    if filters.view:
        if filters.view not in QUICK_WINS:
            raise ValidationFailed(
                f"Unknown view {filters.view!r}.", extra={"view": [f"Use {', '.join(QUICK_WINS)}."]}
            )
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
        theirs = [
            s for s in shared if not (s.account_list.is_segment and s.account_list.base_list_id in base_ids)
        ]
        if their_kind:
            theirs = [s for s in theirs if s.kind == their_kind]
    # a listed record also shows what a shared segment holding it allows
    listed_bases = {_base_id(s.account_list) for s in theirs}
    shown_through = [s for s in shared if _base_id(s.account_list) in listed_bases]
    return OverlapListing(
        side=side, user=user, my_lists=mine, their_lists=theirs, filters=filters, shown_through=shown_through
    )
