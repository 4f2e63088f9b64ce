"""The review queue: pairs the engine scored in the review band (near misses), waiting for a
reviewer's word, seen from one side of the partnership.

The partner's record of a pair is reduced exactly as in an overlap (selectors.visibility): only the
fields its owner allows, reasons only about those fields. A pair shows at all only where its
partner record is already shown to me elsewhere: not private, held by a list the partner shares
at "overlapping accounts" or more, and either an overlap (a matched pair) of this partnership or
in a list shared at "all accounts". A near miss that overlaps nothing is white space, which only
"all accounts" shows; anything else would tell that the partner holds an account like mine.

A pair my side already decided waits no more for me; one the other side rejected waits for nobody
(the next run drops it); one the other side confirmed still waits for my word (a pair becomes an
overlap by confirmation only once both sides confirmed it). An ended partnership has nothing to
review.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Organization, Partnership
from mapping.lists.models import AccountList
from mapping.lists.selectors import account_lists_of
from mapping.matching.models import MatchDecision, Overlap, SideDecision
from mapping.sharing.models import SHAREABLE_FIELDS, SharingLevel
from mapping.sharing.selectors.visibility import (
    SharedList,
    Side,
    _in_list,
    _in_lists,
    my_record_view,
    partner_lists_for,
    partner_view,
    safe_reasons,
    side_of,
)
from prm.common.errors import NotFound, ValidationFailed

REVIEW = Overlap.Status.REVIEW
MATCH = Overlap.Status.MATCH


@dataclass
class ReviewFilters:
    my_list_id: int | None = None
    min_score: float | None = None
    max_score: float | None = None
    search: str = ""  # in my record's name


class ReviewQueue:
    """The pairs waiting for review that one organization may see; lazy (count, a page).

    Sliceable and countable, so Django's and DRF's paginators page it without loading it all."""

    def __init__(
        self, *, side: Side, shared: list[SharedList], my_list: AccountList | None, filters: ReviewFilters
    ):
        self.side, self.shared, self.my_list, self.filters = side, shared, my_list, filters
        self.my_side = "initiator" if side.mine == "left" else "partner"
        self.columns = [f for f in SHAREABLE_FIELDS if any(f in s.fields for s in shared)]
        self.extra_columns = list(dict.fromkeys(k for s in shared for k in s.extra_fields))

    def queryset(self) -> QuerySet[Overlap]:
        side, f = self.side, self.filters
        if not self.shared:
            return Overlap.objects.none()
        pair = {
            "partnership_id": side.partnership.pk,
            "left_record_id": OuterRef("left_record_id"),
            "right_record_id": OuterRef("right_record_id"),
        }
        decided = MatchDecision.objects.filter(**pair)  # rejected by either side, or confirmed by both
        said = SideDecision.objects.filter(**pair, side=self.my_side)  # my side has had its word
        # their record is shown elsewhere already: an overlap of this partnership, or white space
        # of a list at "all accounts"
        matched = Overlap.objects.filter(
            partnership_id=side.partnership.pk,
            status=MATCH,
            **{f"{side.theirs}_record_id": OuterRef(f"{side.theirs}_record_id")},
        )
        shown = Exists(matched)
        everything = [s.account_list for s in self.shared if s.shows_white_space]
        if everything:
            shown = shown | _in_lists(side.theirs, everything)
        qs = (
            Overlap.objects.filter(partnership=side.partnership, status=REVIEW)
            .filter(_in_lists(side.theirs, [shared.account_list for shared in self.shared]))
            .filter(**{f"{side.theirs}_record__private": False})
            .filter(~Exists(decided))
            .filter(~Exists(said))
            .filter(shown)
        )
        if self.my_list is not None:
            qs = qs.filter(_in_list(side.mine, self.my_list))
        if f.min_score is not None:
            qs = qs.filter(score__gte=f.min_score)
        if f.max_score is not None:
            qs = qs.filter(score__lte=f.max_score)
        if f.search:
            qs = qs.filter(**{f"{side.mine}_record__name__icontains": f.search})
        return qs.order_by("-score", "id")

    def count(self) -> int:
        return self.queryset().count()

    def _row(self, overlap: Overlap) -> dict:
        side = self.side
        mine = getattr(overlap, f"{side.mine}_record")
        theirs = getattr(overlap, f"{side.theirs}_record")
        partner = partner_view(theirs, self.shared)
        return {
            "id": overlap.pk,
            # The pair as the decision API takes it: left is always the initiator's record.
            "left_record": overlap.left_record_id,
            "right_record": overlap.right_record_id,
            "score": round(overlap.score, 3),
            "reasons": safe_reasons(overlap.reasons, set(partner["fields"])),
            "mine": my_record_view(mine, mine.account_list),
            "partner": partner,
        }

    def _select(self, qs: QuerySet[Overlap]) -> QuerySet[Overlap]:
        side = self.side
        return qs.select_related(f"{side.mine}_record__account_list", f"{side.theirs}_record")

    def rows(self, offset: int, limit: int) -> list[dict]:
        return [self._row(o) for o in self._select(self.queryset())[offset : offset + limit]]

    def pair(self, pair_id: int) -> dict | None:
        """One pair of the queue as a row; None unless it waits there."""
        overlap = self._select(self.queryset().filter(pk=pair_id)).first()
        return self._row(overlap) if overlap is not None else None

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item):
        if isinstance(item, slice):
            start = item.start or 0
            return self.rows(start, max(0, (item.stop if item.stop is not None else start) - start))
        rows = self.rows(item, 1)
        if not rows:
            raise IndexError(item)
        return rows[0]


def _clean(filters: ReviewFilters) -> ReviewFilters:
    errors = {}
    for name in ("min_score", "max_score"):
        value = getattr(filters, name)
        if value is not None and not 0 <= value <= 1:
            errors[name] = ["Between 0 and 1."]
    if (
        not errors
        and None not in (filters.min_score, filters.max_score)
        and filters.min_score > filters.max_score
    ):
        errors["max_score"] = ["At least the minimum score."]
    if errors:
        raise ValidationFailed("Invalid score range.", extra=errors)
    filters.search = (filters.search or "").strip()[:200]
    return filters


def review_queue_for(
    *, org: Organization, partnership: Partnership, user=None, filters: ReviewFilters | None = None
) -> ReviewQueue:
    """The pairs of the partnership waiting for review, seen by org: my record in full, the
    partner's reduced by its sharing rules; best scores first."""
    side = side_of(org=org, partnership=partnership)
    filters = _clean(filters or ReviewFilters())
    my_list = None
    if filters.my_list_id is not None:
        my_list = account_lists_of(org=org).filter(pk=filters.my_list_id).first()
        if my_list is None:
            raise NotFound("List not found.")
    # An ended partnership shares nothing, so nothing waits for review there.
    shared = partner_lists_for(org=org, partnership=partnership, at_least=SharingLevel.OVERLAPS)
    return ReviewQueue(side=side, shared=shared, my_list=my_list, filters=filters)
