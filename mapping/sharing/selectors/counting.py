"""Counting overlaps and list sizes as a partner may see them: the tally on PostgreSQL, a live count elsewhere."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, Q

from mapping.lists.models import AccountList, AccountRecord
from mapping.matching.models import Overlap
from mapping.sharing.models import OverlapTally
from mapping.sharing.selectors.visibility import MATCH, _marks, _segment_q

# ------------------------------------------------------------------------------------ counting


def _use_tally() -> bool:
    return connection.vendor == "postgresql"


def _visible_pair_counts(
    *, partnership_ids: list[int], left_ids: list[int], right_ids: list[int], theirs: str
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
            partnership_id__in=partnership_ids,
            status=MATCH,
            left_list_id__in=left_ids,
            right_list_id__in=right_ids,
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
        counts = qs.aggregate(
            **{
                f"s{s.pk}": Count("pk", filter=Q(account_list_id=s.base_list_id) & _segment_q(s.filters))
                for s in segments
            }
        )
        sizes.update({s.pk: counts[f"s{s.pk}"] for s in segments})
    return sizes
