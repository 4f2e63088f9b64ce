"""Conflict detection for deal registrations, by the matching engine.

A registration is normalized like an account record (mapping.engine.record_keys) and compared,
with the engine's features, scoring model and explanations, against the vendor's customers and
open opportunities and every active registration by any partner with that vendor. The database
proposes candidates by the keys the engine blocks on (domain, domain stem, first word of the
normalized name); the engine scores them, and those at or above its match threshold are conflicts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from django.db.models import Q

from accounts.models import Organization
from coselling.models import ACTIVE_REGISTRATION, DealRegistration
from mapping.engine import MatchConfig, pair_features, record_keys
from mapping.engine.explain import reasons as engine_reasons
from mapping.lists.models import AccountList
from mapping.lists.selectors import account_list_records, account_lists_of

CANDIDATES_PER_SOURCE = 200
CONFLICT_KINDS = (AccountList.Kind.CUSTOMERS, AccountList.Kind.OPPORTUNITIES)


@dataclass(frozen=True)
class Found:
    kind: str  # RegistrationConflict.Kind
    target_id: int  # AccountRecord id or DealRegistration id
    score: float
    reasons: str


def account_keys(*, name: str, website: str, country: str) -> dict:
    """The registration's account as the engine normalizes an account record."""
    keys = record_keys({"name": name, "website": website, "country": country})
    norm = keys.get("name_norm", "") or ""
    return {
        "name_norm": norm[:500],
        "name_head": (norm.split(" ")[0] if norm else "")[:100],
        "domain_norm": (keys.get("domain_norm", "") or "")[:255],
        "stem": (keys.get("stem", "") or "")[:255],
        "country_norm": (keys.get("country_norm", "") or "")[:2],
    }


def _candidate_q(keys: dict) -> Q | None:
    q = Q()
    if keys["domain_norm"]:
        q |= Q(domain_norm=keys["domain_norm"])
    if keys["stem"]:
        q |= Q(stem=keys["stem"])
    if keys["name_norm"]:
        q |= Q(name_norm=keys["name_norm"])
    return q or None


def find_conflicts(
    *, vendor: Organization, name: str, website: str, country: str, keys: dict, exclude_id: int | None = None
) -> list[Found]:
    """Vendor records and active registrations that claim the same account, best first."""
    q = _candidate_q(keys)
    if q is None:
        return []
    rows, ids = [], []
    head = keys["name_head"]
    record_q = q | (Q(name_norm__startswith=f"{head} ") | Q(name_norm=head) if head else Q(pk__in=[]))
    for account_list in account_lists_of(org=vendor).filter(kind__in=CONFLICT_KINDS):
        records = account_list_records(org=vendor, account_list=account_list).filter(record_q)
        for r in records.only("id", "name", "domain", "domain_norm", "country", "city", "postal_code")[
            :CANDIDATES_PER_SOURCE
        ]:
            ids.append(("vendor_record", r.pk))
            rows.append(
                {
                    "name": r.name,
                    "domain": r.domain_norm or r.domain,
                    "country": r.country,
                    "city": r.city,
                    "postal_code": r.postal_code,
                }
            )
    registrations = DealRegistration.objects.filter(vendor=vendor, status__in=ACTIVE_REGISTRATION).filter(
        q | (Q(name_head=head) if head else Q(pk__in=[]))
    )
    if exclude_id is not None:
        registrations = registrations.exclude(pk=exclude_id)
    for reg in registrations.only("id", "account_name", "website", "country").order_by("submitted_at", "id")[
        :CANDIDATES_PER_SOURCE
    ]:
        ids.append(("registration", reg.pk))
        rows.append({"name": reg.account_name, "website": reg.website, "country": reg.country})
    if not rows:
        return []
    left = pd.DataFrame([{"name": name, "website": website, "country": country}], index=["new"])
    right = pd.DataFrame(rows, index=[f"c{i}" for i in range(len(rows))])
    pairs = pd.DataFrame({"left_id": ["new"] * len(rows), "right_id": list(right.index)})
    config = MatchConfig()
    features = pair_features(left, right, pairs, config)
    scores = config.model.score(features)
    explained = features.copy()
    explained["passes"] = 0
    explained["confirmed"] = False
    texts = engine_reasons(explained)
    found = [
        Found(kind=kind, target_id=target, score=float(min(max(score, 0.0), 1.0)), reasons=str(text))
        for (kind, target), score, text in zip(ids, scores, texts, strict=True)
        if score >= config.threshold
    ]
    return sorted(found, key=lambda f: (-f.score, f.kind, f.target_id))
