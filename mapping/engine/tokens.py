"""Name words: their weights, learned from the two lists at hand, and their overlap between two names.

Weights.  A word that stands on many records of a list ("inc", "group", "class", "shares", a currency
code, "school") says little when two names share it; a word few records hold says a lot.  Each list's
document frequency gives an inverse-document-frequency weight in [WEIGHT_FLOOR, 1],

    w_side(t) = 1 - log2(df_side(t)) / log2(max(n_side, MIN_LIST))      (df and the ratio quantized)

and a word weighs the smaller of its two lists' weights: a word common in either list is common.
`MIN_LIST` is a prior: a list of a dozen records cannot show that a word is common.  The document
frequencies are quantized (half-octaves), so a weight moves only when a word's frequency crosses a
step; an incremental run re-scores the pairs of records holding a word whose weight moved, which
keeps it equal to a full run (engine.match_incremental).

Overlap.  Names are a fixed-width matrix of word ids shared by both lists.  Two words agree when they
are equal, or when one is an abbreviation of the other: a word of 2 to MAX_ABBREVIATION characters
that starts the other side's longer word ("techn" / "technology", "sys" / "systems", "nor" /
"nordic", "mak" / "makmur"); an abbreviation agrees for ABBREVIATION_CREDIT of its weight.  The
weighted Dice overlap and the containment (the share of one name's weight that the other holds, which
tolerates extra words on one side) are vectorised over pair batches.  The heaviest words left unmatched
on each side still agree when they are one typo apart (a soft TF-IDF in the manner of Cohen, Ravikumar
and Fienberg, on one word pair per name pair so it stays one batch call).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

MAX_TOKENS = 6
MAX_ABBREVIATION = 7
MIN_ABBREVIATION = 2
ABBREVIATION_CREDIT = np.float32(0.9)
MIN_LIST = 1024
WEIGHT_FLOOR = np.float32(0.05)
TYPO_SIMILARITY = 0.88
TYPO_MIN_LENGTH = 4
# Words at least this heavy are the "rare words" an explanation names.
RARE_WEIGHT = 0.5


def _hash(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=object)
    if len(values) == 0:
        return np.zeros(0, np.uint64)
    return pd.util.hash_array(values, categorize=False)


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=object)
    if len(values) == 0:
        return np.zeros(0, np.int64), np.zeros(0, dtype=object)
    codes, uniques = pd.factorize(_hash(values))
    first = np.empty(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(values))[::-1]
    return codes.astype(np.int64), values[first]


@dataclass
class TokenWeights:
    """Weight of each word of two lists (plain arrays: word hashes sorted, weights beside them)."""

    hashes: np.ndarray   # uint64, sorted
    weights: np.ndarray  # float32
    scale_l: int         # the lists' size steps; a change of either re-weighs every word
    scale_r: int

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Weights of words by hash; a word neither list holds weighs 1."""
        out = np.ones(len(hashes), dtype=np.float32)
        if len(self.hashes) == 0 or len(hashes) == 0:
            return out
        at = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
        found = self.hashes[at] == hashes
        out[found] = self.weights[at[found]]
        return out

    def changed_words(self, other: TokenWeights) -> np.ndarray | None:
        """Hashes of the words whose weight differs between two weightings; None when all may."""
        if (self.scale_l, self.scale_r) != (other.scale_l, other.scale_r):
            return None
        both = np.union1d(self.hashes, other.hashes)
        return both[self.lookup(both) != other.lookup(both)]


def _scale(n: int) -> int:
    return int(np.floor(np.log2(max(n, MIN_LIST))))


def _side_weights(df: np.ndarray, scale: int) -> np.ndarray:
    steps = np.floor(2 * np.log2(np.maximum(df, 1))) / 2  # half-octave steps of the frequency
    return np.clip(1 - steps / scale, WEIGHT_FLOOR, 1).astype(np.float32)


