"""The matching pipeline: prepare -> candidate pairs -> compare -> classify -> one-to-one -> explain."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz.distance import JaroWinkler

from .assign import greedy_one_to_one, max_weight_one_to_one
from .blocking import BIT_DTYPE, BlockingIndex, Candidates, Mapping, candidate_pairs, public_passes, union
from .config import MatchConfig
from .explain import reasons
from .features import FEATURES, TokenTable, compare_pairs, comparison_frames, pair_similarity, stem_name_pairs
from .prepare import NORMALIZED_COLUMNS, prepare
from .reliability import ListContext, learn_context
from .scoring import UNRELATED_CONTAINMENT, UNRELATED_NAME_SIMILARITY, UNRELATED_TOKEN_OVERLAP, ScoringModel

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
    """Column arrays of both prepared frames, plus what several steps share.

    `context` is what was learned from the two whole lists (word weights, unreliable domains); it is
    learned here when not given, which is right only when these frames are the whole lists.
    """

    def __init__(self, left: pd.DataFrame, right: pd.DataFrame, context: ListContext | None = None):
        self.left, self.right = left, right
        self.left_ids, self.right_ids = left.index.to_numpy(), right.index.to_numpy()
        self.name_l = left["name_norm"].to_numpy(dtype=object)
        self.name_r = right["name_norm"].to_numpy(dtype=object)
        self._tokens: TokenTable | None = None
        self._frames: tuple[pd.DataFrame, pd.DataFrame] | None = None
        if context is None:  # the word table learns the weights on the way
            self._tokens = TokenTable(self.name_l, self.name_r)
            context = learn_context(left, right, self._tokens)
        self.context = context

    @property
    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        if self._frames is None:
            self._frames = comparison_frames(
                self.left,
                self.right,
                self.context.junk(self.left, "left"),
                self.context.junk(self.right, "right"),
            )
        return self._frames

    @property
    def tokens(self) -> TokenTable:
        if self._tokens is None:
            self._tokens = TokenTable(self.name_l, self.name_r, self.context.weights)
        return self._tokens


def _worth_comparing(s: _Sides, li: np.ndarray, ri: np.ndarray, workers: int):
    """Mask of pairs the 'unrelated' rule does not already decide (it would score them 0).

    Mirrors scoring.rules exactly, computing only the cheap features, so skipping these pairs changes
    no score.  Also returns the names' Jaro-Winkler similarity and word overlap (Dice, containment),
    reused by the full comparison.
    """
    a, b = s.frames

    def agree(column):
        x, y = a[column].to_numpy()[li], b[column].to_numpy()[ri]
        return (x >= 0) & (x == y)

    jw = pair_similarity(a, b, "name_norm", li, ri, scorer=JaroWinkler.normalized_similarity, workers=workers)
    keep = (
        (jw >= UNRELATED_NAME_SIMILARITY)
        | agree("domain_eff_code")
        | agree("stem_code")
        | agree("crm_id_norm_code")
    )
    dice, contain = s.tokens.overlap(li, ri)
    keep |= (dice >= UNRELATED_TOKEN_OVERLAP) | (contain >= UNRELATED_CONTAINMENT)
    maybe = np.flatnonzero(
        ~keep & ((a["stem_code"].to_numpy()[li] < 0) | (b["stem_code"].to_numpy()[ri] < 0))
    )
    if len(maybe):
        stem_name = stem_name_pairs(a, b, li[maybe], ri[maybe], workers=workers)
        keep[maybe[stem_name >= 0.8]] = True
    return keep, jw, dice, contain


def _score(
    s: _Sides, li: np.ndarray, ri: np.ndarray, config: MatchConfig, keep_features_from: float
) -> tuple[np.ndarray, pd.DataFrame]:
    """Scores of all pairs, and features of those scoring >= keep_features_from (positions `kept`)."""
    scores = np.zeros(len(li), dtype=np.float64)
    kept_frames = []
    for start in range(0, len(li), config.chunk_size):
        cl, cr = li[start : start + config.chunk_size], ri[start : start + config.chunk_size]
        keep, jw, dice, contain = _worth_comparing(s, cl, cr, config.workers)
        worth = np.flatnonzero(keep)
        if not len(worth):
            continue
        feats = compare_pairs(
            *s.frames,
            cl[worth],
            cr[worth],
            s.tokens,
            config.workers,
            jw[worth],
            (dice[worth], contain[worth]),
        )
        chunk_scores = config.model.score(feats)
        scores[start + worth] = chunk_scores
        high = chunk_scores >= keep_features_from
        feats = feats.loc[high].reset_index(drop=True)
        feats.insert(0, "pos", start + worth[high])
        feats["words"] = s.tokens.agreed_words(cl[worth[high]], cr[worth[high]])
        kept_frames.append(feats)
    if kept_frames:
        kept = pd.concat(kept_frames, ignore_index=True)
    else:
        kept = _features_frame(np.array([], dtype=np.int64), np.zeros((0, len(FEATURES)), np.float32), [])
    return scores, kept


def _score_subset(s: _Sides, li: np.ndarray, ri: np.ndarray, config: MatchConfig, keep_features_from: float):
    """`_score` on only the records these pairs touch (features are pairwise, so scores are the same)."""
    left_rows, li_local = np.unique(li, return_inverse=True)
    right_rows, ri_local = np.unique(ri, return_inverse=True)
    sub = _Sides(s.left.iloc[left_rows], s.right.iloc[right_rows], s.context)
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
        confirmed_frame = confirmed_frame.merge(
            scored.loc[is_confirmed], on=["left_id", "right_id"], how="left"
        )
        taken_l, taken_r = set(confirmed_frame["left_id"]), set(confirmed_frame["right_id"])
        scored = scored.loc[
            ~is_confirmed & ~scored["left_id"].isin(taken_l) & ~scored["right_id"].isin(taken_r)
        ].reset_index(drop=True)
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
    result = result.sort_values(
        ["score", "left_id", "right_id"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
    result["status"] = np.where(result["score"] >= config.threshold, STATUS_MATCH, STATUS_REVIEW)
    result["reasons"] = reasons(result)
    result["passes"] = result["passes"].astype(np.int32)
    return result[list(RESULT_COLUMNS)]


# --- public API --------------------------------------------------------------------------------------


STATE_VERSION = 3


@dataclass
class MatchState:
    """What an incremental run reuses (picklable): the blocking keys of every record, every candidate
    pair with its pass bits and score, and the features of the pairs worth reviewing.

    Pairs are stored by record position in `left_ids` / `right_ids`, sorted by (left, right).
    """

    left_ids: np.ndarray
    right_ids: np.ndarray
    index: BlockingIndex | None
    pair_l: np.ndarray  # int32 positions
    pair_r: np.ndarray
    bits: np.ndarray  # internal pass bits (blocking.BIT_DTYPE)
    score: np.ndarray  # float64
    feat_pos: np.ndarray  # positions (into the pairs) of the pairs that have features
    features: np.ndarray  # float32, one row per feat_pos, columns FEATURES
    feature_threshold: float  # pairs scoring >= this have features
    model: ScoringModel = field(default=None)  # scores are only reusable under the same model
    words: list = field(default_factory=list)  # per feat_pos: the rare words the names agree on
    context: ListContext | None = None  # what the run learned from the whole lists
    version: int = STATE_VERSION
    pandas_version: str = pd.__version__  # blocking keys are pandas' stable hashes

    @property
    def scores(self) -> pd.DataFrame:
        """left_id, right_id, score of every candidate pair."""
        return pd.DataFrame(
            {
                "left_id": self.left_ids[self.pair_l],
                "right_id": self.right_ids[self.pair_r],
                "score": self.score,
            }
        )


def _reusable(state, config: MatchConfig) -> bool:
    # the instance's own version: a pickle of an older MatchState lacks it (the class default would lie)
    if state is None or getattr(state, "__dict__", {}).get("version") != STATE_VERSION:
        return False
    return (
        state.pandas_version == pd.__version__
        and state.model == config.model
        and isinstance(state.context, ListContext)
        and state.index is not None
        and state.index.window == config.window
        and state.index.max_block_pairs == config.max_block_pairs
        and config.review_threshold >= state.feature_threshold
    )


def _features_frame(pos: np.ndarray, features: np.ndarray, words) -> pd.DataFrame:
    frame = pd.DataFrame(features, columns=list(FEATURES))
    frame.insert(0, "pos", pos)
    frame["words"] = np.asarray(words, dtype=object) if len(words) else np.zeros(0, dtype=object)
    return frame


def _state(s: _Sides, index, cands, scores, kept: pd.DataFrame, config: MatchConfig) -> MatchState:
    return MatchState(
        left_ids=s.left_ids,
        right_ids=s.right_ids,
        index=index,
        pair_l=cands.li.astype(np.int32),
        pair_r=cands.ri.astype(np.int32),
        bits=cands.bits,
        score=scores,
        feat_pos=kept["pos"].to_numpy(np.int64),
        features=kept[list(FEATURES)].to_numpy(np.float32),
        feature_threshold=config.review_threshold,
        model=config.model,
        words=kept["words"].tolist(),
        context=s.context,
    )


def _result(s: _Sides, cands, scores, kept, config, confirmed, rejected) -> pd.DataFrame:
    frame = cands_frame(cands)
    result = _finish(_scored_frame(s, frame, scores, kept), config, _pair_set(confirmed), _pair_set(rejected))
    result.attrs["candidate_pairs"] = len(frame)
    return result


def cands_frame(cands) -> pd.DataFrame:
    return pd.DataFrame({"li": cands.li, "ri": cands.ri, "passes": public_passes(cands.bits)})


def match(
    left: pd.DataFrame,
    right: pd.DataFrame,
    config: MatchConfig | None = None,
    *,
    confirmed: Iterable | None = None,
    rejected: Iterable | None = None,
    return_state: bool = False,
):
    """Match two account lists; see the package docstring for columns."""
    config = config or MatchConfig()
    s = _Sides(ensure_prepared(left), ensure_prepared(right))
    index, raw = BlockingIndex.build(s.left, s.right, config, s.tokens)
    cands = union(raw, len(s.right_ids))
    del raw
    scores, kept = _score(s, cands.li, cands.ri, config, config.review_threshold)
    result = _result(s, cands, scores, kept, config, confirmed, rejected)
    if not return_state:
        return result
    return result, _state(s, index, cands, scores, kept, config)


def match_incremental(
    left: pd.DataFrame,
    right: pd.DataFrame,
    state: MatchState,
    config: MatchConfig | None = None,
    *,
    changed_left: Iterable = (),
    changed_right: Iterable = (),
    confirmed: Iterable | None = None,
    rejected: Iterable | None = None,
):
    """Re-match after some records changed; returns (result, new_state), equal to a full `match`.

    `left`/`right` are the full current lists; `changed_*` the ids of added or edited records
    (records absent from the previous run count as added).  Removed records are simply absent from
    the frames: their pairs drop out.  Only the changed records are re-keyed and re-blocked
    (`BlockingIndex.update`), only pairs that are new or touch a changed record are compared and
    scored; every other pair keeps its previous passes, score and features.  A state from another
    engine version, model, window, cap or a higher review threshold means a full run.
    """
    config = config or MatchConfig()
    if not _reusable(state, config):
        return match(left, right, config, confirmed=confirmed, rejected=rejected, return_state=True)
    s = _Sides(ensure_prepared(left), ensure_prepared(right))
    rejudged = _rejudged(state, s)
    if rejudged is None:  # the lists' size moved a step: every word weight may have changed
        return match(left, right, config, confirmed=confirmed, rejected=rejected, return_state=True)
    changed_left = [*changed_left, *rejudged[0]]
    changed_right = [*changed_right, *rejudged[1]]
    n_r = max(len(s.right_ids), 1)
    m = Mapping.between(
        state.left_ids, state.right_ids, s.left.index, s.right.index, changed_left, changed_right
    )
    index, fresh, stale = state.index.update(s.left, s.right, m, s.tokens)
    fresh = union(fresh, n_r)

    # previous pairs of unchanged records, in current positions, losing the bits of stale passes
    nl = m.new_of_old_l[state.pair_l]
    nr = m.new_of_old_r[state.pair_r]
    old = np.flatnonzero((nl >= 0) & (nr >= 0))
    nl, nr, bits = nl[old], nr[old], state.bits[old].copy()
    for bit, (zone_l, zone_r) in stale.items():
        lose = zone_l[nl] if zone_r is None else zone_l[nl] & zone_r[nr]
        bits[lose & ((bits & bit) != 0)] ^= BIT_DTYPE(bit)
    codes = nl * n_r + nr
    if len(codes) > 1 and not (codes[1:] > codes[:-1]).all():  # records were reordered
        order = np.argsort(codes)
        old, nl, nr, bits, codes = old[order], nl[order], nr[order], bits[order], codes[order]
    # fresh pairs that were already there only add their bits
    fresh_codes = fresh.li * n_r + fresh.ri
    at = np.searchsorted(codes, fresh_codes)
    found = at < len(codes)
    found[found] = codes[at[found]] == fresh_codes[found]
    np.bitwise_or.at(bits, at[found], fresh.bits[found])
    live = bits != 0
    old, codes, bits = old[live], codes[live], bits[live]
    new = np.flatnonzero(~found)
    new_codes = fresh_codes[new]
    # merge the two sorted runs
    insert_at = np.searchsorted(codes, new_codes) + np.arange(len(new))
    is_new = np.zeros(len(codes) + len(new), dtype=bool)
    is_new[insert_at] = True
    all_codes = np.empty(len(is_new), dtype=np.int64)
    all_codes[is_new], all_codes[~is_new] = new_codes, codes
    all_bits = np.empty(len(is_new), dtype=BIT_DTYPE)
    all_bits[is_new], all_bits[~is_new] = fresh.bits[new], bits
    cands = Candidates(all_codes // n_r, all_codes % n_r, all_bits)

    # scores: reused, or computed for the new pairs
    scores = np.empty(len(is_new), dtype=np.float64)
    scores[~is_new] = state.score[old]
    new_scores, new_kept = _score_subset(
        s, cands.li[is_new], cands.ri[is_new], config, config.review_threshold
    )
    scores[is_new] = new_scores
    # features: the previous ones of reused pairs, the fresh ones of new pairs
    feat_row = np.full(len(state.score), -1, dtype=np.int64)
    feat_row[state.feat_pos] = np.arange(len(state.feat_pos))
    rows_old = feat_row[old]
    has = np.flatnonzero(rows_old >= 0)
    old_final = np.flatnonzero(~is_new)[has]
    old_feats = state.features[rows_old[has]]
    old_words = (
        np.asarray(state.words, dtype=object)[rows_old[has]] if len(has) else np.zeros(0, dtype=object)
    )
    keep = state.score[old[has]] >= config.review_threshold
    new_final = np.flatnonzero(is_new)[new_kept["pos"].to_numpy()]
    pos = np.concatenate([old_final[keep], new_final])
    feats = np.concatenate([old_feats[keep], new_kept[list(FEATURES)].to_numpy(np.float32)])
    words = np.concatenate([old_words[keep], new_kept["words"].to_numpy(dtype=object)])
    order = np.argsort(pos, kind="stable")
    kept = _features_frame(pos[order], feats[order], words[order])
    result = _result(s, cands, scores, kept, config, confirmed, rejected)
    return result, _state(s, index, cands, scores, kept, config)


def _rejudged(state: MatchState, s: _Sides):
    """(left ids, right ids) of unchanged records whose pairs the lists' context now judges otherwise: a
    word of their name weighs differently, or their domain became (un)reliable.  None: re-score all."""
    changed_words = s.context.weights.changed_words(state.context.weights)
    if changed_words is None:
        return None
    out = []
    for side, frame, ids in (("left", s.left, s.left_ids), ("right", s.right, s.right_ids)):
        dirty = state.context.junk(frame, side) != s.context.junk(frame, side)
        if len(changed_words):
            dirty |= np.isin(s.tokens.record_words(side), changed_words).any(axis=1)
        out.append(ids[dirty].tolist())
    return out


# --- fan-out -----------------------------------------------------------------------------------------


@dataclass
class MatchBlock:
    """An independent piece of work: a subset of the candidate pairs and the records they touch."""

    left: pd.DataFrame
    right: pd.DataFrame
    left_ids: np.ndarray
    right_ids: np.ndarray
    passes: np.ndarray
    # learned from the whole lists (word weights, unreliable domains); None: from the block alone, which
    # scores like `match` only when the block holds the whole lists
    context: ListContext | None = None


def split_blocks(
    left: pd.DataFrame, right: pd.DataFrame, n: int, config: MatchConfig | None = None
) -> list[MatchBlock]:
    """Cut one matching job into `n` blocks; each candidate pair lands in exactly one block.

    The candidate index is built once (it needs both whole lists for sorted neighbourhood); pairs are
    dealt to blocks by left record, so a block carries each of its left records once.
    Run each with `match_block`, then combine with `merge_block_results`.
    """
    config = config or MatchConfig()
    left, right = ensure_prepared(left), ensure_prepared(right)
    cands = candidate_pairs(left, right, config)
    context = _Sides(left, right).context
    li, ri = cands["li"].to_numpy(), cands["ri"].to_numpy()
    block_of = li % max(n, 1)
    blocks = []
    for b in range(max(n, 1)):
        sel = np.flatnonzero(block_of == b)
        l_ids, r_ids = left.index.to_numpy()[li[sel]], right.index.to_numpy()[ri[sel]]
        blocks.append(
            MatchBlock(
                left=left.iloc[np.unique(li[sel])][list(NORMALIZED_COLUMNS)],
                right=right.iloc[np.unique(ri[sel])][list(NORMALIZED_COLUMNS)],
                left_ids=l_ids,
                right_ids=r_ids,
                passes=cands["passes"].to_numpy()[sel],
                context=context,
            )
        )
    return blocks


def match_block(block: MatchBlock, config: MatchConfig | None = None) -> pd.DataFrame:
    """Score one block's pairs; returns the pairs worth keeping (score >= review threshold)."""
    config = config or MatchConfig()
    s = _Sides(block.left, block.right, block.context)
    cands = pd.DataFrame(
        {
            "li": block.left.index.get_indexer(block.left_ids),
            "ri": block.right.index.get_indexer(block.right_ids),
            "passes": block.passes,
        }
    )
    scores, kept = _score(s, cands["li"].to_numpy(), cands["ri"].to_numpy(), config, config.review_threshold)
    return _scored_frame(s, cands, scores, kept)


