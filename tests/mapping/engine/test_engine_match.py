import numpy as np
import pandas as pd
import pytest

from mapping.engine import (
    MatchConfig,
    match,
    match_block,
    match_incremental,
    merge_block_results,
    prepare,
    split_blocks,
    train,
)
from mapping.engine.assign import greedy_one_to_one


def _f1(result, truth):
    predicted = set(zip(result["left_id"], result["right_id"], strict=True))
    gold = set(zip(truth["left_id"], truth["right_id"], strict=True))
    tp = len(predicted & gold)
    precision, recall = tp / max(len(predicted), 1), tp / max(len(gold), 1)
    return 2 * precision * recall / max(precision + recall, 1e-9)


LEFT = pd.DataFrame(
    [
        {
            "name": "Acme Software Inc",
            "website": "https://www.acmesoftware.com",
            "country": "USA",
            "city": "Boston",
        },
        {"name": "Globex Corporation", "website": "globex.com", "country": "US"},
        {"name": "Initech GmbH", "website": None, "country": "Deutschland", "city": "Berlin"},
        {"name": "Umbrella Ltd", "website": None, "country": "UK", "city": "London"},
    ],
    index=[1, 2, 3, 4],
)
RIGHT = pd.DataFrame(
    [
        {
            "name": "ACME SOFTWARE",
            "website": "acmesoftware.com",
            "country": "United States",
            "city": "boston",
        },
        {"name": "Acme Systems", "website": "acmesystems.com", "country": "US", "city": "Boston"},
        {"name": "Globex Corp.", "website": "http://shop.globex.com", "country": "United States of America"},
        {"name": "Initech", "website": "initech.de", "country": "DE", "city": "Berlin"},
        {"name": "Umbrela Limited", "website": "", "country": "Great Britain", "city": "London"},
    ],
    index=["a", "b", "c", "d", "e"],
)


def test_match_finds_the_shared_accounts_and_not_the_sibling():
    result = match(LEFT, RIGHT)
    pairs = set(zip(result["left_id"], result["right_id"], strict=True))
    assert {(1, "a"), (2, "c"), (3, "d"), (4, "e")} <= pairs
    assert (1, "b") not in pairs
    assert result["score"].between(0, 1).all()
    assert set(result["status"]) <= {"match", "review"}
    assert list(result.columns[:6]) == ["left_id", "right_id", "score", "status", "reasons", "passes"]


def test_reasons_explain_the_match():
    result = match(LEFT, RIGHT).set_index(["left_id", "right_id"])
    acme = result.loc[(1, "a"), "reasons"]
    assert acme.startswith("domain equal (exact-domain")
    assert "name equal" in acme and "country equal" in acme and "city equal" in acme
    initech = result.loc[(3, "d"), "reasons"]
    assert "domain spells the other's name" in initech and "stem-to-name" in initech
    umbrella = result.loc[(4, "e"), "reasons"]
    assert "domain missing" in umbrella and "name 0.9" in umbrella
    globex = result.loc[(2, "c"), "reasons"]
    assert "city missing" in globex


def test_statuses_follow_thresholds():
    result = match(LEFT, RIGHT, MatchConfig(threshold=0.999, review_threshold=0.01))
    assert (result.loc[result["score"] >= 0.999, "status"] == "match").all()
    assert (result.loc[result["score"] < 0.999, "status"] == "review").all()
    assert (result["status"] == "review").any()


def test_reviewed_pairs_win_over_the_engine():
    result = match(LEFT, RIGHT, confirmed={(1, "b")}, rejected={(2, "c")})
    pairs = set(zip(result["left_id"], result["right_id"], strict=True))
    assert (1, "b") in pairs and (1, "a") not in pairs  # confirmed, and still one-to-one
    assert (2, "c") not in pairs
    row = result.set_index(["left_id", "right_id"]).loc[(1, "b")]
    assert row["status"] == "match" and row["score"] == 1.0
    assert row["reasons"].startswith("confirmed by reviewer")
    # a confirmed pair blocking never proposed is matched too
    result = match(LEFT, RIGHT, confirmed={(4, "b")})
    assert (4, "b") in set(zip(result["left_id"], result["right_id"], strict=True))


def test_one_to_one():
    left = pd.DataFrame({"name": ["Acme Inc", "ACME INC.", "Acme Incorporated"]}, index=[1, 2, 3])
    right = pd.DataFrame({"name": ["Acme", "Acme Inc"]}, index=["x", "y"])
    result = match(left, right)
    assert len(result) == 2
    assert result["left_id"].is_unique and result["right_id"].is_unique


