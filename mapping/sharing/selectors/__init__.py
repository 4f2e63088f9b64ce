"""Every read of overlaps, through the sharing rules, one module per question.

visibility: what a partner sees of my lists and records (the rules themselves); counting, matrix,
pages, white_space, ecosystem (with account 360): the reads built on it; exports: their CSV rows;
review: the review queue. The names below are the ones the pages and APIs use.
"""

from mapping.sharing.selectors.ecosystem import (
    ECOSYSTEM_PAIRS,
    account_360_for,
    ecosystem_columns,
    ecosystem_for,
)
from mapping.sharing.selectors.exports import ecosystem_csv_rows, listing_csv_rows
from mapping.sharing.selectors.matrix import MatrixCell, MatrixRow, OverlapMatrix, overlap_matrix_for
from mapping.sharing.selectors.pages import (
    QUICK_WINS,
    SORTS,
    OverlapFilters,
    OverlapListing,
    overlap_listing_for,
)
from mapping.sharing.selectors.visibility import (
    POPULATIONS,
    SharedList,
    Side,
    lists_in_view,
    my_record_view,
    partner_list_for,
    partner_lists_for,
    partner_record_visible,
    partner_view,
    safe_reasons,
    sharing_rule_changes_of,
    sharing_rules_of,
    side_of,
)
from mapping.sharing.selectors.white_space import RecordListing, my_white_space_for, partner_white_space_for

__all__ = [
    "ECOSYSTEM_PAIRS",
    "POPULATIONS",
    "QUICK_WINS",
    "SORTS",
    "MatrixCell",
    "MatrixRow",
    "OverlapFilters",
    "OverlapListing",
    "OverlapMatrix",
    "RecordListing",
    "SharedList",
    "Side",
    "account_360_for",
    "ecosystem_columns",
    "ecosystem_csv_rows",
    "ecosystem_for",
    "listing_csv_rows",
    "lists_in_view",
    "my_record_view",
    "my_white_space_for",
    "overlap_listing_for",
    "overlap_matrix_for",
    "partner_list_for",
    "partner_lists_for",
    "partner_record_visible",
    "partner_view",
    "partner_white_space_for",
    "safe_reasons",
    "sharing_rule_changes_of",
    "sharing_rules_of",
    "side_of",
]