def merge_block_results(
    results: Iterable[pd.DataFrame],
    config: MatchConfig | None = None,
    *,
    confirmed: Iterable | None = None,
    rejected: Iterable | None = None,
) -> pd.DataFrame:
    """One-to-one over the union of the blocks' pairs; equal to `match` on the whole lists."""
    config = config or MatchConfig()
    frames = [r for r in results if len(r)]
    scored = pd.concat(frames, ignore_index=True) if frames else _empty_scored()
    scored = scored.drop_duplicates(["left_id", "right_id"])  # a re-delivered block changes nothing
    return _finish(scored, config, _pair_set(confirmed), _pair_set(rejected))


def _empty_scored() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "left_id": [],
            "right_id": [],
            "passes": np.array([], np.int32),
            "score": np.array([], np.float64),
            **{f: np.array([], np.float32) for f in FEATURES},
            "words": np.zeros(0, dtype=object),
        }
    )


# --- training ----------------------------------------------------------------------------------------


def pair_features(
    left: pd.DataFrame, right: pd.DataFrame, pairs: pd.DataFrame, config: MatchConfig | None = None
) -> pd.DataFrame:
    """Features of given (left_id, right_id) pairs, whether or not blocking would propose them."""
    config = config or MatchConfig()
    s = _Sides(ensure_prepared(left), ensure_prepared(right))
    li = s.left.index.get_indexer(pairs["left_id"])
    ri = s.right.index.get_indexer(pairs["right_id"])
    if (li < 0).any() or (ri < 0).any():
        raise KeyError("labelled pairs refer to ids that are not in the lists")
    return compare_pairs(*s.frames, li, ri, s.tokens, config.workers)


