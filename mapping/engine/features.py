"""Comparison features of candidate pairs.

Each feature is a vectorised function over whole columns of pairs (rapidfuzz's `cpdist` scores millions
of string pairs in C++ threads; equality features compare integer codes); no Python loop runs per pair.
Per-record inputs (codes, blank flags, lengths) are computed once per run by `comparison_frames`, so
pairs only gather numbers and, for the fuzzy features, the strings they need.  Every feature depends on the two records
of the pair and on what was learned from the two whole lists (word weights, unreliable domains: see
tokens.py and reliability.py), which a run computes once and hands to its blocks, so a pair scores the
same in a full run, an incremental run or a fan-out block.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel, JaroWinkler, Prefix
from rapidfuzz.process import cpdist

from .tokens import TokenTable, TokenWeights, learn_weights  # noqa: F401 (re-exported)

# Feature columns, in model order.
FEATURES = (
    "name_jw",  # Jaro-Winkler similarity of normalized names
    "name_tsr",  # token-sort ratio of normalized names (word order does not matter)
    "name_tok",  # weighted Dice overlap of name words (weights learned from the lists, see
    # tokens.py); abbreviations agree with the words they start
    "name_contain",  # share of one name's word weight the other name holds (extra words tolerated)
    "name_exact",  # normalized names equal (spaces aside)
    "domain_eq",  # same registrable domain
    "stem_eq",  # same domain stem on different suffixes (acme.com / acme.de)
    "domain_conflict",  # both have a domain, and neither domain nor stem agree
    "stem_name",  # one side's domain stem vs the other's name (when a website is missing)
    "country_eq",
    "country_conflict",
    "region_eq",
    "region_conflict",
    "city_eq",
    "city_conflict",
    "postal_eq",
    "postal_conflict",
    "crm_eq",  # same CRM id
    "name_only",  # nothing but the names can be compared (no domain, country, city, postal pair)
)


# --- element-wise helpers ----------------------------------------------------------------------------


def hash_factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, uniques) like `pd.factorize`, found through 64-bit hashes of the strings: several times
    faster than hashing Python strings in a hash table at a million records."""
    values = np.asarray(values, dtype=object)
    if len(values) == 0:
        return np.zeros(0, np.int64), np.zeros(0, dtype=object)
    codes, uniques = pd.factorize(pd.util.hash_array(values, categorize=False))
    first = np.empty(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(values))[::-1]
    return codes.astype(np.int64), values[first]


def _both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a != "") & (b != "")


def similarity(
    a: np.ndarray,
    b: np.ndarray,
    scorer=JaroWinkler.normalized_similarity,
    workers: int = -1,
    both: np.ndarray | None = None,
):
    """Pairwise string similarity in [0, 1]; 0 where either side is blank (`both`: neither is)."""
    out = np.zeros(len(a), dtype=np.float32)
    both = _both(a, b) if both is None else both
    if both.any():
        out[both] = cpdist(a[both], b[both], scorer=scorer, workers=workers, dtype=np.float32)
    if scorer is fuzz.token_sort_ratio:
        out /= 100.0
    return out


def pair_similarity(
    a: pd.DataFrame,
    b: pd.DataFrame,
    column: str,
    li: np.ndarray,
    ri: np.ndarray,
    scorer=JaroWinkler.normalized_similarity,
    workers: int = -1,
) -> np.ndarray:
    """`similarity` of one column of comparison frames, gathering only the strings of non-blank pairs."""
    both = a[f"{column}_set"].to_numpy()[li] & b[f"{column}_set"].to_numpy()[ri]
    out = np.zeros(len(li), dtype=np.float32)
    idx = np.flatnonzero(both)
    if len(idx):
        out[idx] = cpdist(
            a[column].to_numpy()[li[idx]],
            b[column].to_numpy()[ri[idx]],
            scorer=scorer,
            workers=workers,
            dtype=np.float32,
        )
    if scorer is fuzz.token_sort_ratio:
        out /= 100.0
    return out


# --- the comparison ----------------------------------------------------------------------------------


