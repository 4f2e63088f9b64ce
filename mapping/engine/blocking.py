"""Candidate pairs: the union of blocking passes, never a full index, maintainable incrementally.

Two kinds of pass, both computed on integer codes with numpy (same semantics as recordlinkage's
`Block` and `SortedNeighbourhood` indexers, several times faster at a million records):

* block passes pair records whose keys are equal.  Keys are compared through a stable 64-bit hash
  (`pandas.util.hash_array`), so the index state keeps 8 bytes per record and key instead of strings.
  A key shared by more than `max_block_pairs` left x right pairs is too common to block on.
* sorted-neighbourhood passes sort the distinct keys of both lists; records sharing one key are
  numbered within their list by record id (0, 1, 2 ...), and each (key, number) is one *slot*.  A
  left record pairs with the right records at most `window // 2` slots away.  Slots hold at most one
  record per side, so the join is `window` array look-ups.

Incremental maintenance (`BlockingIndex.update`) is exact: a pass's pairs change only around the keys
of added, edited or removed records ("dirty" keys).  For a block pass those are the pairs of the dirty
keys; for a sorted-neighbourhood pass, a pair of unchanged records changes only if a dirty slot lies
between them in the old or new order, and then both records lie within `window // 2` slots of a dirty
slot in that order.  Those records (plus the changed ones) are re-joined; all other pairs keep their
pass bits.  Every pair carries a bitmask of the passes that found it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Pass name -> bit, as reported in results.  Order is the order reasons list them in.
PASSES: dict[str, int] = {
    "exact-domain": 1,
    "domain-stem": 2,
    "name-sn": 4,  # sorted neighbourhood on the name as written
    "reversed-name-sn": 8,  # ... on the reversed name
    "token-sorted-name-sn": 16,  # ... on the name with its words sorted
    "stem-to-name": 32,
    "crm-id": 64,
    "rare-word": 128,  # a word (or a word's first letters) few records of either list hold
}

# Block passes: internal bit, left key column, right key column.  The four stem-to-name variants have
# their own internal bits (so each can be maintained on its own) and are reported as one pass.
BLOCK_PASSES: tuple[tuple[int, str, str], ...] = (
    (1, "domain", "domain"),
    (2, "stem", "stem"),
    (64, "crm", "crm"),
    # A record without website still matches the partner's record whose domain stem is its name
    # ("Acme Software" <-> acmesoftware.com) or its first name token ("Acme Software" <-> acme.io).
    (128, "stem_key", "name_key"),
    (256, "name_key", "stem_key"),
    (512, "stem_key", "first"),
    (1024, "first", "stem_key"),
)
STEM_TO_NAME_BITS = 128 | 256 | 512 | 1024
# Sorted-neighbourhood passes: internal (= public) bit, key column.
SN_PASSES: tuple[tuple[int, str], ...] = ((4, "name_key"), (8, "name_rev"), (16, "name_sorted"))
HASHED_COLUMNS = ("domain", "stem", "crm", "stem_key", "name_key", "first")
BIT_DTYPE = np.int16
# The rare-word pass: records sharing a word of their names, the first WORD_PREFIX letters of one
# ("mak" / "makmur") or two adjacent words ("crest systems"), when that key pairs at most RARE_WORD_PAIRS left x right records.  Its keys depend
# on the whole lists (how rare a word is), so every run computes it whole (it is a few joins on integer
# codes); its pairs are scored only when new.
RARE_WORD_BIT = 2048
RARE_WORD_PAIRS = 400
# ... and records whose first word, or whose name without spaces, is one typo from the other's
# (tokens.TokenTable.typo_keys), when that key pairs at most TYPO_PAIRS records.
TYPO_PAIRS = 20
WORD_PREFIX = 3


def public_passes(bits: np.ndarray) -> np.ndarray:
    """Internal pass bits -> the PASSES bitmask."""
    bits = np.asarray(bits).astype(np.int32)
    return (
        (bits & 127)
        | np.where(bits & STEM_TO_NAME_BITS, PASSES["stem-to-name"], 0)
        | np.where(bits & RARE_WORD_BIT, PASSES["rare-word"], 0)
    ).astype(np.int32)


def pass_names(bitmask: int) -> list[str]:
    return [name for name, bit in PASSES.items() if bitmask & bit]


# --- record keys -------------------------------------------------------------------------------------


def effective_domain(frame: pd.DataFrame) -> np.ndarray:
    """The website's domain, else the (non free-mail) owner e-mail domain."""
    domain = frame["domain_norm"].to_numpy(dtype=object)
    email = frame["email_domain_norm"].to_numpy(dtype=object)
    return np.where(domain == "", email, domain)