def _pair_index(left_ids, right_ids) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([left_ids, right_ids], names=["left_id", "right_id"])


def train(
    left: pd.DataFrame, right: pd.DataFrame, labelled_pairs: pd.DataFrame, config: MatchConfig | None = None
) -> ScoringModel:
    """Fit the logistic model on labelled pairs (columns left_id, right_id, is_match).

    recordlinkage's LogisticRegressionClassifier is fitted on the pairs' features (indexed by a
    (left_id, right_id) MultiIndex, the matches as its match index); its coefficients and intercept
    become the ScoringModel's weights and bias (origin 'recordlinkage.LogisticRegressionClassifier').
    Use the result as `MatchConfig(model=...)`.
    """
    from .learn import fit_logistic, to_scoring_model

    features = pair_features(left, right, labelled_pairs, config)
    features.index = _pair_index(labelled_pairs["left_id"].to_numpy(), labelled_pairs["right_id"].to_numpy())
    return to_scoring_model(fit_logistic(features, labelled_pairs["is_match"].to_numpy()))


def train_unsupervised(
    left: pd.DataFrame,
    right: pd.DataFrame,
    config: MatchConfig | None = None,
    *,
    sample: int | None = 200_000,
    seed: int = 0,
) -> ScoringModel:
    """Fit a ScoringModel without labels: recordlinkage's ECMClassifier on candidate pairs.

    The pairs blocking proposes (as `match` would, under `config`) are sampled (`sample` of them, None =
    all; `seed` makes it repeatable) and compared; the ECM (Fellegi-Sunter, fitted by EM) learns from
    their binary agreement vectors, and its match probabilities are distilled into a logistic model on
    the continuous features (see learn.py), origin 'recordlinkage.ECMClassifier ->
    recordlinkage.LogisticRegressionClassifier'.  Use the result as `MatchConfig(model=...)`.
    """
    from .learn import fit_unsupervised

    config = config or MatchConfig()
    s = _Sides(ensure_prepared(left), ensure_prepared(right))
    if len(s.left_ids) == 0 or len(s.right_ids) == 0:
        raise ValueError("both lists must hold records")
    _, raw = BlockingIndex.build(s.left, s.right, config)
    cands = union(raw, len(s.right_ids))
    del raw
    li, ri = cands.li, cands.ri
    if sample is not None and len(li) > sample:
        keep = np.sort(np.random.default_rng(seed).choice(len(li), size=sample, replace=False))
        li, ri = li[keep], ri[keep]
    features = compare_pairs(*s.frames, li, ri, s.tokens, config.workers)
    features.index = _pair_index(s.left_ids[li], s.right_ids[ri])
    model, _ecm, _logistic = fit_unsupervised(features)
    return model
