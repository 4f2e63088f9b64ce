"""One-to-one assignment of scored pairs: greedy by score, computed in vectorised rounds.

Greedy matching (take the best remaining pair, drop everything touching it, repeat) picks exactly the
pairs that are, round after round, the best pair of both their records ("locally dominant" edges), as
long as ties are broken by one total order.  Each round is a few array operations, and real lists need
a handful of rounds, so no Python loop runs per pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# At import, not per call: scipy.optimize takes most of a second to import, which a worker pays once.
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


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


def max_weight_one_to_one(
    li: np.ndarray, ri: np.ndarray, score: np.ndarray, *, max_component: int = 3000
) -> np.ndarray:
    """Indices of the pairs of a maximum-total-score one-to-one assignment (Hungarian per component).

    Maximizing the summed match probability maximizes the expected number of correct pairs; greedy can
    let one sure pair block two likely ones (a group of near-identical records on both sides).  Records
    linked by candidate pairs form components; single-pair and star-shaped components are solved by the
    greedy pass, only components with at least two records on each side go through the assignment
    solver, and components too large for a dense matrix stay greedy.
    """

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
    hard = sizes.index[
        (sizes["nl"] >= 2)
        & (sizes["nr"] >= 2)
        & (sizes["nl"] <= max_component)
        & (sizes["nr"] <= max_component)
    ]
    if len(hard) == 0:
        return greedy
    is_hard = np.isin(comp, hard.to_numpy())
    kept = [greedy[~is_hard[greedy]]]
    hard_idx = np.flatnonzero(is_hard)
    hard_idx = hard_idx[np.lexsort((ri[hard_idx], li[hard_idx], comp[hard_idx]))]
    hc = comp[hard_idx]
    # each pair's row and column inside its component's matrix (records in position order), computed
    # for all components at once
    bounds = np.flatnonzero(np.r_[True, hc[1:] != hc[:-1], True])
    row_code = pd.factorize(hc.astype(np.int64) * n_l + li[hard_idx], sort=True)[0]
    col_code = pd.factorize(hc.astype(np.int64) * n_r + ri[hard_idx], sort=True)[0]
    sizes_hard = np.diff(bounds)
    row_of = row_code - np.repeat(np.minimum.reduceat(row_code, bounds[:-1]), sizes_hard)
    col_of = col_code - np.repeat(np.minimum.reduceat(col_code, bounds[:-1]), sizes_hard)
    nrows = np.maximum.reduceat(row_of, bounds[:-1]) + 1
    ncols = np.maximum.reduceat(col_of, bounds[:-1]) + 1
    # small bonus per pair so that, at equal total score, more pairs win
    weight_of = score[hard_idx] + 1e-9
    two = (nrows == 2) & (ncols == 2)
    if two.any():
        kept.append(_two_by_two(hard_idx, row_of, col_of, weight_of, bounds, two))
    for c in np.flatnonzero(~two):
        start, stop = bounds[c], bounds[c + 1]
        idx = hard_idx[start:stop]
        weight = np.zeros((nrows[c], ncols[c]))
        weight[row_of[start:stop], col_of[start:stop]] = weight_of[start:stop]
        pair_at = np.full((nrows[c], ncols[c]), -1, dtype=np.int64)
        pair_at[row_of[start:stop], col_of[start:stop]] = idx
        r, col = linear_sum_assignment(weight, maximize=True)
        chosen = weight[r, col] > 0
        kept.append(pair_at[r[chosen], col[chosen]])
    return np.sort(np.concatenate(kept))


def _two_by_two(hard_idx, row_of, col_of, weight_of, bounds, two) -> np.ndarray:
    """Max-weight assignment of every component with two records per side, vectorised: the diagonal
    (first-first, second-second) or the anti-diagonal, whichever weighs more (the diagonal on a tie)."""
    comps = np.flatnonzero(two)
    sizes = np.diff(bounds)[comps]
    members = np.repeat(bounds[:-1][comps], sizes) + (
        np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    )
    local = np.repeat(np.arange(len(comps)), sizes)
    cell = row_of[members] * 2 + col_of[members]
    weight = np.zeros((len(comps), 4))
    pair_at = np.full((len(comps), 4), -1, dtype=np.int64)
    weight[local, cell] = weight_of[members]
    pair_at[local, cell] = hard_idx[members]
    diag = weight[:, 0] + weight[:, 3] >= weight[:, 1] + weight[:, 2]
    picks = np.where(diag[:, None], [[0, 3]], [[1, 2]])
    chosen_w = np.take_along_axis(weight, picks, axis=1)
    chosen = np.take_along_axis(pair_at, picks, axis=1)
    return chosen[chosen_w > 0]