def stem_name_pairs(a: pd.DataFrame, b: pd.DataFrame, li: np.ndarray, ri: np.ndarray, workers=-1):
    """How well one side's domain stem spells the other side's name, when one website is missing.

    The Indel ratio against the name key, or the share of the stem that starts the name key, so acme.io
    vs "Acme Software" scores nearly like acmesoftware.com does.
    """
    out = np.zeros(len(li), dtype=np.float32)
    for x, xi, y, yi in ((a, li, b, ri), (b, ri, a, li)):
        use = np.flatnonzero(
            x["stem_key_set"].to_numpy()[xi]
            & y["name_key_set"].to_numpy()[yi]
            & ~y["stem_key_set"].to_numpy()[yi]
        )
        if not len(use):
            continue
        s, k = x["stem_key"].to_numpy()[xi[use]], y["name_key"].to_numpy()[yi[use]]
        whole = cpdist(s, k, scorer=Indel.normalized_similarity, workers=workers, dtype=np.float32)
        shared_prefix = cpdist(s, k, scorer=Prefix.similarity, workers=workers, dtype=np.float32)
        start = shared_prefix / x["stem_key_len"].to_numpy()[xi[use]]
        out[use] = np.maximum(out[use], np.maximum(whole, 0.85 * start))
    return out


def city_features(a: pd.DataFrame, b: pd.DataFrame, li, ri, workers=-1):
    sim = pair_similarity(a, b, "city_norm", li, ri, workers=workers)
    both = a["city_norm_set"].to_numpy()[li] & b["city_norm_set"].to_numpy()[ri]
    return (both & (sim >= 0.9)).astype(np.float32), (both & (sim < 0.9)).astype(np.float32)


# Columns compared for equality only: replaced by integer codes shared by both lists (-1 = blank), so
# each comparison is an integer compare per pair instead of a string compare.
CODED = (
    "name_norm",
    "name_key",
    "domain_eff",
    "stem",
    "country_norm",
    "region_norm",
    "postal_norm",
    "postal5",
    "crm_id_norm",
)
FUZZY = ("name_norm", "stem_key", "name_key", "city_norm")


