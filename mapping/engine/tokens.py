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
are equal, or when one is an abbreviation of the other: a word of 1 to MAX_ABBREVIATION characters
that starts the other side's longer word ("techn" / "technology", "sys" / "systems", "nor" /
"nordic", "mak" / "makmur", "t" / "technologies"); an abbreviation agrees for ABBREVIATION_CREDIT of
its weight, an initial for INITIAL_CREDIT.  The
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
MIN_ABBREVIATION = 1
ABBREVIATION_CREDIT = np.float32(0.9)
INITIAL_CREDIT = np.float32(0.5)  # a single letter for a word ("T." / "Technologies") says less
MIN_LIST = 1024
WEIGHT_FLOOR = np.float32(0.05)
OVERLAP_SLICE = 250_000
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

    hashes: np.ndarray  # uint64, sorted
    weights: np.ndarray  # float32
    scale_l: int  # the lists' size steps; a change of either re-weighs every word
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
    return TokenTable(left_names, right_names).weighting


def _weighting(words: np.ndarray, df_l: np.ndarray, df_r: np.ndarray, n_l: int, n_r: int) -> TokenWeights:
    scale_l, scale_r = _scale(n_l), _scale(n_r)
    w = np.minimum(_side_weights(df_l, scale_l), _side_weights(df_r, scale_r))
    h = _hash(words)
    keep = np.flatnonzero((df_l + df_r) > 0)
    order = keep[np.argsort(h[keep], kind="stable")]
    return TokenWeights(h[order], w[order], scale_l, scale_r)


_PRIME = np.uint64(1099511628211)
_PRIME_INVERSE = np.uint64(pow(int(_PRIME), -1, 2**64))
TYPO_KEY_WIDTH = 10
KEY_SLICE = 200_000
MIN_TYPO_KEY = 3  # shorter strings (and their deletions) pair too much to mean anything


