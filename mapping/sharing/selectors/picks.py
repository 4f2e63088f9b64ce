"""One overlap picked by id, as a co-sell action starts from it: my record in full, the partner's
reduced to what its rules allow the caller, or 404 when the caller does not see the overlap."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Organization, Partnership
from mapping.lists.models import AccountRecord
from mapping.matching.models import Overlap
from mapping.sharing.models import SharingLevel
from mapping.sharing.selectors.visibility import (
    ROW_RECORD_FIELDS,
    _record_in,
    lists_in_view,
    my_record_view,
    partner_view,
    side_of,
)
from prm.common.errors import NotFound
from prm.common.rows import as_id


@dataclass(frozen=True)
class OverlapPick:
    overlap: Overlap
    mine: dict  # my_record_view of my record
    theirs: dict  # partner_view of the partner's record (only the fields its rules allow)


def overlap_pick_for(*, org: Organization, partnership: Partnership, overlap_id) -> OverlapPick:
    """The overlap, if org sees it now: a matched pair of this partnership whose partner record is
    not private and is in a list the partner shares with org at "overlapping accounts" or more.
    Anything else (unknown, another partnership's, under review, no longer shared): NotFound."""
    side = side_of(org=org, partnership=partnership)
    pk = as_id(overlap_id)
    if pk is None:
        raise NotFound("Overlap not found.")
    mine_lists, shared = lists_in_view(org=org, partnership=partnership, at_least=SharingLevel.OVERLAPS)
    overlap = Overlap.objects.filter(pk=pk, partnership=partnership, status=Overlap.Status.MATCH).first()
    if overlap is None or not shared:
        raise NotFound("Overlap not found.")
    my_id = getattr(overlap, f"{side.mine}_record_id")
    their_id = getattr(overlap, f"{side.theirs}_record_id")
    records = {
        r.pk: r for r in AccountRecord.objects.filter(pk__in=[my_id, their_id]).only(*ROW_RECORD_FIELDS)
    }
    mine, theirs = records.get(my_id), records.get(their_id)
    if mine is None or theirs is None or theirs.private:
        raise NotFound("Overlap not found.")
    holding = [s for s in shared if s.shows_records and _record_in(theirs, s.account_list)]
    if not holding:
        raise NotFound("Overlap not found.")
    my_list = next((lst for lst in mine_lists if lst.pk == mine.account_list_id), None)
    return OverlapPick(
        overlap=overlap, mine=my_record_view(mine, my_list), theirs=partner_view(theirs, holding)
    )