def comparison_frames(
    left: pd.DataFrame,
    right: pd.DataFrame,
    junk_l: np.ndarray | None = None,
    junk_r: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-record inputs of `compare_pairs` for both lists (computed once per run, not per pair).

    `junk_*`: records whose domain is no evidence on their list (reliability.junk_domains); their
    domain, e-mail domain and stem count as blank.
    """
    n_left = len(left)

    def both_sides(column):
        return np.concatenate([left[column].to_numpy(dtype=object), right[column].to_numpy(dtype=object)])

    out = {column: both_sides(column) for column in FUZZY}
    for column in FUZZY:
        out[f"{column}_set"] = out[column] != ""
    out["stem_key_len"] = np.fromiter(map(len, out["stem_key"]), dtype=np.float32, count=len(out["stem_key"]))
    domain, email = both_sides("domain_norm"), both_sides("email_domain_norm")
    raw = {"domain_eff": np.where(domain == "", email, domain)}
    junk = np.concatenate(
        [
            np.zeros(len(left), bool) if junk_l is None else junk_l,
            np.zeros(len(right), bool) if junk_r is None else junk_r,
        ]
    )
    if junk.any():
        raw["domain_eff"] = np.where(junk, "", raw["domain_eff"])
        raw["stem"] = np.where(junk, "", both_sides("stem"))
        for column in ("stem_key",):
            out[column] = np.where(junk, "", out[column])
            out[f"{column}_set"] = out[column] != ""
        out["stem_key_len"] = np.fromiter(
            map(len, out["stem_key"]), dtype=np.float32, count=len(out["stem_key"])
        )
    for column in CODED:
        if column == "postal5":
            continue
        values = raw.get(column)
        codes, uniques = hash_factorize(both_sides(column) if values is None else values)
        if column == "postal_norm":  # 5-character prefix, derived once per distinct code
            codes5, _ = hash_factorize(np.array([u[:5] for u in uniques.tolist()], dtype=object))
            blank5 = np.array([u == "" for u in uniques.tolist()], dtype=bool)
            out["postal5_code"] = np.where(blank5[codes], -1, codes5[codes]).astype(np.int32)
        blank = np.array([u == "" for u in uniques.tolist()], dtype=bool)
        out[f"{column}_code"] = np.where(blank[codes], -1, codes).astype(np.int32)
    a = pd.DataFrame({k: v[:n_left] for k, v in out.items()})
    b = pd.DataFrame({k: v[n_left:] for k, v in out.items()})
    return a, b


def equal_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a >= 0) & (a == b)).astype(np.float32)


def conflict_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return ((a >= 0) & (b >= 0) & (a != b)).astype(np.float32)


def domain_features_codes(dl, sl, dr, sr):
    domain_eq = equal_codes(dl, dr)
    stem_same = equal_codes(sl, sr)
    return domain_eq, stem_same * (1 - domain_eq), conflict_codes(dl, dr) * (1 - stem_same)


def postal_features_codes(a, a5, b, b5):
    # Same postal code, or the same 5-character prefix (ZIP vs ZIP+4, outward code in the UK).
    both = (a >= 0) & (b >= 0)
    same = both & ((a == b) | (a5 == b5))
    return same.astype(np.float32), (both & ~same).astype(np.float32)


def compare_pairs(
    a: pd.DataFrame,
    b: pd.DataFrame,
    li: np.ndarray,
    ri: np.ndarray,
    tokens: TokenTable,
    workers: int = -1,
    name_jw: np.ndarray | None = None,
    name_words: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Feature frame (columns FEATURES, float32) for pairs given by positions into the lists.

    `a`/`b` come from `comparison_frames`; `name_jw` and `name_words` (Dice, containment) may be passed
    when the caller already computed them (the pre-filter does).
    """

    def codes(column):
        return a[f"{column}_code"].to_numpy()[li], b[f"{column}_code"].to_numpy()[ri]

    f: dict[str, np.ndarray] = {}
    f["name_jw"] = pair_similarity(a, b, "name_norm", li, ri, workers=workers) if name_jw is None else name_jw
    f["name_tsr"] = pair_similarity(a, b, "name_norm", li, ri, scorer=fuzz.token_sort_ratio, workers=workers)
    f["name_tok"], f["name_contain"] = tokens.overlap(li, ri) if name_words is None else name_words
    # equal names, or equal but for spaces ("Gist Brocades" / "Gistbrocades", "Z 7" / "Z7")
    f["name_exact"] = np.maximum(equal_codes(*codes("name_norm")), equal_codes(*codes("name_key")))
    (dl, dr), (sl, sr) = codes("domain_eff"), codes("stem")
    f["domain_eq"], f["stem_eq"], f["domain_conflict"] = domain_features_codes(dl, sl, dr, sr)
    f["stem_name"] = stem_name_pairs(a, b, li, ri, workers=workers)
    for column, name in (("country_norm", "country"), ("region_norm", "region")):
        x, y = codes(column)
        f[f"{name}_eq"], f[f"{name}_conflict"] = equal_codes(x, y), conflict_codes(x, y)
    f["city_eq"], f["city_conflict"] = city_features(a, b, li, ri, workers=workers)
    (pl, pr), (p5l, p5r) = codes("postal_norm"), codes("postal5")
    f["postal_eq"], f["postal_conflict"] = postal_features_codes(pl, p5l, pr, p5r)
    f["crm_eq"] = equal_codes(*codes("crm_id_norm"))
    context = [
        "domain_eq",
        "stem_eq",
        "domain_conflict",
        "country_eq",
        "country_conflict",
        "city_eq",
        "city_conflict",
        "postal_eq",
        "postal_conflict",
        "region_eq",
        "region_conflict",
    ]
    f["name_only"] = (sum(f[c] for c in context) == 0).astype(np.float32)
    return pd.DataFrame({name: np.asarray(f[name], dtype=np.float32) for name in FEATURES})