def _split_names(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(row of each word, word) of distinct names, words in order, each word once per name."""
    flat = np.array(" ".join(names).split(" "), dtype=object) if names else np.zeros(0, dtype=object)
    counts = np.fromiter((n.count(" ") + 1 for n in names), dtype=np.int64, count=len(names))
    row = np.repeat(np.arange(len(names)), counts)
    return row, flat


def learn_weights(left_names: np.ndarray, right_names: np.ndarray) -> TokenWeights:
    """Word weights from the document frequencies of the words in each list (see the module text)."""
    hashes, dfs = [], []
    for names in (left_names, right_names):
        codes, uniques = _factorize(np.asarray(names, dtype=object))
        per_name = np.bincount(codes, minlength=len(uniques)) if len(codes) else np.zeros(0, np.int64)
        row, words = _split_names(uniques.tolist())
        h = _hash(words)
        word_codes = pd.factorize(h)[0].astype(np.int64)
        keep = (words != "") & ~pd.Series(row * max(len(h), 1) + word_codes).duplicated().to_numpy()
        frame = pd.DataFrame({"h": h[keep], "n": per_name[row[keep]]})
        df = frame.groupby("h", sort=True)["n"].sum()
        hashes.append(df.index.to_numpy(np.uint64))
        dfs.append(df.to_numpy(np.int64))
    scale_l, scale_r = _scale(len(left_names)), _scale(len(right_names))
    every = np.union1d(hashes[0], hashes[1])
    w = np.ones(len(every), dtype=np.float32)
    for h, df, scale in ((hashes[0], dfs[0], scale_l), (hashes[1], dfs[1], scale_r)):
        at = np.searchsorted(every, h)
        w[at] = np.minimum(w[at], _side_weights(df, scale))
    return TokenWeights(every, w, scale_l, scale_r)


class TokenTable:
    """Names as fixed-width matrices of word ids (shared by both lists), word weights and the ids of
    each word's prefixes of MIN_ABBREVIATION..MAX_ABBREVIATION characters (same id space)."""

    def __init__(self, left_names: np.ndarray, right_names: np.ndarray, weights: TokenWeights | None = None,
                 workers: int = -1):
        self.workers = workers
        names_all = np.concatenate([np.asarray(left_names, dtype=object), np.asarray(right_names, dtype=object)])
        self.weighting = weights if weights is not None else learn_weights(left_names, right_names)
        codes, uniques = _factorize(names_all)
        names = uniques.tolist()
        row, flat = _split_names(names)
        word_codes, words = _factorize(flat)
        word_list = words.tolist()
        nonblank = np.array([t != "" for t in word_list], dtype=bool)
        keep = nonblank[word_codes] & ~pd.Series(row * max(len(words), 1) + word_codes).duplicated().to_numpy()
        row, word_codes = row[keep], word_codes[keep]
        starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]]) if len(row) else np.zeros(0, np.int64)
        col = np.arange(len(row)) - np.repeat(starts, np.diff(np.r_[starts, len(row)]))
        fits = col < MAX_TOKENS
        row, col, word_codes = row[fits], col[fits], word_codes[fits]
        # one id space for words and prefixes: a short word's id equals its prefix id in a longer word
        n_pref = MAX_ABBREVIATION - MIN_ABBREVIATION + 1
        prefixes = [[w[:k] if len(w) > k else "" for k in range(MIN_ABBREVIATION, MAX_ABBREVIATION + 1)]
                    for w in word_list]
        pref_flat = np.array([p for ps in prefixes for p in ps], dtype=object)
        ids_all, vocab = _factorize(np.concatenate([words, pref_flat]))
        blank_id = -1
        is_blank = np.array([v == "" for v in vocab.tolist()], dtype=bool)
        ids_all = np.where(is_blank[ids_all], blank_id, ids_all).astype(np.int32)
        word_id = ids_all[: len(words)]
        pref_id = ids_all[len(words):].reshape(len(words), n_pref) if len(words) else \
            np.zeros((0, n_pref), np.int32)
        length = np.fromiter((len(w) for w in word_list), dtype=np.int8, count=len(word_list))
        weight = self.weighting.lookup(_hash(words))
        self.words, self.word_weight = words, weight
        n = len(names)
        self.ids = np.full((n, MAX_TOKENS), -1, dtype=np.int32)
        self.word = np.full((n, MAX_TOKENS), -1, dtype=np.int32)   # index into self.words
        self.len = np.zeros((n, MAX_TOKENS), dtype=np.int8)
        self.w = np.zeros((n, MAX_TOKENS), dtype=np.float32)
        self.pref = np.full((n, MAX_TOKENS, n_pref), -1, dtype=np.int32)
        self.ids[row, col] = word_id[word_codes]
        self.word[row, col] = word_codes
        self.len[row, col] = length[word_codes]
        self.w[row, col] = weight[word_codes]
        self.pref[row, col] = pref_id[word_codes]
        n_left = len(left_names)
        self.left_rows, self.right_rows = codes[:n_left], codes[n_left:]

    # --- per record ---

    def record_words(self, side: str) -> np.ndarray:
        """Hashes of each record's words, (records, MAX_TOKENS), 0 where blank."""
        rows = self.left_rows if side == "left" else self.right_rows
        hashes = np.append(_hash(self.words), np.uint64(0))
        return hashes[self.word[rows]]

    # --- per pair ---

    def _matched(self, ra: np.ndarray, rb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Credit (0, ABBREVIATION_CREDIT or 1) of each word of a and of b, (pairs, MAX_TOKENS) each."""
        a_ids, b_ids = self.ids[ra], self.ids[rb]
        a_len, b_len = self.len[ra], self.len[rb]
        a_pref, b_pref = self.pref[ra], self.pref[rb]
        credit_a = np.zeros(a_ids.shape, dtype=np.float32)
        credit_b = np.zeros(b_ids.shape, dtype=np.float32)
        n = len(ra)
        pairs = np.arange(n)
        for i in range(MAX_TOKENS):
            a_col = a_ids[:, i]
            if not (a_col >= 0).any():
                break
            a_abbr = (a_len[:, i] >= MIN_ABBREVIATION) & (a_len[:, i] <= MAX_ABBREVIATION)
            a_k = np.clip(a_len[:, i].astype(np.int64) - MIN_ABBREVIATION, 0, MAX_ABBREVIATION - MIN_ABBREVIATION)
            for j in range(MAX_TOKENS):
                b_col = b_ids[:, j]
                exact = (a_col >= 0) & (a_col == b_col)
                # a's word starts b's longer word, or b's word starts a's
                a_in_b = a_abbr & (a_col >= 0) & (a_col == b_pref[pairs, j, a_k])
                b_k = np.clip(b_len[:, j].astype(np.int64) - MIN_ABBREVIATION, 0,
                              MAX_ABBREVIATION - MIN_ABBREVIATION)
                b_abbr = (b_len[:, j] >= MIN_ABBREVIATION) & (b_len[:, j] <= MAX_ABBREVIATION)
                b_in_a = b_abbr & (b_col >= 0) & (b_col == a_pref[pairs, i, b_k])
                c = np.where(exact, np.float32(1), np.where(a_in_b | b_in_a, ABBREVIATION_CREDIT, np.float32(0)))
                np.maximum(credit_a[:, i], c, out=credit_a[:, i])
                np.maximum(credit_b[:, j], c, out=credit_b[:, j])
        return credit_a, credit_b

    def _misspelt(self, ra, rb, credit_a, credit_b, wa, wb) -> None:
        """Credit the heaviest unmatched word of each side when the two are one typo apart
        (Jaro-Winkler >= TYPO_SIMILARITY, both at least TYPO_MIN_LENGTH long): 'bepol' / 'bepel'."""
        free_a, free_b = np.where(credit_a == 0, wa, 0), np.where(credit_b == 0, wb, 0)
        ca, cb = free_a.argmax(axis=1), free_b.argmax(axis=1)
        pairs = np.arange(len(ra))
        use = np.flatnonzero((free_a[pairs, ca] > 0) & (free_b[pairs, cb] > 0)
                             & (self.len[ra, ca] >= TYPO_MIN_LENGTH) & (self.len[rb, cb] >= TYPO_MIN_LENGTH))
        if not len(use):
            return
        sim = cpdist(self.words[self.word[ra[use], ca[use]]], self.words[self.word[rb[use], cb[use]]],
                     scorer=JaroWinkler.normalized_similarity, workers=self.workers, dtype=np.float32)
        ok = sim >= TYPO_SIMILARITY
        credit_a[use[ok], ca[use[ok]]] = sim[ok] * ABBREVIATION_CREDIT
        credit_b[use[ok], cb[use[ok]]] = sim[ok] * ABBREVIATION_CREDIT

    def overlap(self, li: np.ndarray, ri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(weighted Dice, containment) of the names of pairs given by record positions."""
        ra, rb = self.left_rows[li], self.right_rows[ri]
        credit_a, credit_b = self._matched(ra, rb)
        wa, wb = self.w[ra], self.w[rb]
        self._misspelt(ra, rb, credit_a, credit_b, wa, wb)
        shared_a, shared_b = (credit_a * wa).sum(axis=1), (credit_b * wb).sum(axis=1)
        total_a, total_b = wa.sum(axis=1), wb.sum(axis=1)
        total = total_a + total_b
        dice = np.divide(shared_a + shared_b, total, out=np.zeros_like(total), where=total > 0)
        contain_a = np.divide(shared_a, total_a, out=np.zeros_like(total), where=total_a > 0)
        contain_b = np.divide(shared_b, total_b, out=np.zeros_like(total), where=total_b > 0)
        return np.minimum(dice, 1).astype(np.float32), np.minimum(np.maximum(contain_a, contain_b), 1).astype(
            np.float32)

    def dice(self, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
        return self.overlap(li, ri)[0]

    def agreed_words(self, li: np.ndarray, ri: np.ndarray, limit: int = 3) -> list[str]:
        """The rarest words two names agree on (at least RARE_WEIGHT), heaviest first, per pair."""
        ra, rb = self.left_rows[li], self.right_rows[ri]
        credit_a, _ = self._matched(ra, rb)
        wa, word = self.w[ra], self.word[ra]
        heavy = (credit_a > 0) & (wa >= RARE_WEIGHT)
        words = self.words.tolist()
        out = []
        for k in range(len(ra)):
            cols = np.flatnonzero(heavy[k])
            cols = cols[np.argsort(-wa[k, cols], kind="stable")][:limit]
            out.append(" ".join(words[word[k, c]] for c in cols))
        return out
