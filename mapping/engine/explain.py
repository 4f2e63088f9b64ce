"""Human-readable reasons for a scored pair, built from its features and the passes that found it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .blocking import pass_names
from .scoring import RULE_TEXT, rules


def _part_domain(f) -> str:
    if f["domain_eq"]:
        return "domain equal"
    if f["stem_eq"]:
        return "domain stem equal (different suffix)"
    if f["domain_conflict"]:
        return "domain differs"
    if f["stem_name"] >= 0.8:
        return f"domain spells the other's name {f['stem_name']:.2f}"
    return "domain missing"


def _part_name(f) -> str:
    if f["name_exact"]:
        return "name equal"
    return f"name {max(f['name_jw'], f['name_tsr']):.2f} (words {f['name_tok']:.2f})"


def _part_eq(f, field: str, label: str, *, say_missing: bool) -> str:
    if f[f"{field}_eq"]:
        return f"{label} equal"
    if f[f"{field}_conflict"]:
        return f"{label} differs"
    return f"{label} missing" if say_missing else ""


def reasons(scored: pd.DataFrame) -> np.ndarray:
    """One reason string per row of a frame holding FEATURES, `passes`, `confirmed`."""
    if len(scored) == 0:
        return np.array([], dtype=object)
    has_features = scored["name_jw"].notna().to_numpy()
    rule = np.zeros(len(scored), dtype=np.int8)
    if has_features.any():
        rule[has_features] = rules(scored.loc[has_features].fillna(0))
    out = []
    records = scored.to_dict("records")
    for row, r, known in zip(records, rule, has_features, strict=True):
        parts = []
        if row.get("confirmed"):
            parts.append("confirmed by reviewer")
        if known:
            passes = ", ".join(pass_names(int(row["passes"])))
            domain = _part_domain(row)
            parts.append(f"{domain} ({passes} pass)" if passes else domain)
            parts.append(_part_name(row))
            parts.append(_part_eq(row, "country", "country", say_missing=True))
            parts.append(_part_eq(row, "region", "region", say_missing=False))
            parts.append(_part_eq(row, "city", "city", say_missing=True))
            parts.append(_part_eq(row, "postal", "postal code", say_missing=False))
            if row["crm_eq"]:
                parts.append("CRM id equal")
            if row["name_only"]:
                parts.append("only the names could be compared")
            if r in RULE_TEXT:
                parts.append(RULE_TEXT[r])
        out.append("; ".join(p for p in parts if p))
    return np.array(out, dtype=object)
