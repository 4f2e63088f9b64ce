"""The overlap matrix: my lists x the partner's lists shared with me, with counts and match rates."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count

from accounts.models import Organization, Partnership
from mapping.lists.models import AccountList
from mapping.matching.models import Overlap
from mapping.sharing.selectors.counting import _list_sizes, _visible_pair_counts
from mapping.sharing.selectors.visibility import MATCH, SharedList, Side, _in_list, lists_in_view, side_of

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
        visible_counts = _visible_pair_counts(
            partnership_ids=[partnership.pk], left_ids=left_ids, right_ids=right_ids, theirs=side.theirs
        )
        for (_p, left, right), n in visible_counts.items():
            my_id, their_id = (left, right) if side.mine == "left" else (right, left)
            counts[(my_id, their_id)] = n

    visible = Overlap.objects.filter(
        partnership=partnership, status=MATCH, **{f"{side.theirs}_record__private": False}
    )
    segment_counts = {f"s{s.pk}": Count("pk", filter=_in_list(side.mine, s)) for s in my_segments}
    # my segments x their base lists: one query
    if my_segments and their_bases:
        rows = (
            visible.filter(**{f"{side.theirs}_list_id__in": [t.pk for t in their_bases]})
            .values(f"{side.theirs}_list_id")
            .annotate(**segment_counts)
        )
        for row in rows:
            for s in my_segments:
                counts[(s.pk, row[f"{side.theirs}_list_id"])] = row[f"s{s.pk}"]
    # their segments x all my lists: one query per segment of theirs
    for t in their_segments:
        rows = (
            visible.filter(_in_list(side.theirs, t))
            .values(f"{side.mine}_list_id")
            .annotate(n=Count("pk"), **segment_counts)
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
