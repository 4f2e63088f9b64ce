"""White space: the partner's accounts that overlap nothing of mine (lists at "all accounts" only), and
mine that overlap nothing of theirs."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Organization, Partnership
from mapping.lists.models import AccountRecord
from mapping.lists.selectors import account_lists_of
from mapping.matching.models import Overlap
from mapping.sharing.models import (
    SharingLevel,
)
from mapping.sharing.selectors.visibility import (
    MATCH,
    SharedList,
    _base_id,
    _in_list,
    _segment_q,
    my_record_view,
    partner_list_for,
    partner_lists_for,
    partner_view,
    side_of,
)
from prm.common.errors import NotFound, ValidationFailed

# --------------------------------------------------------------------------------- white space


class RecordListing:
    """Records (no pairs): white space lists. rows()/iter_rows() give what may be shown."""

    def __init__(
        self,
        qs: QuerySet[AccountRecord],
        to_row,
        *,
        holds: str,
        columns=(),
        extra_columns=(),
        shared: SharedList | None = None,
    ):
        self._qs, self._to_row, self.holds = qs, to_row, holds  # holds: "partner" or "mine" records
        self.columns, self.extra_columns = list(columns), list(extra_columns)
        self.shared = shared  # the partner's list it reads (partner white space)

    def queryset(self) -> QuerySet[AccountRecord]:
        return self._qs

    def count(self) -> int:
        return self._qs.count()

    def rows(self, offset: int, limit: int) -> list[dict]:
        return [self._to_row(r) for r in self._qs[offset : offset + limit]]

    def iter_rows(self) -> Iterator[dict]:
        for record in self._qs.iterator(chunk_size=2000):
            yield self._to_row(record)


def partner_white_space_for(
    *, org: Organization, partnership: Partnership, their_list_id, search: str = ""
) -> RecordListing:
    """The partner's accounts (in a list shared as "all accounts") that match none of my lists."""
    side = side_of(org=org, partnership=partnership)
    shared = partner_list_for(
        org=org, partnership=partnership, list_id=their_list_id, at_least=SharingLevel.ALL
    )
    lst = shared.account_list
    qs = AccountRecord.objects.filter(account_list_id=_base_id(lst), private=False)
    if lst.is_segment:
        qs = qs.filter(_segment_q(lst.filters))
    matched = Overlap.objects.filter(
        partnership=side.partnership, status=MATCH, **{f"{side.theirs}_record_id": OuterRef("pk")}
    )
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
    return RecordListing(
        qs,
        lambda r: {"partner": partner_view(r, [shared])},
        holds="partner",
        columns=shared.fields,
        extra_columns=shared.extra_fields,
        shared=shared,
    )


def my_white_space_for(
    *,
    org: Organization,
    partnership: Partnership,
    my_list_id=None,
    user=None,
    mine_only: bool = False,
    search: str = "",
) -> RecordListing:
    """My accounts the partner does not have: no match in any of the partner's lists shared at
    "overlapping accounts" or more (which already tell me which of mine they have). My own data."""
    side = side_of(org=org, partnership=partnership)
    shared = partner_lists_for(org=org, partnership=partnership, at_least=SharingLevel.OVERLAPS)
    if not shared:
        raise ValidationFailed(
            "The partner shares no accounts with you yet, so nobody can tell what they lack."
        )
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
    matched = Overlap.objects.filter(
        theirs_q,
        partnership=side.partnership,
        status=MATCH,
        **{f"{side.theirs}_record__private": False, f"{side.mine}_record_id": OuterRef("pk")},
    )
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
