"""Incremental matching must equal a full run: randomized edits, additions and removals on both sides,
over several rounds, with the blocking index carried from round to round."""

import pickle

import numpy as np
import pandas as pd
import pytest

from mapping.engine import MatchConfig, match, match_incremental, prepare
from mapping.engine.blocking import BlockingIndex, union

NAMES = [
    "Acme",
    "Acme Software",
    "Acme Systems",
    "Globex",
    "Globex Corp",
    "Initech",
    "Umbrella",
    "Stark Industries",
    "Wayne Enterprises",
    "Wonka Industries",
    "Tyrell",
    "Cyberdyne Systems",
    "Soylent",
    "Hooli",
    "Pied Piper",
    "Vandelay Industries",
    "",
]
# ~4 records per domain and side: around the block cap of the tests, so keys flip between usable and
# too common as records come and go
DOMAINS = [
    "acme.com",
    "acme.de",
    "acmesoftware.com",
    "globex.com",
    "initech.io",
    "hooli.xyz",
    *(f"site{k}.{tld}" for k in range(30) for tld in ("com", "de")),
    *[""] * 20,
]
CITIES = ["Boston", "Berlin", "London", "", "Paris"]


def _record(rng):
    name = NAMES[rng.integers(len(NAMES))]
    if name and rng.random() < 0.5:
        name += f" {rng.integers(30)}"  # many near-duplicate keys: sorted-neighbourhood slots shift a lot
    return {
        "name": name,
        "website": DOMAINS[rng.integers(len(DOMAINS))],
        "email": f"x@{DOMAINS[rng.integers(len(DOMAINS))] or 'gmail.com'}",
        "city": CITIES[rng.integers(len(CITIES))],
        "country": ["US", "DE", ""][rng.integers(3)],
        "crm_id": f"C{rng.integers(40)}" if rng.random() < 0.1 else "",
    }


def _frame(rng, ids):
    return prepare(pd.DataFrame([_record(rng) for _ in ids], index=list(ids)))


def _mutate(frame, rng, prefix, round_no):
    """Edit, add and remove a few records; shuffle the row order.  Returns (frame, changed ids)."""
    frame = frame.copy()
    ids = frame.index.to_list()
    edited = [ids[i] for i in rng.choice(len(ids), size=max(len(ids) // 15, 1), replace=False)]
    for rid in edited:
        row = _record(rng)
        frame.loc[rid, list(row)] = list(row.values())
    removed = [ids[i] for i in rng.choice(len(ids), size=max(len(ids) // 25, 1), replace=False)]
    removed = [r for r in removed if r not in edited]
    added_ids = [f"{prefix}{round_no}-{i}" for i in range(rng.integers(1, 8))]
    added = pd.DataFrame([_record(rng) for _ in added_ids], index=added_ids)
    frame = pd.concat([frame.drop(index=removed), added])
    changed = edited + added_ids
    frame.loc[changed] = prepare(frame.loc[changed], force=True)[frame.columns].to_numpy()
    frame = frame.iloc[rng.permutation(len(frame))]
    return frame, changed


def _assert_same(incremental, state, full, full_state):
    pd.testing.assert_frame_equal(incremental, full)
    pd.testing.assert_frame_equal(state.scores, full_state.scores)
    np.testing.assert_array_equal(state.bits, full_state.bits)
    np.testing.assert_array_equal(state.feat_pos, full_state.feat_pos)
    np.testing.assert_array_equal(state.features, full_state.features)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_randomized_rounds_equal_full_runs(seed):
    rng = np.random.default_rng(seed)
    # a small cap makes block keys flip between usable and too common as records come and go
    config = MatchConfig(max_block_pairs=12, window=5 if seed == 2 else 7, review_threshold=0.05)
    left = _frame(rng, [f"l{i}" for i in range(300)])
    right = _frame(rng, [f"r{i}" for i in range(250)])
    _, state = match(left, right, config, return_state=True)
    for round_no in range(4):
        left, changed_left = _mutate(left, rng, "L", round_no)
        right, changed_right = _mutate(right, rng, "R", round_no) if round_no != 1 else (right, [])
        state = pickle.loads(pickle.dumps(state))  # as stored between runs
        confirmed = {(left.index[0], right.index[0])}
        result, state = match_incremental(
            left,
            right,
            state,
            config,
            changed_left=changed_left,
            changed_right=changed_right,
            confirmed=confirmed,
        )
        full, full_state = match(left, right, config, confirmed=confirmed, return_state=True)
        _assert_same(result, state, full, full_state)


def test_blocking_update_equals_rebuild_on_generated_lists(generated):
    left, right, _ = generated
    left, right = prepare(left), prepare(right)
    config = MatchConfig()
    _, state = match(left, right, config, return_state=True)
    rng = np.random.default_rng(4)
    for round_no in range(2):
        new_left, changed_left = _mutate(left, rng, "L", round_no)
        new_right, changed_right = _mutate(right, rng, "R", round_no)
        result, state = match_incremental(
            new_left, new_right, state, config, changed_left=changed_left, changed_right=changed_right
        )
        full, full_state = match(new_left, new_right, config, return_state=True)
        _assert_same(result, state, full, full_state)
        _, raw = BlockingIndex.build(new_left, new_right, config)
        rebuilt = union(raw, len(new_right))
        np.testing.assert_array_equal(state.pair_l, rebuilt.li)
        np.testing.assert_array_equal(state.bits, rebuilt.bits)
        left, right = new_left, new_right


def test_unlisted_new_records_count_as_added_and_config_changes_run_in_full():
    rng = np.random.default_rng(9)
    left = _frame(rng, range(100))
    right = _frame(rng, range(100, 180))
    _, state = match(left, right, return_state=True)
    extra = _frame(rng, range(1000, 1005))
    left2 = pd.concat([left, extra])
    result, _ = match_incremental(left2, right, state)  # the caller forgot to list the new ids
    pd.testing.assert_frame_equal(result, match(left2, right))
    config = MatchConfig(window=9)
    result, state2 = match_incremental(left2, right, state, config)
    pd.testing.assert_frame_equal(result, match(left2, right, config))
    assert state2.index.window == 9


def test_a_state_of_the_previous_engine_version_means_a_full_run():
    rng = np.random.default_rng(2)
    left, right = _frame(rng, range(50)), _frame(rng, range(50, 90))

    class Old:  # what an old pickle unpickles to: no version, no index
        scores = pd.DataFrame({"left_id": [], "right_id": [], "score": []})
        model = None

    result, state = match_incremental(left, right, Old())
    pd.testing.assert_frame_equal(result, match(left, right))
    assert state.index is not None