def first_token(names: np.ndarray) -> np.ndarray:
    """First token of each normalized name, only when long enough (4+) to be distinctive."""
    codes, uniques = pd.factorize(np.asarray(names, dtype=object))
    firsts = [n.split(" ", 1)[0] for n in uniques]
    return np.array([f if len(f) >= 4 else "" for f in firsts] + [""], dtype=object)[codes]


def key_hash(values: np.ndarray) -> np.ndarray:
    """Stable 64-bit hash of each key; 0 for a blank key."""
    values = np.asarray(values, dtype=object)
    if len(values) == 0:
        return np.zeros(0, dtype=np.uint64)
    out = pd.util.hash_array(values, categorize=False)
    out[values == ""] = 0
    return out


def record_keys_frame(frame: pd.DataFrame, columns=None) -> dict[str, np.ndarray]:
    """The blocking keys of each record of a prepared frame: hashed block keys, string SN keys."""
    keys: dict[str, np.ndarray] = {}
    wanted = set(columns or (*HASHED_COLUMNS, *(c for _, c in SN_PASSES)))
    if "domain" in wanted:
        keys["domain"] = key_hash(effective_domain(frame))
    if "stem" in wanted:
        keys["stem"] = key_hash(frame["stem"].to_numpy(dtype=object))
    if "crm" in wanted:
        keys["crm"] = key_hash(frame["crm_id_norm"].to_numpy(dtype=object))
    if "stem_key" in wanted:
        keys["stem_key"] = key_hash(frame["stem_key"].to_numpy(dtype=object))
    if "name_key" in wanted:
        keys["name_key"] = key_hash(frame["name_key"].to_numpy(dtype=object))
    if "first" in wanted:
        keys["first"] = key_hash(first_token(frame["name_norm"].to_numpy(dtype=object)))
    for _, column in SN_PASSES:
        keys[f"sn:{column}"] = frame[column].to_numpy(dtype=object)
    return keys


def rare_word_pairs(left: pd.DataFrame, right: pd.DataFrame, tokens=None, cap: int = RARE_WORD_PAIRS):
    """Pairs of records sharing a word key that pairs at most `cap` records (positions, repeated).
    `tokens`: the run's tokens.TokenTable of these two lists (built here when not given)."""
    if tokens is None:
        from .tokens import TokenTable

        tokens = TokenTable(
            left["name_norm"].to_numpy(dtype=object), right["name_norm"].to_numpy(dtype=object)
        )
    rows_l, keys_l = tokens.blocking_keys("left", WORD_PREFIX)
    rows_r, keys_r = tokens.blocking_keys("right", WORD_PREFIX)
    li, ri = hash_join(keys_l, keys_r, cap)
    typo_l, typo_keys_l = tokens.typo_keys("left")
    typo_r, typo_keys_r = tokens.typo_keys("right")
    ti, tj = hash_join(typo_keys_l, typo_keys_r, TYPO_PAIRS)
    return np.concatenate([rows_l[li], typo_l[ti]]), np.concatenate([rows_r[ri], typo_r[tj]])


# --- joins -------------------------------------------------------------------------------------------


