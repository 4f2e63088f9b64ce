"""Comparison features of candidate pairs, computed with recordlinkage `Compare`.

Each feature is a vectorised function over whole columns of pairs (rapidfuzz's `cpdist` scores millions
of string pairs in C++ threads); no Python loop runs per pair.  Every feature depends on the two records
of the pair only, never on the rest of the lists, so a pair scores the same in a full run, an
incremental run or a fan-out block.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import recordlinkage as rl
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel, JaroWinkler, Prefix
from rapidfuzz.process import cpdist
from recordlinkage.base import BaseCompareFeature

from .data import COMMON_TOKENS

# Feature columns, in model order.
FEATURES = (
    "name_jw",          # Jaro-Winkler similarity of normalized names
    "name_tsr",         # token-sort ratio of normalized names (word order does not matter)
    "name_tok",         # weighted Dice overlap of name tokens; common words ("software") weigh less
    "name_exact",       # normalized names equal
    "domain_eq",        # same registrable domain
    "stem_eq",          # same domain stem on different suffixes (acme.com / acme.de)
    "domain_conflict",  # both have a domain, and neither domain nor stem agree
    "stem_name",        # one side's domain stem vs the other's name (when a website is missing)
    "country_eq", "country_conflict",
    "region_eq", "region_conflict",
    "city_eq", "city_conflict",
    "postal_eq", "postal_conflict",
    "crm_eq",           # same CRM id
    "name_only",        # nothing but the names can be compared (no domain, country, city, postal pair)
)

MAX_TOKENS = 6
COMMON_WEIGHT = np.float32(0.3)


class VectorFeature(BaseCompareFeature):
    """A recordlinkage compare feature computed by `func(*left_columns, *right_columns)`."""

    def __init__(self, labels_left, labels_right, func, label=None, **kwargs):
        super().__init__(labels_left, labels_right, label=label)
        self._func = func
        self._kwargs = kwargs

    def _compute_vectorized(self, *args):
        return self._func(*(a.to_numpy() if isinstance(a, pd.Series) else a for a in args), **self._kwargs)


# --- element-wise helpers ----------------------------------------------------------------------------


def _both(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a != "") & (b != "")


def similarity(a: np.ndarray, b: np.ndarray, scorer=JaroWinkler.normalized_similarity, workers: int = -1):
    """Pairwise string similarity in [0, 1]; 0 where either side is blank."""
    out = np.zeros(len(a), dtype=np.float32)
    both = _both(a, b)
    if both.any():
        out[both] = cpdist(a[both], b[both], scorer=scorer, workers=workers, dtype=np.float32)
    if scorer is fuzz.token_sort_ratio:
        out /= 100.0
    return out


# --- token overlap -----------------------------------------------------------------------------------


class TokenTable:
    """Names as a fixed-width matrix of token ids, shared by both lists so ids agree across them.

    Weighted Dice over ids is then a handful of vectorised comparisons per pair batch.
    """

    def __init__(self, left_names: np.ndarray, right_names: np.ndarray):
        names = pd.Series(np.concatenate([left_names, right_names]), dtype=object)
        codes, uniques = pd.factorize(names)
        # one row per (name, distinct token), at most MAX_TOKENS per name, all vectorised
        tokens = pd.Series(uniques, dtype=object).str.split().explode().dropna()
        tokens = tokens[tokens != ""]
        frame = pd.DataFrame({"row": tokens.index.to_numpy(), "token": tokens.to_numpy()})
        frame = frame.drop_duplicates()
        frame["col"] = frame.groupby("row").cumcount()
        frame = frame[frame["col"] < MAX_TOKENS]
        token_ids = pd.factorize(frame["token"])[0].astype(np.int32)
        common = frame["token"].isin(COMMON_TOKENS) | (frame["token"].str.len() == 1)
        ids = np.full((len(uniques), MAX_TOKENS), -1, dtype=np.int32)
        weights = np.zeros((len(uniques), MAX_TOKENS), dtype=np.float32)
        ids[frame["row"].to_numpy(), frame["col"].to_numpy()] = token_ids
        weights[frame["row"].to_numpy(), frame["col"].to_numpy()] = np.where(common, COMMON_WEIGHT, 1.0)
        n_left = len(left_names)
        self.left_ids, self.right_ids = ids[codes[:n_left]], ids[codes[n_left:]]
        self.left_w, self.right_w = weights[codes[:n_left]], weights[codes[n_left:]]

    def dice(self, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
        a_ids, b_ids = self.left_ids[li], self.right_ids[ri]
        a_w, b_w = self.left_w[li], self.right_w[ri]
        shared = np.zeros(len(li), dtype=np.float32)
        for i in range(MAX_TOKENS):
            hit = np.zeros(len(li), dtype=bool)
            for j in range(MAX_TOKENS):
                hit |= a_ids[:, i] == b_ids[:, j]
            shared += np.where(hit & (a_ids[:, i] >= 0), a_w[:, i], 0)
        total = a_w.sum(axis=1) + b_w.sum(axis=1)
        return np.divide(2 * shared, total, out=np.zeros_like(shared), where=total > 0)


# --- the comparison ----------------------------------------------------------------------------------


def _stem_name(stem_l, key_l, stem_r, key_r, workers=-1):
    """How well one side's domain stem spells the other side's name, when one website is missing.

    The Indel ratio against the name key, or the share of the stem that starts the name key, so acme.io
    vs "Acme Software" scores nearly like acmesoftware.com does.
    """
    out = np.zeros(len(stem_l), dtype=np.float32)
    for stem, key, other_stem in ((stem_l, key_r, stem_r), (stem_r, key_l, stem_l)):
        use = (stem != "") & (key != "") & (other_stem == "")
        if not use.any():
            continue
        s, k = stem[use], key[use]
        whole = cpdist(s, k, scorer=Indel.normalized_similarity, workers=workers, dtype=np.float32)
        shared_prefix = cpdist(s, k, scorer=Prefix.similarity, workers=workers, dtype=np.float32)
        start = shared_prefix / np.fromiter(map(len, s), dtype=np.float32, count=len(s))
        out[use] = np.maximum(out[use], np.maximum(whole, 0.85 * start))
    return out


def city_features(a, b, workers=-1):
    sim = similarity(a, b, workers=workers)
    both = _both(a, b)
    return (both & (sim >= 0.9)).astype(np.float32), (both & (sim < 0.9)).astype(np.float32)


# Columns compared for equality only: replaced by integer codes shared by both lists (-1 = blank), so
# each comparison is an integer compare per pair instead of a string compare.
CODED = ("name_norm", "domain_eff", "stem", "country_norm", "region_norm", "postal_norm", "postal5",
         "crm_id_norm")
FUZZY = ("name_norm", "stem_key", "name_key", "city_norm")


def comparison_frames(left: pd.DataFrame, right: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-record inputs of `compare_pairs` for both lists (computed once per run, not per pair)."""
    def with_derived(frame):
        out = frame[list(FUZZY) + ["domain_norm", "email_domain_norm", "postal_norm", "stem", "country_norm",
                                   "region_norm", "crm_id_norm"]].reset_index(drop=True)
        out["domain_eff"] = np.where(out["domain_norm"] == "", out["email_domain_norm"], out["domain_norm"])
        out["postal5"] = out["postal_norm"].str[:5]
        return out

    a, b = with_derived(left), with_derived(right)
    a_out, b_out = a[list(FUZZY)].copy(), b[list(FUZZY)].copy()
    for column in CODED:
        both = np.concatenate([a[column].to_numpy(dtype=object), b[column].to_numpy(dtype=object)])
        codes, uniques = pd.factorize(both)
        blank = np.flatnonzero(uniques == "")
        codes = codes.astype(np.int32)
        if len(blank):
            codes[codes == blank[0]] = -1
        a_out[f"{column}_code"], b_out[f"{column}_code"] = codes[: len(a)], codes[len(a):]
    return a_out, b_out


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


