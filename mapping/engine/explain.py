"""Human-readable reasons for a scored pair, built from its features and the passes that found it.

Vectorised: each part of the text is chosen per row with numpy, numbers are formatted once per
distinct value, and the parts are joined column-wise (object-array concatenation runs in C).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .blocking import pass_names
from .features import FEATURES
from .scoring import RULE_TEXT, rules

_RULE_SUFFIX = np.array(
    [f"; {RULE_TEXT[r]}" if r in RULE_TEXT else "" for r in range(max(RULE_TEXT) + 1)], dtype=object
)


def _fmt(values: np.ndarray) -> np.ndarray:
    """f"{v:.2f}" of each value, formatting each distinct value once."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=np.float64))
    texts = np.array([f"{v:.2f}" for v in uniques] + ["nan"], dtype=object)
    return texts[codes]


def _choose(conditions: list[np.ndarray], choices: list, default) -> np.ndarray:
    out = np.full(len(conditions[0]) if conditions else 0, default, dtype=object)
    done = np.zeros(len(out), dtype=bool)
    for cond, choice in zip(conditions, choices, strict=True):
        take = cond & ~done
        out[take] = choice[take] if isinstance(choice, np.ndarray) else choice
        done |= take
    return out


def _eq_part(f: dict, field: str, label: str, *, say_missing: bool, prefix: str = "") -> np.ndarray:
    missing = f"{prefix}{label} missing" if say_missing else ""
    return _choose(
        [f[f"{field}_eq"] != 0, f[f"{field}_conflict"] != 0],
        [f"{prefix}{label} equal", f"{prefix}{label} differs"],
        missing,
    )


def reasons(scored: pd.DataFrame) -> np.ndarray:
    """One reason string per row of a frame holding FEATURES, `passes`, `confirmed`."""
    n = len(scored)
    if n == 0:
        return np.array([], dtype=object)
    known = scored["name_jw"].notna().to_numpy()
    confirmed = scored["confirmed"].eq(True).to_numpy() if "confirmed" in scored else np.zeros(n, dtype=bool)
    out = np.where(confirmed, "confirmed by reviewer", "").astype(object)
    rows = np.flatnonzero(known)
    if len(rows) == 0:
        return out
    sub = scored.iloc[rows]
    f = {
        c: sub[c].to_numpy()
        for c in sub.columns
        if c not in ("left_id", "right_id", "status", "reasons", "words")
    }
    rule = rules(sub[list(FEATURES)].astype(np.float64).fillna(0))

    passes = f["passes"].astype(np.int64)
    p_codes, p_uniques = pd.factorize(passes)
    p_text = np.array([", ".join(pass_names(int(p))) for p in p_uniques], dtype=object)[p_codes]
    stem_name = f["stem_name"]
    domain = _choose(
        [f["domain_eq"] != 0, f["stem_eq"] != 0, f["domain_conflict"] != 0, stem_name >= 0.8],
        [
            "domain equal",
            "domain stem equal (different suffix)",
            "domain differs",
            "domain spells the other's name " + _fmt(stem_name),
        ],
        "domain missing",
    )
    has_passes = p_text != ""
    domain[has_passes] = domain[has_passes] + " (" + p_text[has_passes] + " pass)"
    name = np.empty(len(rows), dtype=object)
    exact = f["name_exact"] != 0
    name[exact] = "name equal"
    fuzzy = ~exact
    if fuzzy.any():
        best = np.maximum(f["name_jw"][fuzzy], f["name_tsr"][fuzzy])
        name[fuzzy] = "name " + _fmt(best) + " (words " + _fmt(f["name_tok"][fuzzy]) + ")"
    if "words" in sub.columns:
        words = sub["words"].fillna("").astype(str).to_numpy(dtype=object)
        agree = words != ""
        name[agree] = (
            name[agree]
            + "; rare words agree: "
            + np.char.replace(words[agree].astype(str), " ", ", ").astype(object)
        )
    text = (
        domain
        + "; "
        + name
        + "; "
        + _eq_part(f, "country", "country", say_missing=True)
        + _eq_part(f, "region", "region", say_missing=False, prefix="; ")
        + "; "
        + _eq_part(f, "city", "city", say_missing=True)
        + _eq_part(f, "postal", "postal code", say_missing=False, prefix="; ")
        + np.where(f["crm_eq"] != 0, "; CRM id equal", "").astype(object)
        + np.where(f["name_only"] != 0, "; only the names could be compared", "").astype(object)
        + _RULE_SUFFIX[rule.astype(np.int64)]
    )
    out[rows] = np.where(confirmed[rows], out[rows] + "; " + text, text)
    return out
