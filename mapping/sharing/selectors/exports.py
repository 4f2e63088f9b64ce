"""The rows of the overlap pages' and the ecosystem's CSV exports."""

from __future__ import annotations

from collections.abc import Iterator

from mapping.sharing.models import (
    SHAREABLE_FIELD_LABELS,
)
from mapping.sharing.selectors.ecosystem import ecosystem_columns
from mapping.sharing.selectors.pages import OverlapListing

FIELD_LABELS = SHAREABLE_FIELD_LABELS


# ------------------------------------------------------------------------------------ CSV rows


MY_COLUMNS = (
    ("list_name", "My list"),
    ("name", "My account"),
    ("domain", "My domain"),
    ("country", "My country"),
    ("region", "My region"),
    ("industry", "My industry"),
    ("owner_name", "My owner"),
    ("owner_email", "My owner e-mail"),
    ("stage", "My stage"),
    ("crm_id", "My CRM id"),
)


def listing_csv_rows(listing) -> Iterator[list[str]]:
    """Header then rows of any listing (overlaps, white space): the same reduced rows the API
    returns, every cell made safe for spreadsheets."""
    from mapping.lists.exports import csv_safe

    is_overlaps = isinstance(listing, OverlapListing)
    has_mine = is_overlaps or listing.holds == "mine"
    has_partner = is_overlaps or listing.holds == "partner"
    header = []
    if has_mine:
        header += [label for _key, label in MY_COLUMNS]
    if has_partner:
        header += ["Partner lists"] + [
            f"Partner {SHAREABLE_FIELD_LABELS[c].lower()}" for c in listing.columns
        ]
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
    from mapping.lists.exports import csv_safe

    columns = ecosystem_columns()
    yield ["Partner"] + [label for _key, label in columns] + ["Total"]
    for row in rows:
        yield (
            [csv_safe(row["partner"]["name"])]
            + [str(row["counts"][key]) for key, _l in columns]
            + [str(row["total"])]
        )
