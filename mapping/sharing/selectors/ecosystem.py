"""Account 360 (one of my accounts across all my partners) and the ecosystem (overlap counts across all
my partners)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Q

from accounts.models import Organization, Partnership
from mapping.lists.models import AccountList, AccountRecord
from mapping.matching.models import Overlap
from mapping.sharing.models import (
    SharingLevel,
    SharingRule,
    levels_at_least,
)
from mapping.sharing.selectors.counting import _visible_pair_counts
from mapping.sharing.selectors.visibility import (
    MATCH,
    POPULATIONS,
    SharedList,
    _shared,
    partner_view,
    safe_reasons,
    side_of,
)
from prm.common.errors import NotFound, ValidationFailed

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
        .filter(
            Q(partnership__initiator=org, left_record=record)
            | Q(partnership__partner=org, right_record=record)
        )
        .select_related("partnership__initiator", "partnership__partner", "left_record", "right_record")
        .order_by("partnership_id", "-score", "id")
    )
    if not overlaps:
        return record, []
    partnership_ids = {o.partnership_id for o in overlaps}
    rules = (
        SharingRule.objects.filter(
            partnership_id__in=partnership_ids, level__in=levels_at_least(SharingLevel.OVERLAPS)
        )
        .exclude(account_list__organization=org)
        .select_related("account_list")
    )
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
        out.append(
            {
                "partnership_id": o.partnership_id,
                "partner": {"id": side.other.pk, "name": side.other.name},
                "score": round(o.score, 3),
                "reasons": safe_reasons(o.reasons, set(view["fields"])),
                "how": sorted({lst["kind"] for lst in view["lists"]}),
                "record": view,
            }
        )
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
        Partnership.objects.filter(
            Q(initiator=org) | Q(partner=org), status=Partnership.Status.ACTIVE
        ).select_related("initiator", "partner")
    )
    if not partnerships:
        return []
    my_lists = {
        lst.pk: lst.kind for lst in AccountList.objects.filter(organization=org, kind__in=POPULATIONS)
    }
    rules = (
        SharingRule.objects.filter(
            partnership__in=partnerships,
            level__in=levels_at_least(SharingLevel.COUNTS),
            account_list__kind__in=POPULATIONS,
        )
        .exclude(account_list__organization=org)
        .values_list("partnership_id", "account_list_id", "account_list__kind")
    )
    their_lists: dict[int, dict[int, str]] = defaultdict(dict)
    for pid, list_id, kind in rules:
        their_lists[pid][list_id] = kind
    counts: dict[int, dict[str, int]] = {p.pk: dict.fromkeys(keys, 0) for p in partnerships}
    for mine_side in ("left", "right"):
        group = [
            p
            for p in partnerships
            if (p.initiator_id == org.pk) == (mine_side == "left") and their_lists[p.pk]
        ]
        if not group or not my_lists:
            continue
        their_ids = sorted({lid for p in group for lid in their_lists[p.pk]})
        my_ids = sorted(my_lists)
        left_ids, right_ids = (my_ids, their_ids) if mine_side == "left" else (their_ids, my_ids)
        theirs = "right" if mine_side == "left" else "left"
        pids = [p.pk for p in group]
        visible_counts = _visible_pair_counts(
            partnership_ids=pids, left_ids=left_ids, right_ids=right_ids, theirs=theirs
        )
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
        rows.append(
            {
                "partnership_id": p.pk,
                "partner": {"id": other.pk, "name": other.name},
                "counts": row_counts,
                "total": sum(row_counts.values()),
            }
        )
    key = sort.lstrip("-")
    if key == "partner":
        rows.sort(
            key=lambda r: (r["partner"]["name"].casefold(), r["partnership_id"]), reverse=sort.startswith("-")
        )
    else:
        value = (lambda r: r["total"]) if key == "total" else (lambda r: r["counts"][key])
        rows.sort(key=lambda r: (value(r), r["partner"]["name"].casefold()), reverse=sort.startswith("-"))
    return rows


def ecosystem_columns() -> list[tuple[str, str]]:
    labels = dict(AccountList.Kind.choices)
    return [(f"{a}__{b}", f"My {labels[a].lower()} × their {labels[b].lower()}") for a, b in ECOSYSTEM_PAIRS]