def equi_join(codes_l: np.ndarray, codes_r: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """All (left, right) positions with equal non-negative codes, skipping codes with > cap pairs."""
    n_codes = int(max(codes_l.max(initial=-1), codes_r.max(initial=-1))) + 1
    if n_codes == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    cl = np.bincount(codes_l[codes_l >= 0], minlength=n_codes).astype(np.int64)
    cr = np.bincount(codes_r[codes_r >= 0], minlength=n_codes).astype(np.int64)
    usable = (cl > 0) & (cr > 0) & (cl * cr <= cap)
    used = np.flatnonzero(usable)
    if len(used) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    sel_l = np.flatnonzero((codes_l >= 0) & usable[np.maximum(codes_l, 0)])
    sel_r = np.flatnonzero((codes_r >= 0) & usable[np.maximum(codes_r, 0)])
    sel_l = sel_l[np.argsort(codes_l[sel_l], kind="stable")]
    sel_r = sel_r[np.argsort(codes_r[sel_r], kind="stable")]
    nl, nr = cl[used], cr[used]
    start_l, start_r = np.cumsum(nl) - nl, np.cumsum(nr) - nr
    m = nl * nr
    group = np.repeat(np.arange(len(used)), m)
    offset = np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m)
    return (sel_l[start_l[group] + offset // nr[group]], sel_r[start_r[group] + offset % nr[group]])


HASH_BUCKET_BITS = 22


def hash_join(hl: np.ndarray, hr: np.ndarray, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """`equi_join` on hashed keys (0 = blank).

    Keys whose low HASH_BUCKET_BITS bits no key of the other side has cannot pair: they are dropped
    before the (costlier) factorization.  The kept keys keep their order, so the pairs come out as
    they would without the filter."""
    hl, hr = np.asarray(hl, dtype=np.uint64), np.asarray(hr, dtype=np.uint64)
    mask = np.uint64((1 << HASH_BUCKET_BITS) - 1)
    bucket_l, bucket_r = (hl & mask).astype(np.intp), (hr & mask).astype(np.intp)
    seen_l = np.zeros(1 << HASH_BUCKET_BITS, dtype=bool)
    seen_r = np.zeros(1 << HASH_BUCKET_BITS, dtype=bool)
    seen_l[bucket_l[hl != 0]] = True
    seen_r[bucket_r[hr != 0]] = True
    keep_l = np.flatnonzero(seen_r[bucket_l] & (hl != 0))
    keep_r = np.flatnonzero(seen_l[bucket_r] & (hr != 0))
    codes, _ = pd.factorize(np.concatenate([hl[keep_l], hr[keep_r]]))
    codes = codes.astype(np.int64)
    li, ri = equi_join(codes[: len(keep_l)], codes[len(keep_l) :], cap)
    return keep_l[li], keep_r[ri]


def sn_join(
    slot_l: np.ndarray,
    slot_r: np.ndarray,
    n_slots: int,
    half: int,
    sel_l: np.ndarray | None = None,
    sel_r: np.ndarray | None = None,
):
    """Pairs at most `half` slots apart (slot -1 = no key); optionally only among sel_l x sel_r."""
    sel_l = np.flatnonzero(slot_l >= 0) if sel_l is None else sel_l[slot_l[sel_l] >= 0]
    sel_r = np.flatnonzero(slot_r >= 0) if sel_r is None else sel_r[slot_r[sel_r] >= 0]
    right_at = np.full(n_slots + 2 * half, -1, dtype=np.int64)
    right_at[slot_r[sel_r] + half] = sel_r
    around = right_at[(slot_l[sel_l] + half)[:, None] + np.arange(-half, half + 1)]
    around.sort(axis=1)  # pairs come out sorted by (left, right) position when sel_l is sorted
    hit = around >= 0
    return np.repeat(sel_l, hit.sum(axis=1)), around[hit]


# --- sorted neighbourhood keys -----------------------------------------------------------------------


def sorted_vocab(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, vocab): vocab = sorted distinct non-blank values, codes index it (-1 for blank).

    Distinct values are found through their 64-bit hash (much cheaper than hashing Python strings)
    and sorted with Python's sort, which beats numpy/pandas on object arrays.
    """
    values = np.asarray(values, dtype=object)
    if len(values) == 0:
        return np.zeros(0, np.int32), np.zeros(0, dtype=object)
    hashes = key_hash(values)
    codes, uniques = pd.factorize(hashes)
    first = np.empty(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(values))[::-1]
    distinct = values[first].tolist()
    order = np.array(sorted(range(len(distinct)), key=distinct.__getitem__), dtype=np.int64)
    rank = np.empty(len(distinct), dtype=np.int64)
    rank[order] = np.arange(len(distinct))
    vocab = values[first[order]]
    blank = np.flatnonzero(uniques == 0)
    out = rank[codes]
    if len(blank):
        # '' sorts first: drop it from the vocabulary
        out = out - 1
        vocab = vocab[1:]
    return out.astype(np.int32), vocab


def dup_numbers(
    codes: np.ndarray, ids: np.ndarray, among: np.ndarray | None = None, out: np.ndarray | None = None
) -> np.ndarray:
    """Number of each record within its key on its side (0, 1, ...), in record-id order.

    With `among` (positions), only those records are numbered (they must hold every record of their
    keys); `out` holds the numbers of the others.
    """
    out = np.zeros(len(codes), dtype=np.int32) if out is None else out
    pos = np.flatnonzero(codes >= 0) if among is None else among[codes[among] >= 0]
    if len(pos) == 0:
        return out
    c = codes[pos]
    counts = np.bincount(c)
    multi = pos[counts[c] > 1]
    out[pos[counts[c] <= 1]] = 0
    if len(multi) == 0:
        return out
    frame = pd.DataFrame({"code": codes[multi], "id": ids[multi], "pos": multi})
    frame = frame.sort_values(["code", "id"], kind="stable")
    c = frame["code"].to_numpy()
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(c)]))
    out[frame["pos"].to_numpy()] = np.arange(len(c)) - run_start
    return out


@dataclass
class SNColumn:
    """One sorted-neighbourhood key: sorted vocabulary, per-record codes and numbers within key."""

    vocab: np.ndarray
    codes_l: np.ndarray
    codes_r: np.ndarray
    dup_l: np.ndarray
    dup_r: np.ndarray

    def slots(self):
        """(slot_l, slot_r, starts, widths, n_slots)."""
        n = len(self.vocab)
        cl = np.bincount(self.codes_l[self.codes_l >= 0], minlength=n)
        cr = np.bincount(self.codes_r[self.codes_r >= 0], minlength=n)
        width = np.maximum(cl, cr).astype(np.int64)
        start = np.cumsum(width) - width
        slot_l = np.where(self.codes_l >= 0, _at(start, self.codes_l, 0) + self.dup_l, -1)
        slot_r = np.where(self.codes_r >= 0, _at(start, self.codes_r, 0) + self.dup_r, -1)
        return slot_l, slot_r, start, width, int(width.sum())


def _at(values: np.ndarray, codes: np.ndarray, fill=-1) -> np.ndarray:
    """values[codes], `fill` where the code is -1."""
    return np.append(values, fill)[codes]


def _covered(
    slots: np.ndarray, starts: np.ndarray, widths: np.ndarray, dirty: np.ndarray, half: int, n_slots: int
) -> np.ndarray:
    """Which slots lie within `half` slots of a slot of a dirty key."""
    if len(dirty) == 0 or n_slots == 0:
        return np.zeros(len(slots), dtype=bool)
    lo = np.maximum(starts[dirty] - half, 0)
    hi = np.minimum(starts[dirty] + widths[dirty] + half, n_slots)
    marks = np.bincount(lo, minlength=n_slots + 1) - np.bincount(hi, minlength=n_slots + 1)
    cover = np.cumsum(marks)[:n_slots] > 0
    return (slots >= 0) & _at(cover, slots, False)


# --- the index ---------------------------------------------------------------------------------------


@dataclass
class Candidates:
    li: np.ndarray  # int64 left positions
    ri: np.ndarray  # int64 right positions
    bits: np.ndarray  # internal pass bits (BIT_DTYPE)


@dataclass
class BlockingIndex:
    """Per-record blocking keys of both lists, kept between runs (picklable, no strings but the
    sorted-neighbourhood vocabularies)."""

    window: int
    max_block_pairs: int
    hash_l: dict[str, np.ndarray]
    hash_r: dict[str, np.ndarray]
    sn: dict[str, SNColumn]

    @property
    def half(self) -> int:
        return (self.window - 1) // 2

    @classmethod
    def build(
        cls, left: pd.DataFrame, right: pd.DataFrame, config, tokens=None
    ) -> tuple[BlockingIndex, Candidates]:
        """Index both lists and return all candidate pairs (unsorted, possibly repeated across passes)."""
        keys_l, keys_r = record_keys_frame(left), record_keys_frame(right)
        ids_l, ids_r = left.index.to_numpy(), right.index.to_numpy()
        index = cls(
            window=config.window,
            max_block_pairs=config.max_block_pairs,
            hash_l={c: keys_l[c] for c in HASHED_COLUMNS},
            hash_r={c: keys_r[c] for c in HASHED_COLUMNS},
            sn={},
        )
        found = []
        for bit, cl, cr in BLOCK_PASSES:
            li, ri = hash_join(keys_l[cl], keys_r[cr], index.max_block_pairs)
            found.append((li, ri, bit))
        for bit, column in SN_PASSES:
            codes, vocab = sorted_vocab(np.concatenate([keys_l[f"sn:{column}"], keys_r[f"sn:{column}"]]))
            codes_l, codes_r = codes[: len(left)], codes[len(left) :]
            col = SNColumn(vocab, codes_l, codes_r, dup_numbers(codes_l, ids_l), dup_numbers(codes_r, ids_r))
            index.sn[column] = col
            slot_l, slot_r, _, _, n_slots = col.slots()
            li, ri = sn_join(slot_l, slot_r, n_slots, index.half)
            found.append((li, ri, bit))
        found.append((*rare_word_pairs(left, right, tokens), RARE_WORD_BIT))
        return index, _concat(found)

    def update(
        self, left: pd.DataFrame, right: pd.DataFrame, mapping: Mapping, tokens=None
    ) -> tuple[BlockingIndex, Candidates, dict[int, tuple]]:
        """The index of the current lists, re-keying only changed records.

        `mapping` relates old and new record positions and says which records
        changed.  Returns (new index, fresh candidates, stale) where fresh candidates are this run's
        pairs of every pass that may have changed, and stale[bit] = (left mask, right mask): an old
        pair of unchanged records loses `bit` when both its records are in the masks (`left mask` alone
        for block passes, whose pairs share their left record's key).
        """
        m = mapping
        ch_l, ch_r = m.changed_l_pos, m.changed_r_pos
        sub_l, sub_r = left.iloc[ch_l], right.iloc[ch_r]
        keys_l, keys_r = record_keys_frame(sub_l), record_keys_frame(sub_r)
        new = BlockingIndex(self.window, self.max_block_pairs, {}, {}, {})
        for column in HASHED_COLUMNS:
            new.hash_l[column] = m.carry_l(self.hash_l[column], keys_l[column])
            new.hash_r[column] = m.carry_r(self.hash_r[column], keys_r[column])
        found, stale = [], {}
        for bit, cl, cr in BLOCK_PASSES:
            dirty = np.concatenate(
                [self.hash_l[cl][m.gone_l_pos], self.hash_r[cr][m.gone_r_pos], keys_l[cl], keys_r[cr]]
            )
            dirty = pd.unique(dirty[dirty != 0])
            in_l = pd.Index(dirty).get_indexer(new.hash_l[cl]) if len(dirty) else np.full(len(left), -1)
            in_r = pd.Index(dirty).get_indexer(new.hash_r[cr]) if len(dirty) else np.full(len(right), -1)
            li, ri = equi_join(in_l, in_r, self.max_block_pairs)
            found.append((li, ri, bit))
            stale[bit] = (in_l >= 0, None)
        ids_l, ids_r = left.index.to_numpy(), right.index.to_numpy()
        for bit, column in SN_PASSES:
            col, fresh, zone_l, zone_r = self._update_sn(
                self.sn[column], keys_l[f"sn:{column}"], keys_r[f"sn:{column}"], m, ids_l, ids_r
            )
            new.sn[column] = col
            found.append((*fresh, bit))
            stale[bit] = (zone_l, zone_r)
        # computed whole: every old pair loses the bit, this run's pairs bring it back
        found.append((*rare_word_pairs(left, right, tokens), RARE_WORD_BIT))
        stale[RARE_WORD_BIT] = (np.ones(len(left), dtype=bool), None)
        return new, _concat(found), stale

    def _update_sn(self, old: SNColumn, new_keys_l: np.ndarray, new_keys_r: np.ndarray, m, ids_l, ids_r):
        half = self.half
        vocab = old.vocab
        # the new keys of changed records, located in (or inserted into) the sorted vocabulary
        new_keys = np.concatenate([new_keys_l, new_keys_r])
        distinct = np.array(sorted(set(new_keys.tolist()) - {""}), dtype=object)
        at = np.searchsorted(vocab, distinct) if len(vocab) else np.zeros(len(distinct), np.int64)
        present = (
            (at < len(vocab)) & (vocab[np.minimum(at, max(len(vocab) - 1, 0))] == distinct)
            if len(vocab)
            else np.zeros(len(distinct), dtype=bool)
        )
        inserted_at = at[~present]
        merged = np.insert(vocab, inserted_at, distinct[~present])
        shift = np.searchsorted(inserted_at, np.arange(len(vocab)), side="right")
        old_to_merged = np.arange(len(vocab)) + shift  # old code -> merged code
        merged_code_of_distinct = (
            np.searchsorted(merged, distinct) if len(distinct) else np.zeros(0, np.int64)
        )

        def new_codes(keys):
            if len(keys) == 0:
                return np.zeros(0, np.int64)
            where = np.searchsorted(distinct, keys)
            where = np.minimum(where, max(len(distinct) - 1, 0))
            ok = (keys != "") & (len(distinct) > 0)
            return np.where(ok, merged_code_of_distinct[where] if len(distinct) else -1, -1)

        def remap(codes):
            return _at(old_to_merged, codes)

        codes_l = m.carry_l(remap(old.codes_l), new_codes(new_keys_l)).astype(np.int64)
        codes_r = m.carry_r(remap(old.codes_r), new_codes(new_keys_r)).astype(np.int64)
        # drop keys no record holds any more
        counts = np.bincount(codes_l[codes_l >= 0], minlength=len(merged)) + np.bincount(
            codes_r[codes_r >= 0], minlength=len(merged)
        )
        keep = counts > 0
        final = np.cumsum(keep) - 1
        vocab_new = merged[keep]
        codes_l = _at(final, codes_l).astype(np.int32)
        codes_r = _at(final, codes_r).astype(np.int32)

        # dirty keys: old keys of removed/changed records, new keys of changed records
        gone_old = np.concatenate([old.codes_l[m.gone_l_pos], old.codes_r[m.gone_r_pos]])
        gone_old = np.unique(gone_old[gone_old >= 0])
        changed_new = np.concatenate([codes_l[m.changed_l_pos], codes_r[m.changed_r_pos]])
        changed_new = np.unique(changed_new[changed_new >= 0])
        merged_to_old = np.full(len(merged), -1, dtype=np.int64)
        merged_to_old[old_to_merged] = np.arange(len(vocab))
        merged_to_new = np.where(keep, final, -1)
        merged_of_changed = np.flatnonzero(keep)[changed_new]
        dirty_old = np.union1d(gone_old, merged_to_old[merged_of_changed])
        dirty_old = dirty_old[dirty_old >= 0].astype(np.int64)
        dirty_new = np.union1d(changed_new, merged_to_new[old_to_merged[gone_old]])
        dirty_new = dirty_new[dirty_new >= 0].astype(np.int64)

        # numbers within key: recomputed for the dirty keys, carried over for the others
        dup_l = m.carry_l(old.dup_l, np.zeros(len(m.changed_l_pos), np.int32)).astype(np.int32)
        dup_r = m.carry_r(old.dup_r, np.zeros(len(m.changed_r_pos), np.int32)).astype(np.int32)
        is_dirty = np.zeros(len(vocab_new) + 1, dtype=bool)
        is_dirty[dirty_new] = True
        dup_numbers(codes_l, ids_l, among=np.flatnonzero(is_dirty[codes_l]), out=dup_l)
        dup_numbers(codes_r, ids_r, among=np.flatnonzero(is_dirty[codes_r]), out=dup_r)
        col = SNColumn(vocab_new, codes_l, codes_r, dup_l, dup_r)

        # records within `half` slots of a dirty slot, in the old order and in the new one
        o_l, o_r, o_start, o_width, o_n = old.slots()
        n_l, n_r, n_start, n_width, n_n = col.slots()
        zone_l = m.carry_l(
            _covered(o_l, o_start, o_width, dirty_old, half, o_n), np.ones(len(m.changed_l_pos), bool)
        ) | _covered(n_l, n_start, n_width, dirty_new, half, n_n)
        zone_r = m.carry_r(
            _covered(o_r, o_start, o_width, dirty_old, half, o_n), np.ones(len(m.changed_r_pos), bool)
        ) | _covered(n_r, n_start, n_width, dirty_new, half, n_n)
        fresh = sn_join(n_l, n_r, n_n, half, np.flatnonzero(zone_l), np.flatnonzero(zone_r))
        return col, fresh, zone_l, zone_r


def _concat(found) -> Candidates:
    if not found:
        return Candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, BIT_DTYPE))
    return Candidates(
        np.concatenate([f[0] for f in found]).astype(np.int64),
        np.concatenate([f[1] for f in found]).astype(np.int64),
        np.concatenate([np.full(len(f[0]), f[2], dtype=BIT_DTYPE) for f in found]),
    )


BIT_WIDTH = 12  # internal pass bits fit in 12 bits


def union(cands: Candidates, n_right: int) -> Candidates:
    """One row per distinct pair, pass bits OR-ed, sorted by (left, right) position.

    Pair code and bits are packed into one int64 and sorted in place: no argsort indirection, and
    the passes' runs are mostly sorted already, which the stable sort (timsort) exploits.
    """
    if len(cands.li) == 0:
        return cands
    packed = ((cands.li * max(n_right, 1) + cands.ri) << BIT_WIDTH) | cands.bits.astype(np.int64)
    packed.sort(kind="stable")
    codes = packed >> BIT_WIDTH
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    bits = np.bitwise_or.reduceat(packed & ((1 << BIT_WIDTH) - 1), starts).astype(BIT_DTYPE)
    unique = codes[starts]
    return Candidates(unique // max(n_right, 1), unique % max(n_right, 1), bits)


@dataclass
class Mapping:
    """How the records of the previous run map onto the current lists.

    changed_*_pos: current positions of added or edited records (sorted); gone_*_pos: previous
    positions of removed or edited records; keep_old_* / keep_new_*: previous and current positions
    of the unchanged records.
    """

    n_l: int
    n_r: int
    changed_l_pos: np.ndarray
    changed_r_pos: np.ndarray
    gone_l_pos: np.ndarray
    gone_r_pos: np.ndarray
    keep_old_l: np.ndarray
    keep_new_l: np.ndarray
    keep_old_r: np.ndarray
    keep_new_r: np.ndarray
    new_of_old_l: np.ndarray  # previous position -> current position, -1 when removed or edited
    new_of_old_r: np.ndarray

    @classmethod
    def between(
        cls, old_ids_l, old_ids_r, new_index_l: pd.Index, new_index_r: pd.Index, changed_l, changed_r
    ) -> Mapping:
        parts = {}
        for side, old_ids, index, changed in (
            ("l", old_ids_l, new_index_l, changed_l),
            ("r", old_ids_r, new_index_r, changed_r),
        ):
            new_of_old = index.get_indexer(old_ids).astype(np.int64)
            is_changed = np.ones(len(index), dtype=bool)  # records of no previous run are added
            is_changed[new_of_old[new_of_old >= 0]] = False
            listed = index.get_indexer(pd.Index(list(changed)))
            is_changed[listed[listed >= 0]] = True
            new_of_old = np.where(_at(is_changed, new_of_old, True), -1, new_of_old)
            keep_old = np.flatnonzero(new_of_old >= 0)
            parts.update(
                {
                    f"n_{side}": len(index),
                    f"changed_{side}_pos": np.flatnonzero(is_changed),
                    f"gone_{side}_pos": np.flatnonzero(new_of_old < 0),
                    f"keep_old_{side}": keep_old,
                    f"keep_new_{side}": new_of_old[keep_old],
                    f"new_of_old_{side}": new_of_old,
                }
            )
        return cls(**parts)

    def _carry(self, old: np.ndarray, changed_values: np.ndarray, n: int, keep_old, keep_new, changed_pos):
        out = np.empty(n, dtype=np.result_type(old.dtype, np.asarray(changed_values).dtype))
        out[keep_new] = old[keep_old]
        out[changed_pos] = changed_values
        return out

    def carry_l(self, old: np.ndarray, changed_values: np.ndarray) -> np.ndarray:
        """A per-record array of the previous run, in current positions; changed records get
        `changed_values` (in changed_l_pos order)."""
        return self._carry(
            old, changed_values, self.n_l, self.keep_old_l, self.keep_new_l, self.changed_l_pos
        )

    def carry_r(self, old: np.ndarray, changed_values: np.ndarray) -> np.ndarray:
        return self._carry(
            old, changed_values, self.n_r, self.keep_old_r, self.keep_new_r, self.changed_r_pos
        )


def candidate_pairs(left: pd.DataFrame, right: pd.DataFrame, config) -> pd.DataFrame:
    """All candidate pairs of two prepared frames: columns li, ri (positions), passes (PASSES bitmask)."""
    if len(left) == 0 or len(right) == 0:
        return pd.DataFrame(
            {"li": np.array([], np.int64), "ri": np.array([], np.int64), "passes": np.array([], np.int32)}
        )
    _, cands = BlockingIndex.build(left, right, config)
    cands = union(cands, len(right))
    return pd.DataFrame({"li": cands.li, "ri": cands.ri, "passes": public_passes(cands.bits)})