def deletion_keys(strings: np.ndarray, width: int, salt: int = 0) -> np.ndarray:
    """(strings, width + 1) uint64 keys: a hash of each string's first `width` letters, then of those
    letters with letter k left out (k = 0 .. width - 1); 0 where blank, repeated or too short.  Strings
    one edit apart (substitution, insertion, deletion, adjacent swap) share at least one key."""
    strings = np.asarray(strings, dtype=object)
    n = len(strings)
    if n == 0:
        return np.zeros((0, width + 1), np.uint64)
    try:
        chars = np.array(strings, dtype=f"S{width}")
    except UnicodeEncodeError:
        chars = np.array([s.encode("ascii", "replace")[:width] for s in strings.tolist()], dtype=f"S{width}")
    codes = chars.view(np.uint8).reshape(n, width).astype(np.uint64)
    length = (codes > 0).sum(axis=1)
    # h = sum c_j P^j; leaving out letter k: prefix_k + (h - prefix_{k+1}) / P (P is odd: invertible)
    powers = np.ones(width, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(1, width):
            powers[j] = powers[j - 1] * _PRIME
        upto = np.cumsum(codes * powers, axis=1, dtype=np.uint64)  # prefix_{k+1}
        whole = upto[:, -1]
        before = np.hstack([np.zeros((n, 1), np.uint64), upto[:, :-1]])  # prefix_k
        out = np.empty((n, width + 1), dtype=np.uint64)
        out[:, 0] = whole
        out[:, 1:] = before + (whole[:, None] - upto) * _PRIME_INVERSE
        out ^= np.uint64(0x9E3779B97F4A7C15) * np.uint64(salt + 3)
    out[length < MIN_TYPO_KEY, :] = 0
    out[:, 1:][np.arange(width)[None, :] >= length[:, None]] = 0  # leaving out padding: the string itself
    out[(length - 1 < MIN_TYPO_KEY), 1:] = 0
    return out


def _prefix_hashes(words: list[str], length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(prefix hash of each word's first 1..MAX_ABBREVIATION letters, 0 unless shorter than the word;
    whole-word hash of each word of at most MAX_ABBREVIATION letters, else 0) in one hash space."""
    try:
        chars = np.array(words, dtype=f"S{MAX_ABBREVIATION}")
    except UnicodeEncodeError:  # normalized names are ASCII; anything else still gets a stable hash
        chars = np.array(
            [w.encode("ascii", "replace")[:MAX_ABBREVIATION] for w in words], dtype=f"S{MAX_ABBREVIATION}"
        )
    codes = (
        chars.view(np.uint8).reshape(len(words), MAX_ABBREVIATION).astype(np.uint64)
        if len(words)
        else np.zeros((0, MAX_ABBREVIATION), np.uint64)
    )
    running = np.zeros(len(words), dtype=np.uint64)
    pref = np.zeros((len(words), MAX_ABBREVIATION), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(MAX_ABBREVIATION):
            running = (running + codes[:, k] + np.uint64(1)) * _PRIME
            pref[:, k] = running
    length = length.astype(np.int64)
    whole = np.where(
        (length >= 1) & (length <= MAX_ABBREVIATION),
        pref[np.arange(len(words)), np.clip(length - 1, 0, MAX_ABBREVIATION - 1)],
        np.uint64(0),
    )
    pref[np.arange(MAX_ABBREVIATION)[None, :] >= (length[:, None] - 1)] = 0
    return pref, whole.astype(np.uint64)


def _nonzero_keys(per_name: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(record position, key) of the non-zero keys of each record's name, record by record, in slices
    so that no (records x keys) copy of the whole list is made."""
    records, keys = [], []
    for start in range(0, len(rows), KEY_SLICE):
        block = per_name[rows[start : start + KEY_SLICE]]
        r, c = np.nonzero(block)
        records.append(r + start)
        keys.append(block[r, c])
    if not records:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    return np.concatenate(records).astype(np.int64), np.concatenate(keys)


class TokenTable:
    """Names as fixed-width matrices of word ids (shared by both lists), word weights and the ids of
    each word's prefixes of MIN_ABBREVIATION..MAX_ABBREVIATION characters (same id space).

    Without `weights`, the weights are learned from these names (they must be the whole lists)."""

    def __init__(
        self,
        left_names: np.ndarray,
        right_names: np.ndarray,
        weights: TokenWeights | None = None,
        workers: int = -1,
    ):
        self.workers = workers
        left_names, right_names = np.asarray(left_names, dtype=object), np.asarray(right_names, dtype=object)
        n_left = len(left_names)
        codes, uniques = _factorize(np.concatenate([left_names, right_names]))
        names = uniques.tolist()
        row, flat = _split_names(names)
        word_codes, words = _factorize(flat)
        word_list = words.tolist()
        nonblank = np.asarray(words != "", dtype=bool)
        keep = (
            nonblank[word_codes] & ~pd.Series(row * max(len(words), 1) + word_codes).duplicated().to_numpy()
        )
        row, word_codes = row[keep], word_codes[keep]
        if weights is None:  # document frequency of each word on each side
            per_l = np.bincount(codes[:n_left], minlength=len(names)).astype(np.float64)
            per_r = np.bincount(codes[n_left:], minlength=len(names)).astype(np.float64)
            df_l = np.bincount(word_codes, weights=per_l[row], minlength=len(words))
            df_r = np.bincount(word_codes, weights=per_r[row], minlength=len(words))
            weights = _weighting(words, df_l, df_r, n_left, len(right_names))
        self.weighting = weights
        starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]]) if len(row) else np.zeros(0, np.int64)
        col = np.arange(len(row)) - np.repeat(starts, np.diff(np.r_[starts, len(row)]))
        fits = col < MAX_TOKENS
        row, col, word_codes = row[fits], col[fits], word_codes[fits]
        # prefixes as integer hashes of their letters (no strings): prefix k of a word equals the
        # whole-word hash of a k-letter word when the letters agree
        length = np.minimum(
            np.fromiter(map(len, word_list), dtype=np.int64, count=len(word_list)), 127
        ).astype(np.int8)
        pref, whole = _prefix_hashes(word_list, length)
        first = np.fromiter((ord(w[0]) if w else 0 for w in word_list), dtype=np.int16, count=len(word_list))
        self.word_hash = _hash(words)
        weight = self.weighting.lookup(self.word_hash)
        self.words, self.word_weight = words, weight
        # per word, with a blank word at index -1
        self.pref = np.vstack([pref, np.zeros((1, MAX_ABBREVIATION), np.uint64)])
        self.whole = np.append(whole, np.uint64(0))
        n = len(names)
        self.word = np.full((n, MAX_TOKENS), -1, dtype=np.int32)  # index into self.words
        self.len = np.zeros((n, MAX_TOKENS), dtype=np.int8)
        self.first = np.zeros((n, MAX_TOKENS), dtype=np.int16)
        self.w = np.zeros((n, MAX_TOKENS), dtype=np.float32)
        self.word[row, col] = word_codes
        self.len[row, col] = length[word_codes]
        self.first[row, col] = first[word_codes]
        self.w[row, col] = weight[word_codes]
        self.n_words = (self.word >= 0).sum(axis=1)
        self._name_keys = None
        self._typo_keys = None
        self.names = uniques
        self.left_rows, self.right_rows = codes[:n_left], codes[n_left:]

    # --- per record ---

    def record_words(self, side: str) -> np.ndarray:
        """Hashes of each record's words, (records, MAX_TOKENS), 0 where blank."""
        rows = self.left_rows if side == "left" else self.right_rows
        return np.append(self.word_hash, np.uint64(0))[self.word[rows]]

    def first_words(self, side: str) -> np.ndarray:
        """Index (into `words`) of each record's first word, -1 for a blank name."""
        rows = self.left_rows if side == "left" else self.right_rows
        return self.word[rows, 0]

    def blocking_keys(self, side: str, prefix: int) -> tuple[np.ndarray, np.ndarray]:
        """(record position, key) of each record's words, word prefixes of `prefix` letters (of longer
        words) and adjacent word pairs, as uint64 keys shared by both lists.  A key twice in one name
        (two words with one prefix) pairs the same records twice: the union of passes drops the
        repeat, and every run counts it alike."""
        if self._name_keys is None or self._name_keys[0] != prefix:
            word_hash = np.append(self.word_hash, np.uint64(0))
            words = word_hash[self.word]  # (names, MAX_TOKENS)
            prefixes = np.where(
                self.word >= 0, self.pref[self.word, prefix - 1] ^ np.uint64(0x9E3779B97F4A7C15), np.uint64(0)
            )
            prefixes[self.pref[self.word, prefix - 1] == 0] = 0
            with np.errstate(over="ignore"):
                pairs = np.where(
                    self.word[:, 1:] >= 0, words[:, :-1] * np.uint64(31) + words[:, 1:], np.uint64(0)
                )
            self._name_keys = (prefix, np.concatenate([words, prefixes, pairs], axis=1))
        return _nonzero_keys(self._name_keys[1], self.left_rows if side == "left" else self.right_rows)

    def typo_keys(self, side: str) -> tuple[np.ndarray, np.ndarray]:
        """(record position, key) of each record's one-letter deletion neighbourhood: of its first word
        and of its name written without spaces (its first TYPO_KEY_WIDTH letters).  Two strings one
        typo apart (a letter changed, added, dropped or two swapped: "cogun" / "cognu", "de priest" /
        "depriest") share a key; see `deletion_keys`."""
        if self._typo_keys is None:
            per_word = deletion_keys(self.words, TYPO_KEY_WIDTH, salt=1)  # once per distinct word
            per_word = np.vstack([per_word, np.zeros((1, TYPO_KEY_WIDTH + 1), np.uint64)])
            multi = np.flatnonzero(self.n_words > 1)
            compact = np.zeros((len(self.names), TYPO_KEY_WIDTH + 1), np.uint64)
            compact[multi] = deletion_keys(
                np.array([n.replace(" ", "") for n in self.names[multi].tolist()], dtype=object),
                TYPO_KEY_WIDTH,
                salt=1,
            )
            self._typo_keys = np.concatenate([per_word[self.word[:, 0]], compact], axis=1)
        return _nonzero_keys(self._typo_keys, self.left_rows if side == "left" else self.right_rows)

    # --- per pair ---

    def _matched(self, ra: np.ndarray, rb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Credit (0, INITIAL_CREDIT, ABBREVIATION_CREDIT or 1) of each word of a and of b,
        (pairs, MAX_TOKENS) each.  One pass per word of a, over the pairs whose name a has that many words."""
        credit_a = np.zeros((len(ra), MAX_TOKENS), dtype=np.float32)
        credit_b = np.zeros((len(rb), MAX_TOKENS), dtype=np.float32)
        b_word_all, b_len_all = self.word[rb], self.len[rb]
        b_first_all = self.first[rb]
        n_a = self.n_words[ra]
        for i in range(MAX_TOKENS):
            rows = np.flatnonzero(n_a > i)
            if not len(rows):
                break
            a_row = ra[rows]
            a_word = self.word[a_row, i]
            a_len = self.len[a_row, i].astype(np.int64)
            b_word = b_word_all[rows]
            exact = (a_word[:, None] == b_word) & (b_word >= 0)
            c = exact.astype(np.float32)
            # an abbreviation starts with the letter of the word it abbreviates: only those rows
            same_first = (self.first[a_row, i][:, None] == b_first_all[rows]) & (b_word >= 0) & ~exact
            sub = np.flatnonzero(same_first.any(axis=1))
            if len(sub):
                a_word, a_len = a_word[sub], a_len[sub]
                b_word, b_len = b_word[sub], b_len_all[rows[sub]].astype(np.int64)
                b_whole = self.whole[b_word]
                # a's word starts b's longer word (prefix hashes of b's words at a's length)
                a_whole = self.whole[a_word]
                b_pref = self.pref[b_word, np.clip(a_len - 1, 0, MAX_ABBREVIATION - 1)[:, None]]
                a_in_b = (a_whole != 0)[:, None] & (a_whole[:, None] == b_pref)
                # b's word starts a's longer word
                a_pref = self.pref[a_word]  # (m, MAX_ABBREVIATION)
                b_k = np.clip(b_len - 1, 0, MAX_ABBREVIATION - 1)
                b_in_a = (b_whole != 0) & (b_whole == np.take_along_axis(a_pref, b_k, axis=1))
                initial = (a_in_b & (a_len == 1)[:, None]) | (b_in_a & (b_len == 1))
                abbr = np.where(
                    a_in_b | b_in_a, np.where(initial, INITIAL_CREDIT, ABBREVIATION_CREDIT), np.float32(0)
                )
                c[sub] = np.maximum(c[sub], abbr)
            credit_a[rows, i] = c.max(axis=1)
            credit_b[rows] = np.maximum(credit_b[rows], c)
        return credit_a, credit_b

    def _misspelt(self, ra, rb, credit_a, credit_b, wa, wb) -> None:
        """Credit the heaviest unmatched word of each side when the two are one typo apart
        (Jaro-Winkler >= TYPO_SIMILARITY, both at least TYPO_MIN_LENGTH long, same first letter):
        'bepol' / 'bepel'."""
        free_a, free_b = np.where(credit_a == 0, wa, 0), np.where(credit_b == 0, wb, 0)
        ca, cb = free_a.argmax(axis=1), free_b.argmax(axis=1)
        pairs = np.arange(len(ra))
        use = np.flatnonzero(
            (free_a[pairs, ca] > 0)
            & (free_b[pairs, cb] > 0)
            & (self.first[ra, ca] == self.first[rb, cb])
            & (self.len[ra, ca] >= TYPO_MIN_LENGTH)
            & (self.len[rb, cb] >= TYPO_MIN_LENGTH)
        )
        if not len(use):
            return
        sim = cpdist(
            self.words[self.word[ra[use], ca[use]]],
            self.words[self.word[rb[use], cb[use]]],
            scorer=JaroWinkler.normalized_similarity,
            workers=self.workers,
            dtype=np.float32,
        )
        ok = sim >= TYPO_SIMILARITY
        credit_a[use[ok], ca[use[ok]]] = sim[ok] * ABBREVIATION_CREDIT
        credit_b[use[ok], cb[use[ok]]] = sim[ok] * ABBREVIATION_CREDIT

    def overlap(self, li: np.ndarray, ri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(weighted Dice, containment) of the names of pairs given by record positions."""
        if len(li) <= OVERLAP_SLICE:
            return self._overlap(li, ri)
        dice, contain = np.zeros(len(li), np.float32), np.zeros(len(li), np.float32)
        for start in range(0, len(li), OVERLAP_SLICE):  # in slices: a few (pairs, words) arrays each
            end = start + OVERLAP_SLICE
            dice[start:end], contain[start:end] = self._overlap(li[start:end], ri[start:end])
        return dice, contain

    def _overlap(self, li: np.ndarray, ri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
            np.float32
        )

    def dice(self, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
        return self.overlap(li, ri)[0]

    def agreed_words(self, li: np.ndarray, ri: np.ndarray, limit: int = 3) -> list[str]:
        """The rarest words two names agree on (at least RARE_WEIGHT), heaviest first, per pair."""
        ra, rb = self.left_rows[li], self.right_rows[ri]
        if len(ra) == 0:
            return []
        credit_a, _ = self._matched(ra, rb)
        wa, word = self.w[ra], self.word[ra]
        heavy = np.where((credit_a > 0) & (wa >= RARE_WEIGHT), wa, -1)
        order = np.argsort(-heavy, axis=1, kind="stable")[:, :limit]
        pairs = np.arange(len(ra))[:, None]
        valid = heavy[pairs, order] >= 0
        texts = np.append(self.words, "").astype(object)[np.where(valid, word[pairs, order], -1)]
        out = texts[:, 0].copy()
        for k in range(1, texts.shape[1]):
            out = np.where(valid[:, k], out + " " + texts[:, k], out)
        return out.tolist()
