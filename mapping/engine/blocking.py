"""Candidate pairs: the union of recordlinkage index passes, never a full index.

Every pass runs on two small frames that hold only blocking keys and a RangeIndex, so the pairs
recordlinkage returns are row *positions*; the union is taken on int64-encoded pairs, which is much
cheaper than `MultiIndex.union` at millions of pairs.  Each pair carries a bitmask of the passes that
found it (used in the explanation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import recordlinkage as rl

# Pass name -> bit.  Order is the order reasons list them in.
PASSES: dict[str, int] = {
    "exact-domain": 1,
    "domain-stem": 2,
    "name-sn": 4,              # sorted neighbourhood on the name as written
    "reversed-name-sn": 8,     # ... on the reversed name
    "token-sorted-name-sn": 16,  # ... on the name with its words sorted
    "stem-to-name": 32,
    "crm-id": 64,
}


def effective_domain(frame: pd.DataFrame) -> np.ndarray:
    """The website's domain, else the (non free-mail) owner e-mail domain."""
    domain = frame["domain_norm"].to_numpy(dtype=object)
    email = frame["email_domain_norm"].to_numpy(dtype=object)
    return np.where(domain == "", email, domain)


def _key_frames(left_keys: np.ndarray, right_keys: np.ndarray, max_block_pairs: int):
    """Two one-column frames of integer key codes; blank and over-common keys are NaN (recordlinkage
    drops them).  Integer keys also make recordlinkage's merge much faster than string keys."""
    n_left = len(left_keys)
    both = np.concatenate([left_keys, right_keys])
    codes, uniques = pd.factorize(both)
    n_keys = len(uniques)
    count_left = np.bincount(codes[:n_left][codes[:n_left] >= 0], minlength=n_keys).astype(np.int64)
    count_right = np.bincount(codes[n_left:][codes[n_left:] >= 0], minlength=n_keys).astype(np.int64)
    usable = (count_left * count_right <= max_block_pairs) & (uniques != "")
    keys = np.where((codes >= 0) & usable[np.maximum(codes, 0)], codes, -1).astype(np.float64)
    keys[keys < 0] = np.nan
    return pd.DataFrame({"key": keys[:n_left]}), pd.DataFrame({"key": keys[n_left:]})


def _positions(index: pd.MultiIndex) -> tuple[np.ndarray, np.ndarray]:
    return index.codes[0].astype(np.int64), index.codes[1].astype(np.int64)