def test_greedy_one_to_one_is_greedy_by_score():
    li = np.array([0, 0, 1, 1, 2])
    ri = np.array([0, 1, 0, 1, 1])
    score = np.array([0.9, 0.8, 0.85, 0.1, 0.7])
    kept = greedy_one_to_one(li, ri, score)
    assert sorted(zip(li[kept], ri[kept], strict=True)) == [(0, 0), (2, 1)]


def test_f1_on_generated_lists(generated):
    left, right, truth = generated
    result = match(left, right)
    assert _f1(result[result["status"] == "match"], truth) >= 0.95


def _edit(left, right, rng):
    """A copy of the lists with ~5% of records added, edited or removed on both sides."""
    left, right = left.copy(), right.copy()
    changed_left, changed_right = [], []
    for frame, changed in ((left, changed_left), (right, changed_right)):
        ids = list(frame.index)
        for i in rng.choice(len(ids), size=len(ids) // 30, replace=False):
            frame.loc[ids[i], "name"] = str(frame.loc[ids[i], "name"]) + " Holdings"
            changed.append(ids[i])
    removed_left = list(rng.choice(left.index.to_numpy(), size=20, replace=False))
    left = left.drop(index=removed_left)
    # a new right record copying a left one (a fresh overlap) and a right record removed
    new = right.iloc[[0]].copy()
    new.index = ["new-1"]
    new["name"] = left["name"].iloc[5]
    right = pd.concat([right.drop(index=right.index[1]), new])
    changed_right.append("new-1")
    return left, right, changed_left, changed_right


def test_incremental_equals_full_rerun(generated):
    left, right, _ = generated
    left, right = prepare(left), prepare(right)
    _, state = match(left, right, return_state=True)
    new_left, new_right, changed_left, changed_right = _edit(left, right, np.random.default_rng(3))
    new_left, new_right = prepare(new_left, force=True), prepare(new_right, force=True)
    confirmed, rejected = {(new_left.index[0], new_right.index[0])}, {(new_left.index[1], new_right.index[2])}
    incremental, state2 = match_incremental(
        new_left,
        new_right,
        state,
        changed_left=changed_left,
        changed_right=changed_right,
        confirmed=confirmed,
        rejected=rejected,
    )
    full, full_state = match(new_left, new_right, confirmed=confirmed, rejected=rejected, return_state=True)
    pd.testing.assert_frame_equal(incremental, full)
    pd.testing.assert_frame_equal(state2.scores, full_state.scores)


def test_blocks_union_equals_one_shot(generated):
    left, right, _ = generated
    one_shot = match(left, right, rejected={(left.index[0], right.index[0])})
    blocks = split_blocks(left, right, 4)
    assert len(blocks) == 4
    results = [match_block(b) for b in blocks]
    merged = merge_block_results(
        results + results[:1],  # a re-delivered block changes nothing
        rejected={(left.index[0], right.index[0])},
    )
    pd.testing.assert_frame_equal(merged, one_shot)


def test_train_fits_a_usable_model(generated):
    left, right, truth = generated
    left, right = prepare(left), prepare(right)
    result = match(left, right, MatchConfig(review_threshold=0.01))
    gold = set(zip(truth["left_id"], truth["right_id"], strict=True))
    labelled = result[["left_id", "right_id"]].copy()
    labelled["is_match"] = [
        pair in gold for pair in zip(labelled["left_id"], labelled["right_id"], strict=True)
    ]
    model = train(left, right, labelled)
    assert dict(model.weights)["name_jw"] > 0
    retrained = match(left, right, MatchConfig(model=model))
    assert _f1(retrained[retrained["status"] == "match"], truth) >= 0.9


def test_empty_and_degenerate_inputs():
    empty = pd.DataFrame({"name": []})
    assert match(empty, RIGHT).empty
    assert match(LEFT, empty).empty
    blank = pd.DataFrame({"name": [None, ""]}, index=[1, 2])
    assert match(blank, blank).empty


@pytest.mark.parametrize("n", [1, 3])
def test_split_blocks_any_n(n):
    blocks = split_blocks(LEFT, RIGHT, n)
    merged = merge_block_results([match_block(b) for b in blocks])
    pd.testing.assert_frame_equal(merged, match(LEFT, RIGHT))
