"""The matching pipeline: prepare -> candidate pairs -> compare -> classify -> one-to-one -> explain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz.distance import JaroWinkler

from .assign import greedy_one_to_one, max_weight_one_to_one
from .blocking import candidate_pairs
from .config import MatchConfig
from .explain import reasons
from .features import FEATURES, TokenTable, _stem_name, compare_pairs, comparison_frames, similarity
from .prepare import NORMALIZED_COLUMNS, prepare
from .scoring import UNRELATED_NAME_SIMILARITY, UNRELATED_TOKEN_OVERLAP, ScoringModel
from .scoring import train as train_model

RESULT_COLUMNS = ("left_id", "right_id", "score", "status", "reasons", "passes", *FEATURES)
STATUS_MATCH, STATUS_REVIEW = "match", "review"


# --- inputs ------------------------------------------------------------------------------------------


def ensure_prepared(df: pd.DataFrame) -> pd.DataFrame:
    """The frame itself when every normalized column is there, else `prepare(df)`."""
    if all(column in df.columns for column in NORMALIZED_COLUMNS):
        return df
    return prepare(df)


def _pair_set(pairs: Iterable | None) -> set:
    return set() if pairs is None else {tuple(p) for p in pairs}


# --- scoring -----------------------------------------------------------------------------------------


class _Sides:
    """Column arrays of both prepared frames, plus what several steps share."""

    def __init__(self, left: pd.DataFrame, right: pd.DataFrame):
        self.left, self.right = left, right
        self.left_ids, self.right_ids = left.index.to_numpy(), right.index.to_numpy()
        self.name_l = left["name_norm"].to_numpy(dtype=object)
        self.name_r = right["name_norm"].to_numpy(dtype=object)
        self.key_l = left["name_key"].to_numpy(dtype=object)
        self.key_r = right["name_key"].to_numpy(dtype=object)
        self.skey_l = left["stem_key"].to_numpy(dtype=object)
        self.skey_r = right["stem_key"].to_numpy(dtype=object)
        self._tokens: TokenTable | None = None
        self._frames: tuple[pd.DataFrame, pd.DataFrame] | None = None

    @property
    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        if self._frames is None:
            self._frames = comparison_frames(self.left, self.right)
        return self._frames

    @property
    def tokens(self) -> TokenTable:
        if self._tokens is None:
            self._tokens = TokenTable(self.name_l, self.name_r)
        return self._tokens


def _worth_comparing(s: _Sides, li: np.ndarray, ri: np.ndarray, workers: int):
    """Mask of pairs the 'unrelated' rule does not already decide (it would score them 0).

    Mirrors scoring.rules exactly, computing only the cheap features, so skipping these pairs changes
    no score.  Also returns the names' Jaro-Winkler similarity, reused by the full comparison.
    """
    a, b = s.frames

    def agree(column):
        x, y = a[column].to_numpy()[li], b[column].to_numpy()[ri]
        return (x >= 0) & (x == y)

    jw = similarity(s.name_l[li], s.name_r[ri], scorer=JaroWinkler.normalized_similarity, workers=workers)
    keep = (jw >= UNRELATED_NAME_SIMILARITY) | agree("domain_eff_code") | agree("stem_code") \
        | agree("crm_id_norm_code")
    undecided = np.flatnonzero(~keep)
    keep[undecided] = s.tokens.dice(li[undecided], ri[undecided]) >= UNRELATED_TOKEN_OVERLAP
    maybe = np.flatnonzero(~keep & ((a["stem_code"].to_numpy()[li] < 0) | (b["stem_code"].to_numpy()[ri] < 0)))
    if len(maybe):
        pl, pr = li[maybe], ri[maybe]
        stem_name = _stem_name(s.skey_l[pl], s.key_l[pl], s.skey_r[pr], s.key_r[pr], workers=workers)
        keep[maybe[stem_name >= 0.8]] = True
    return keep, jw


def _score(s: _Sides, li: np.ndarray, ri: np.ndarray, config: MatchConfig,
           keep_features_from: float) -> tuple[np.ndarray, pd.DataFrame]:
    """Scores of all pairs, and features of those scoring >= keep_features_from (positions `kept`)."""
    scores = np.zeros(len(li), dtype=np.float64)
    kept_frames = []
    for start in range(0, len(li), config.chunk_size):
        cl, cr = li[start:start + config.chunk_size], ri[start:start + config.chunk_size]
        keep, jw = _worth_comparing(s, cl, cr, config.workers)
        worth = np.flatnonzero(keep)
        if not len(worth):
            continue
        feats = compare_pairs(*s.frames, cl[worth], cr[worth], s.tokens, config.workers, jw[worth])
        chunk_scores = config.model.score(feats)
        scores[start + worth] = chunk_scores
        high = chunk_scores >= keep_features_from
        feats = feats.loc[high].reset_index(drop=True)
        feats.insert(0, "pos", start + worth[high])
        kept_frames.append(feats)
    if kept_frames:
        kept = pd.concat(kept_frames, ignore_index=True)
    else:
        kept = pd.DataFrame({"pos": np.array([], dtype=np.int64), **{f: np.array([], np.float32)
                                                                     for f in FEATURES}})
    return scores, kept


def _score_subset(s: _Sides, li: np.ndarray, ri: np.ndarray, config: MatchConfig, keep_features_from: float):
    """`_score` on only the records these pairs touch (features are pairwise, so scores are the same)."""
    left_rows, li_local = np.unique(li, return_inverse=True)
    right_rows, ri_local = np.unique(ri, return_inverse=True)
    sub = _Sides(s.left.iloc[left_rows], s.right.iloc[right_rows])
    return _score(sub, li_local.astype(np.int64), ri_local.astype(np.int64), config, keep_features_from)


def _scored_frame(s: _Sides, cands: pd.DataFrame, scores: np.ndarray, kept: pd.DataFrame) -> pd.DataFrame:
    """Pairs worth reviewing: ids, passes, score and features."""
    pos = kept["pos"].to_numpy()
    out = kept.drop(columns="pos")
    out.insert(0, "left_id", s.left_ids[cands["li"].to_numpy()[pos]])
    out.insert(1, "right_id", s.right_ids[cands["ri"].to_numpy()[pos]])
    out.insert(2, "passes", cands["passes"].to_numpy()[pos])
    out.insert(3, "score", scores[pos])
    return out


# --- assignment and output ---------------------------------------------------------------------------


def _finish(scored: pd.DataFrame, config: MatchConfig, confirmed: set, rejected: set) -> pd.DataFrame:
    """Reviewed pairs win, then greedy one-to-one over the rest, then statuses and reasons."""
    scored = scored.loc[scored["score"] >= config.review_threshold].reset_index(drop=True)
    if rejected and len(scored):
        is_rejected = pd.MultiIndex.from_frame(scored[["left_id", "right_id"]]).isin(list(rejected))
        scored = scored.loc[~is_rejected].reset_index(drop=True)
    confirmed = confirmed - rejected  # a pair in both sets: the rejection wins, nothing is shared
    confirmed_frame = pd.DataFrame(sorted(confirmed, key=repr), columns=["left_id", "right_id"])
    if confirmed:
        keys = pd.MultiIndex.from_frame(scored[["left_id", "right_id"]])
        is_confirmed = keys.isin(list(confirmed))
        # confirmed pairs keep their features when the engine scored them too
        confirmed_frame = confirmed_frame.merge(scored.loc[is_confirmed], on=["left_id", "right_id"],
                                                how="left")
        taken_l, taken_r = set(confirmed_frame["left_id"]), set(confirmed_frame["right_id"])
        scored = scored.loc[~is_confirmed & ~scored["left_id"].isin(taken_l)
                            & ~scored["right_id"].isin(taken_r)].reset_index(drop=True)
        confirmed_frame["score"] = 1.0
        confirmed_frame["passes"] = confirmed_frame["passes"].fillna(0).astype(np.int32)
        confirmed_frame["confirmed"] = True
    # ids ranked in sorted order break score ties the same way in every run mode
    l_rank = pd.factorize(scored["left_id"], sort=True)[0]
    r_rank = pd.factorize(scored["right_id"], sort=True)[0]
    assign = max_weight_one_to_one if config.assignment == "max-weight" else greedy_one_to_one
    chosen = scored.iloc[assign(l_rank, r_rank, scored["score"].to_numpy())]
    chosen = chosen.assign(confirmed=False)
    result = pd.concat([confirmed_frame, chosen], ignore_index=True) if confirmed else chosen
    result = result.sort_values(["score", "left_id", "right_id"], ascending=[False, True, True],
                                kind="stable").reset_index(drop=True)
    result["status"] = np.where(result["score"] >= config.threshold, STATUS_MATCH, STATUS_REVIEW)
    result["reasons"] = reasons(result)
    result["passes"] = result["passes"].astype(np.int32)
    return result[list(RESULT_COLUMNS)]


# --- public API --------------------------------------------------------------------------------------


@dataclass
class MatchState:
    """What an incremental run reuses: the score of every candidate pair of the previous run."""

    scores: pd.DataFrame  # left_id, right_id, score
    model: ScoringModel = field(default=None)  # scores are only reusable under the same model


def match(left: pd.DataFrame, right: pd.DataFrame, config: MatchConfig | None = None, *,
          confirmed: Iterable | None = None, rejected: Iterable | None = None,
          return_state: bool = False):
    """Match two account lists; see the package docstring for columns."""
    config = config or MatchConfig()
    s = _Sides(ensure_prepared(left), ensure_prepared(right))
    cands = candidate_pairs(s.left, s.right, config)
    scores, kept = _score(s, cands["li"].to_numpy(), cands["ri"].to_numpy(), config, config.review_threshold)
    result = _finish(_scored_frame(s, cands, scores, kept), config, _pair_set(confirmed), _pair_set(rejected))
    result.attrs["candidate_pairs"] = len(cands)
    if not return_state:
        return result
    state = MatchState(
        scores=pd.DataFrame({"left_id": s.left_ids[cands["li"].to_numpy()],
                             "right_id": s.right_ids[cands["ri"].to_numpy()], "score": scores}),
        model=config.model,
    )
    return result, state


def match_incremental(left: pd.DataFrame, right: pd.DataFrame, state: MatchState,
                      config: MatchConfig | None = None, *, changed_left: Iterable = (),
                      changed_right: Iterable = (), confirmed: Iterable | None = None,
                      rejected: Iterable | None = None):
    """Re-match after some records changed; returns (result, new_state), equal to a full `match`.

    `left`/`right` are the full current lists; `changed_*` the ids of added or edited records.
    Removed records are simply absent from the frames: their pairs drop out.  The candidate index
    is rebuilt over the full lists (integer merges, cheap); only pairs that are new or touch a changed
    record are compared and scored, every other pair keeps its previous score.
    """
    config = config or MatchConfig()
    if state is None or state.model != config.model:
        return match(left, right, config, confirmed=confirmed, rejected=rejected, return_state=True)
    s = _Sides(ensure_prepared(left), ensure_prepared(right))
    n_r = max(len(s.right_ids), 1)
    cands = candidate_pairs(s.left, s.right, config)
    li, ri = cands["li"].to_numpy(), cands["ri"].to_numpy()

    # previous scores, re-keyed to current positions; pairs touching changed records are stale
    old = state.scores
    lpos = s.left.index.get_indexer(old["left_id"])
    rpos = s.right.index.get_indexer(old["right_id"])
    dirty_l = np.zeros(len(s.left_ids) + 1, dtype=bool)
    dirty_r = np.zeros(len(s.right_ids) + 1, dtype=bool)
    dirty_l[s.left.index.get_indexer(list(changed_left))] = True
    dirty_r[s.right.index.get_indexer(list(changed_right))] = True
    dirty_l[-1] = dirty_r[-1] = True  # get_indexer's -1: unknown or removed ids
    valid = ~dirty_l[lpos] & ~dirty_r[rpos]
    known_codes = lpos[valid].astype(np.int64) * n_r + rpos[valid]
    known_scores = old["score"].to_numpy()[valid]
    order = np.argsort(known_codes)
    known_codes, known_scores = known_codes[order], known_scores[order]

    codes = li * n_r + ri
    at = np.searchsorted(known_codes, codes)
    at_clipped = np.minimum(at, max(len(known_codes) - 1, 0))
    found = (at < len(known_codes)) & (known_codes[at_clipped] == codes) if len(known_codes) else \
        np.zeros(len(codes), dtype=bool)
    scores = np.zeros(len(codes), dtype=np.float64)
    scores[found] = known_scores[at_clipped[found]]

    fresh = np.flatnonzero(~found)
    fresh_scores, _ = _score_subset(s, li[fresh], ri[fresh], config, np.inf)
    scores[fresh] = fresh_scores
    # features (for reasons) of every pair in the review band, fresh or reused
    need = np.flatnonzero(scores >= config.review_threshold)
    _, kept = _score_subset(s, li[need], ri[need], config, -np.inf)
    kept["pos"] = need[kept["pos"].to_numpy()]
    result = _finish(_scored_frame(s, cands, scores, kept), config, _pair_set(confirmed), _pair_set(rejected))
    new_state = MatchState(
        scores=pd.DataFrame({"left_id": s.left_ids[li], "right_id": s.right_ids[ri], "score": scores}),
        model=config.model,
    )
    return result, new_state


# --- fan-out -----------------------------------------------------------------------------------------


@dataclass
class MatchBlock:
    """An independent piece of work: a subset of the candidate pairs and the records they touch."""

    left: pd.DataFrame
    right: pd.DataFrame
    left_ids: np.ndarray
    right_ids: np.ndarray
    passes: np.ndarray


def split_blocks(left: pd.DataFrame, right: pd.DataFrame, n: int,
                 config: MatchConfig | None = None) -> list[MatchBlock]:
    """Cut one matching job into `n` blocks; each candidate pair lands in exactly one block.

    The candidate index is built once (it needs both whole lists for sorted neighbourhood); pairs are
    dealt to blocks by left record, so a block carries each of its left records once.
    Run each with `match_block`, then combine with `merge_block_results`.
    """
    config = config or MatchConfig()
    left, right = ensure_prepared(left), ensure_prepared(right)
    cands = candidate_pairs(left, right, config)
    li, ri = cands["li"].to_numpy(), cands["ri"].to_numpy()
    block_of = li % max(n, 1)
    blocks = []
    for b in range(max(n, 1)):
        sel = np.flatnonzero(block_of == b)
        l_ids, r_ids = left.index.to_numpy()[li[sel]], right.index.to_numpy()[ri[sel]]
        blocks.append(MatchBlock(
            left=left.iloc[np.unique(li[sel])][list(NORMALIZED_COLUMNS)],
            right=right.iloc[np.unique(ri[sel])][list(NORMALIZED_COLUMNS)],
            left_ids=l_ids, right_ids=r_ids, passes=cands["passes"].to_numpy()[sel],
        ))
    return blocks


def match_block(block: MatchBlock, config: MatchConfig | None = None) -> pd.DataFrame:
    """Score one block's pairs; returns the pairs worth keeping (score >= review threshold)."""
    config = config or MatchConfig()
    s = _Sides(block.left, block.right)
    cands = pd.DataFrame({"li": block.left.index.get_indexer(block.left_ids),
                          "ri": block.right.index.get_indexer(block.right_ids), "passes": block.passes})
    scores, kept = _score(s, cands["li"].to_numpy(), cands["ri"].to_numpy(), config, config.review_threshold)
    return _scored_frame(s, cands, scores, kept)