def compare_pairs(a: pd.DataFrame, b: pd.DataFrame, li: np.ndarray, ri: np.ndarray,
                  tokens: TokenTable, workers: int = -1, name_jw: np.ndarray | None = None) -> pd.DataFrame:
    """Feature frame (columns FEATURES, float32) for pairs given by positions into the lists.

    `a`/`b` come from `comparison_frames`; `name_jw` may be passed when the caller already computed it
    (the pre-filter does).
    """
    pairs = pd.MultiIndex(levels=[np.arange(len(a)), np.arange(len(b))], codes=[li, ri],
                          verify_integrity=False)
    comparer = rl.Compare(features=[
        VectorFeature("name_norm", "name_norm", similarity, label="name_tsr", scorer=fuzz.token_sort_ratio,
                      workers=workers),
        VectorFeature("name_norm_code", "name_norm_code", equal_codes, label="name_exact"),
        VectorFeature(["domain_eff_code", "stem_code"], ["domain_eff_code", "stem_code"],
                      domain_features_codes, label=["domain_eq", "stem_eq", "domain_conflict"]),
        VectorFeature(["stem_key", "name_key"], ["stem_key", "name_key"],
                      lambda sl, kl, sr, kr: _stem_name(sl, kl, sr, kr, workers=workers), label="stem_name"),
        VectorFeature("country_norm_code", "country_norm_code", lambda x, y: (equal_codes(x, y),
                                                                              conflict_codes(x, y)),
                      label=["country_eq", "country_conflict"]),
        VectorFeature("region_norm_code", "region_norm_code", lambda x, y: (equal_codes(x, y),
                                                                            conflict_codes(x, y)),
                      label=["region_eq", "region_conflict"]),
        VectorFeature("city_norm", "city_norm", city_features, label=["city_eq", "city_conflict"],
                      workers=workers),
        VectorFeature(["postal_norm_code", "postal5_code"], ["postal_norm_code", "postal5_code"],
                      postal_features_codes, label=["postal_eq", "postal_conflict"]),
        VectorFeature("crm_id_norm_code", "crm_id_norm_code", equal_codes, label="crm_eq"),
    ])
    features = comparer.compute(pairs, a, b)
    if name_jw is None:
        name_jw = similarity(a["name_norm"].to_numpy()[li], b["name_norm"].to_numpy()[ri], workers=workers)
    features["name_jw"] = name_jw
    features["name_tok"] = tokens.dice(li, ri)
    context = ["domain_eq", "stem_eq", "domain_conflict", "country_eq", "country_conflict", "city_eq",
               "city_conflict", "postal_eq", "postal_conflict", "region_eq", "region_conflict"]
    features["name_only"] = (features[context].sum(axis=1) == 0).astype(np.float32)
    return features[list(FEATURES)].reset_index(drop=True).astype(np.float32)
