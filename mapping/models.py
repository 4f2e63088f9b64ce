"""The models of the mapping app, gathered from its sub-packages.

Django finds an app's models in `<app>.models`; the models themselves live with the code that uses
them (lists, matching, sharing). They keep the app label "mapping", so their tables and migrations
are those they always had.
"""

from mapping.lists.models import AccountList, AccountRecord, ImportJob, ListChangeSet
from mapping.matching.models import (
    MatchBlockJob,
    MatchDecision,
    MatchRun,
    MatchSettings,
    MatchState,
    Overlap,
    SideDecision,
)
from mapping.sharing.models import OverlapTally, SharingRule, SharingRuleChange

__all__ = [
    "AccountList",
    "AccountRecord",
    "ImportJob",
    "ListChangeSet",
    "MatchBlockJob",
    "MatchDecision",
    "MatchRun",
    "MatchSettings",
    "MatchState",
    "Overlap",
    "OverlapTally",
    "SharingRule",
    "SharingRuleChange",
    "SideDecision",
]