def merge_block_results(results: Iterable[pd.DataFrame], config: MatchConfig | None = None, *,
                        confirmed: Iterable | None = None, rejected: Iterable | None = None) -> pd.DataFrame:
    """One-to-one over the union of the blocks' pairs; equal to `match` on the whole lists."""
    config = config or MatchConfig()
    frames = [r for r in results if len(r)]
    scored = pd.concat(frames, ignore_index=True) if frames else _empty_scored()
    scored = scored.drop_duplicates(["left_id", "right_id"])  # a re-delivered block changes nothing
    return _finish(scored, config, _pair_set(confirmed), _pair_set(rejected))


def _empty_scored() -> pd.DataFrame:
    return pd.DataFrame({"left_id": [], "right_id": [], "passes": np.array([], np.int32),
                         "score": np.array([], np.float64), **{f: np.array([], np.float32) for f in FEATURES}})


# --- training ----------------------------------------------------------------------------------------


def pair_features(left: pd.DataFrame, right: pd.DataFrame, pairs: pd.DataFrame,
                  config: MatchConfig | None = None) -> pd.DataFrame:
    """Features of given (left_id, right_id) pairs, whether or not blocking would propose them."""
    config = config or MatchConfig()
    s = _Sides(ensure_prepared(left), ensure_prepared(right))
    li = s.left.index.get_indexer(pairs["left_id"])
    ri = s.right.index.get_indexer(pairs["right_id"])
    if (li < 0).any() or (ri < 0).any():
        raise KeyError("labelled pairs refer to ids that are not in the lists")
    return compare_pairs(*s.frames, li, ri, s.tokens, config.workers)


def train(left: pd.DataFrame, right: pd.DataFrame, labelled_pairs: pd.DataFrame,
          config: MatchConfig | None = None) -> ScoringModel:
    """Fit the logistic model on labelled pairs (columns left_id, right_id, is_match).

    Use the result as `MatchConfig(model=...)`.
    """
    features = pair_features(left, right, labelled_pairs, config)
    return train_model(features, labelled_pairs["is_match"].to_numpy())