def block_pass(left_keys, right_keys, max_block_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs whose keys are equal (recordlinkage Block)."""
    a, b = _key_frames(left_keys, right_keys, max_block_pairs)
    pairs = rl.index.Block("key", verify_integrity=False).index(a, b)
    return _positions(pairs)


def _sorted_codes(keys: np.ndarray) -> np.ndarray:
    """Rank of each key among the distinct keys (-1 for blank).  Hash first, then sort only the distinct
    keys with Python's sort, which beats sorting an object array in numpy/pandas by about 2x."""
    codes, uniques = pd.factorize(keys)
    distinct = uniques.tolist()
    order = np.array(sorted(range(len(distinct)), key=distinct.__getitem__), dtype=np.int64)
    rank = np.empty(len(distinct) + 1, dtype=np.int64)
    rank[order] = np.arange(len(distinct))
    rank[-1] = -1  # factorize's code for missing values
    blank = np.flatnonzero(uniques == "")
    if len(blank):
        rank[blank[0]] = -1
    return rank[codes]


def sorted_neighbourhood_pass(left_keys, right_keys, window: int):
    """Pairs within `window` distinct keys of each other in sort order (recordlinkage SortedNeighbourhood).

    The string keys are replaced by their rank among the distinct keys of both lists first: recordlinkage
    would otherwise sort the object array itself, which is several times slower.
    """
    n_left = len(left_keys)
    codes = _sorted_codes(np.concatenate([left_keys, right_keys]))
    # Records sharing one key are numbered within their list (0, 1, 2 ...) and that number breaks the
    # tie: the i-th "Akzo Nobel" on the left meets the (i-window..i+window)-th on the right instead of
    # all 84 of them (or, with a cap, none).  Distinct keys behave as in plain sorted neighbourhood.
    side = np.r_[np.zeros(n_left, np.int64), np.ones(len(right_keys), np.int64)]
    dup = pd.DataFrame({"code": codes, "side": side}).groupby(["code", "side"]).cumcount().to_numpy()
    combined = codes.astype(np.int64) * (int(dup.max(initial=0)) + 1) + dup
    ranks = pd.factorize(combined, sort=True)[0].astype(np.float64)
    ranks[codes < 0] = np.nan
    a = pd.DataFrame({"key": ranks[:n_left]})
    b = pd.DataFrame({"key": ranks[n_left:]})
    indexer = rl.index.SortedNeighbourhood("key", window=window, verify_integrity=False)
    return _positions(indexer.index(a, b))


def candidate_pairs(left: pd.DataFrame, right: pd.DataFrame, config) -> pd.DataFrame:
    """All candidate pairs of two prepared frames: columns li, ri (positions), passes (bitmask)."""
    if len(left) == 0 or len(right) == 0:
        return union_pairs([], 0)
    cap = config.max_block_pairs
    left_domain, right_domain = effective_domain(left), effective_domain(right)
    found: list[tuple[np.ndarray, np.ndarray, int]] = []

    def add(name: str, pair: tuple[np.ndarray, np.ndarray]) -> None:
        found.append((pair[0], pair[1], PASSES[name]))

    add("exact-domain", block_pass(left_domain, right_domain, cap))
    add("domain-stem", block_pass(left["stem"].to_numpy(), right["stem"].to_numpy(), cap))
    add("crm-id", block_pass(left["crm_id_norm"].to_numpy(), right["crm_id_norm"].to_numpy(), cap))
    for column, name in (
        ("name_key", "name-sn"),
        ("name_rev", "reversed-name-sn"),
        ("name_sorted", "token-sorted-name-sn"),
    ):
        add(name, sorted_neighbourhood_pass(left[column].to_numpy(), right[column].to_numpy(),
                                            config.window))
    # A record without website still matches the partner's record whose domain stem is its name
    # ("Acme Software" <-> acmesoftware.com) or its first name token ("Acme Software" <-> acme.io).
    for lk, rk in (("stem_key", "name_key"), ("name_key", "stem_key"), ("stem_key", "first"),
                   ("first", "stem_key")):
        add("stem-to-name", block_pass(_key(left, lk), _key(right, rk), cap))
    return union_pairs(found, len(right))


def _key(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column == "first":
        # first token of the normalized name, only when long enough to be distinctive
        codes, uniques = pd.factorize(frame["name_norm"].to_numpy(dtype=object))
        firsts = [n.split(" ", 1)[0] for n in uniques]
        return np.array([f if len(f) >= 4 else "" for f in firsts] + [""], dtype=object)[codes]
    return frame[column].to_numpy(dtype=object)


def union_pairs(found, n_right: int) -> pd.DataFrame:
    if not found or n_right == 0:
        return pd.DataFrame({"li": np.array([], np.int64), "ri": np.array([], np.int64),
                             "passes": np.array([], np.int32)})
    codes = np.concatenate([li * n_right + ri for li, ri, _ in found])
    bits = np.concatenate([np.full(len(li), bit, dtype=np.int32) for li, _, bit in found])
    # group by pair code, OR-ing the pass bits; sort makes the order deterministic
    order = np.argsort(codes, kind="stable")
    codes, bits = codes[order], bits[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.array([], int)
    passes = np.bitwise_or.reduceat(bits, starts) if len(codes) else bits
    unique = codes[starts]
    return pd.DataFrame({"li": unique // n_right, "ri": unique % n_right, "passes": passes.astype(np.int32)})


def pass_names(bitmask: int) -> list[str]:
    return [name for name, bit in PASSES.items() if bitmask & bit]
