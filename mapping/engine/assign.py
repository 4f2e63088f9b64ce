"""One-to-one assignment of scored pairs: greedy by score, computed in vectorised rounds.

Greedy matching (take the best remaining pair, drop everything touching it, repeat) picks exactly the
pairs that are, round after round, the best pair of both their records ("locally dominant" edges), as
long as ties are broken by one total order.  Each round is a few array operations, and real lists need
a handful of rounds, so no Python loop runs per pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def greedy_one_to_one(li: np.ndarray, ri: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Indices of the kept pairs.  Ties: higher score, then lower left position, then lower right."""
    n = len(li)
    if n == 0:
        return np.array([], dtype=np.int64)
    order = np.lexsort((ri, li, -score))  # best first
    l_sorted, r_sorted = li[order], ri[order]
    alive = np.ones(n, dtype=bool)
    kept: list[np.ndarray] = []
    while alive.any():
        idx = np.flatnonzero(alive)
        l_alive, r_alive = l_sorted[idx], r_sorted[idx]
        # first occurrence in best-first order = that record's best remaining pair
        best_l = idx[~pd.Series(l_alive).duplicated().to_numpy()]
        best_r = idx[~pd.Series(r_alive).duplicated().to_numpy()]
        mutual = np.intersect1d(best_l, best_r, assume_unique=True)
        kept.append(mutual)
        used_l = np.zeros(l_sorted.max() + 1, dtype=bool)
        used_r = np.zeros(r_sorted.max() + 1, dtype=bool)
        used_l[l_sorted[mutual]] = True
        used_r[r_sorted[mutual]] = True
        alive &= ~(used_l[l_sorted] | used_r[r_sorted])
    return np.sort(order[np.concatenate(kept)])


def max_weight_one_to_one(li: np.ndarray, ri: np.ndarray, score: np.ndarray, *,
                          max_component: int = 3000) -> np.ndarray:
    """Indices of the pairs of a maximum-total-score one-to-one assignment (Hungarian per component).

    Maximizing the summed match probability maximizes the expected number of correct pairs; greedy can
    let one sure pair block two likely ones (a group of near-identical records on both sides).  Records
    linked by candidate pairs form components; single-pair and star-shaped components are solved by the
    greedy pass, only components with at least two records on each side go through the assignment
    solver, and components too large for a dense matrix stay greedy.
    """
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(li)
    if n == 0:
        return np.array([], dtype=np.int64)
    greedy = greedy_one_to_one(li, ri, score)
    n_l, n_r = int(li.max()) + 1, int(ri.max()) + 1
    graph = coo_matrix((np.ones(n), (li, ri + n_l)), shape=(n_l + n_r, n_l + n_r))
    _, label = connected_components(graph, directed=False)
    comp = label[li]
    frame = pd.DataFrame({"comp": comp, "li": li, "ri": ri})
    sizes = frame.groupby("comp").agg(nl=("li", "nunique"), nr=("ri", "nunique"))
    hard = sizes.index[(sizes["nl"] >= 2) & (sizes["nr"] >= 2) & (sizes["nl"] <= max_component)
                       & (sizes["nr"] <= max_component)]
    if len(hard) == 0:
        return greedy
    is_hard = np.isin(comp, hard.to_numpy())
    kept = [greedy[~is_hard[greedy]]]
    hard_idx = np.flatnonzero(is_hard)
    order = np.argsort(comp[hard_idx], kind="stable")
    hard_idx = hard_idx[order]
    bounds = np.flatnonzero(np.r_[True, np.diff(comp[hard_idx]) != 0, True])
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        idx = hard_idx[start:stop]
        rows, row_of = np.unique(li[idx], return_inverse=True)
        cols, col_of = np.unique(ri[idx], return_inverse=True)
        weight = np.zeros((len(rows), len(cols)))
        # small bonus per pair so that, at equal total score, more pairs win; ties resolve by position
        weight[row_of, col_of] = score[idx] + 1e-9
        pair_at = np.full((len(rows), len(cols)), -1, dtype=np.int64)
        pair_at[row_of, col_of] = idx
        r, c = linear_sum_assignment(weight, maximize=True)
        chosen = weight[r, c] > 0
        kept.append(pair_at[r[chosen], c[chosen]])
    return np.sort(np.concatenate(kept))
