"""Dirty company names as real lists write them: each noise class as a pair that must match, beside its
confusable twin that must not; word weights learned from the lists; the rare-word candidate pass;
unreliable domains; incremental still equal to full when the lists' word weights move."""

import numpy as np
import pandas as pd
import pytest

from mapping.engine import MatchConfig, match, match_incremental, prepare
from mapping.engine.blocking import PASSES, candidate_pairs
from mapping.engine.reliability import junk_domains
from mapping.engine.tokens import TokenTable, deletion_keys, learn_weights

# Unrelated companies beside each tested pair, so the lists look like lists (and no pair is alone).
FILLER = [
    "Quillon Freight",
    "Bramble Dental",
    "Osterfeld Mills",
    "Yarrow Analytics",
    "Pennick Bakery",
    "Tovald Marine",
    "Hesketh Printing",
    "Larkspur Clinics",
    "Marrow Steelworks",
    "Ondine Textiles",
]


def _lists(left_rows: list[dict], right_rows: list[dict]):
    left = pd.DataFrame(left_rows + [{"name": f"{n} Ltd"} for n in FILLER[:5]])
    right = pd.DataFrame(right_rows + [{"name": f"{n} Inc"} for n in FILLER[5:]])
    left.index = [f"L{i}" for i in range(len(left))]
    right.index = [f"R{i}" for i in range(len(right))]
    return prepare(left), prepare(right)


def _status(left_row: dict, right_row: dict) -> tuple[str | None, str]:
    left, right = _lists([left_row], [right_row])
    result = match(left, right)
    pair = result[(result["left_id"] == "L0") & (result["right_id"] == "R0")]
    if pair.empty:
        return None, ""
    return pair["status"].iloc[0], pair["reasons"].iloc[0]


MUST_MATCH = [
    # extra words on one side: share classes and listing noise, CRM notes, the name written twice
    ("Harbor Minerals Ltd. Class A", "Harbor Minerals"),
    ("Velmont SA Velmont Ord Shs", "Velmont S.A."),
    ("Quarrytown Foods Inc. DL -,01", "Quarrytown Foods"),
    ("Nordlys Energy Corp. Common Shares", "Nordlys Energy Corporation"),
    ("Brevik AB B Fria", "Brevik AB"),
    ("Acme Corp - EMEA", "Acme Corporation"),
    ("Acme Inc (old)", "ACME INC"),
    ("Tarrow Instruments Tarrow Instruments", "Tarrow Instruments GmbH"),
    # abbreviated words, with or without dots
    ("Ostrander Techn. Inc.", "Ostrander Technology, Inc."),
    ("Calder Sys Inc", "Calder Systems"),
    ("Sunda Mak.Sej.", "PT Sunda Makmur Sejahtera Tbk"),
    ("Danube Nor", "Danube Nordic A/S"),
    # joiners and spacing
    ("K+L Bau", "K und L Bau"),
    ("K & L Bau GmbH", "K+L Bau"),
    ("2+2 Telecom", "2&2 Telecom"),
    ("Z 7 Retail", "Z7 Retail"),
    # legal forms in local languages and odd positions
    ("PT Sunda Makmur Sejahtera Tbk", "Sunda Makmur Sejahtera"),
    ("Koninklijke Ahold N.V.", "Ahold Kon."),
    ("Brevik AB (publ)", "Brevik"),
    ("Lusso S.p.A", "Lusso SpA"),
    ("Fjord Seafood A.S.A.", "Fjord Seafood ASA"),
]


@pytest.mark.parametrize(("left_name", "right_name"), MUST_MATCH)
def test_noise_class_pairs_match(left_name, right_name):
    status, reasons = _status({"name": left_name}, {"name": right_name})
    assert status == "match", (left_name, right_name, reasons)


def test_a_name_of_initials_and_stubs_reaches_review():
    """Every word cut to its first letters: the words agree (weighted), the spelling does not; a person
    should confirm it."""
    status, reasons = _status({"name": "Northw.Ai.Br.T."}, {"name": "Northwind Air Brake Technologies"})
    assert status in ("review", "match"), reasons
    assert "rare words agree: northw, ai, br" in reasons


def test_country_missing_or_another_when_the_name_is_unmistakable():
    """The name-only path: a listing's or a subsidiary's country does not outweigh the name."""
    status, _ = _status(
        {"name": "Nordlys Energy Corp. Common Shares", "country": "Norway"},
        {"name": "Nordlys Energy", "country": "US"},
    )
    assert status == "match"
    status, _ = _status(
        {"name": "Ostrander Techn. Inc.", "country": ""},
        {"name": "Ostrander Technology, Inc.", "country": "Canada"},
    )
    assert status == "match"


MUST_NOT_MATCH = [
    ({"name": "Acme Resources Ltd Class A"}, {"name": "Acme Robotics Ltd"}),
    # a same-named company in another country with another domain
    (
        {"name": "Acme Robotics", "country": "US", "website": "acmerobotics.com"},
        {"name": "Acme Robotics GmbH", "country": "DE", "website": "acme-robots.de"},
    ),
    ({"name": "Calder Systems"}, {"name": "Calder Sails"}),
    ({"name": "K+L Bau"}, {"name": "K+M Bau"}),
]


@pytest.mark.parametrize(("left_row", "right_row"), MUST_NOT_MATCH)
def test_confusable_twins_do_not_match(left_row, right_row):
    status, reasons = _status(left_row, right_row)
    assert status != "match", (left_row, right_row, reasons)


def test_explanations_name_the_rare_words_that_agreed():
    status, reasons = _status({"name": "Harbor Minerals Ltd. Class A"}, {"name": "Harbor Minerals"})
    assert status == "match"
    assert "rare words agree: harbor, minerals" in reasons or "rare words agree: minerals, harbor" in reasons


# --- word weights ----------------------------------------------------------------------------------


def test_word_weights_on_a_toy_list():
    """Common words weigh little, rare ones 1; a word common in either list is common."""
    left = np.array([f"firm{i} grp" for i in range(300)] + ["zeta grp", "omega"], dtype=object)
    right = np.array([f"other{i} shares" for i in range(300)] + ["zeta shares", "omega grp"], dtype=object)
    table = TokenTable(left, right)
    weight = dict(zip(table.words.tolist(), table.word_weight.tolist(), strict=True))
    assert weight["zeta"] == weight["omega"] == weight["firm7"] == 1.0
    assert weight["grp"] < 0.25 and weight["shares"] < 0.25  # on ~300 of ~300 records of one list
    # "omega grp" is the only "grp" of the right list: the left list's frequency still counts
    assert weight["grp"] == pytest.approx(
        float(learn_weights(left, right).lookup(pd.util.hash_array(np.array(["grp"], dtype=object)))[0])
    )
    dice, contain = table.overlap(np.array([300]), np.array([300]))  # zeta grp / zeta shares
    assert dice[0] > 0.8 and contain[0] > 0.8  # the rare word carries the pair
    few = TokenTable(np.array(["alpha grp", "beta grp"], dtype=object), np.array(["gamma grp"], dtype=object))
    few_weight = dict(zip(few.words.tolist(), few.word_weight.tolist(), strict=True))
    assert few_weight["grp"] > 0.8  # three records cannot show that a word is common


def test_weights_only_move_in_steps():
    names = np.array([f"n{i} alpha" for i in range(40)], dtype=object)
    a = learn_weights(names, names)
    # 41 records with "alpha": the same half-octave step; a new word weighs what an unknown one does
    assert len(learn_weights(np.append(names, "n99 alpha"), names).changed_words(a)) == 0
    more = np.append(names, [f"m{i} alpha" for i in range(6)])  # 46: the next step
    changed = learn_weights(more, names).changed_words(a)
    assert changed.tolist() == pd.util.hash_array(np.array(["alpha"], dtype=object)).tolist()
    assert learn_weights(names[:20], names).changed_words(a) is not None
    assert learn_weights(np.repeat(names, 60), names).changed_words(a) is None  # 2400 records: a size step


# --- candidates ------------------------------------------------------------------------------------


def test_a_pair_sharing_only_a_rare_word_is_a_candidate():
    """Far apart in every sort order, no domain: only the rare-word pass can find it."""
    left_rows = [{"name": "Aardvark Quenneville Holdings"}] + [{"name": f"B{i:03d} Works"} for i in range(60)]
    right_rows = [{"name": "Zulu Group Quenneville"}] + [{"name": f"Y{i:03d} Works"} for i in range(60)]
    left, right = _lists(left_rows, right_rows)
    cands = candidate_pairs(left, right, MatchConfig())
    found = cands[(left.index[cands["li"]] == "L0") & (right.index[cands["ri"]] == "R0")]
    assert len(found) == 1 and found["passes"].iloc[0] & PASSES["rare-word"]


def test_a_pair_one_typo_apart_is_a_candidate_of_the_rare_word_pass():
    """No shared word, prefix or word pair: the deletion keys of the first word ("kevi" / "kvei") and of
    the name without spaces ("de priest" / "depriest") bring them together."""
    left_rows = [{"name": "Kevi Service"}, {"name": "De Priest"}] + [
        {"name": f"B{i:03d} Works"} for i in range(60)
    ]
    right_rows = [{"name": "Kvei Svcs"}, {"name": "Depriest"}] + [
        {"name": f"Y{i:03d} Works"} for i in range(60)
    ]
    left, right = _lists(left_rows, right_rows)
    cands = candidate_pairs(left, right, MatchConfig())
    for lid, rid in (("L0", "R0"), ("L1", "R1")):
        found = cands[(left.index[cands["li"]] == lid) & (right.index[cands["ri"]] == rid)]
        assert len(found) == 1 and found["passes"].iloc[0] & PASSES["rare-word"], (lid, rid)


def test_deletion_keys_meet_at_one_edit_only():
    keys = deletion_keys(
        np.array(["cogun", "cognu", "cogan", "cgun", "coguns", "acme", "zeta"], dtype=object), 10
    )
    shared = [len((set(keys[0]) & set(keys[i])) - {0}) > 0 for i in range(1, 7)]
    assert shared == [True, True, True, True, False, False]


def test_candidate_recall_on_generated_lists(generated):
    left, right, truth = generated
    left, right = prepare(left), prepare(right)
    cands = candidate_pairs(left, right, MatchConfig())
    proposed = pd.MultiIndex.from_arrays(
        [left.index.to_numpy()[cands["li"]], right.index.to_numpy()[cands["ri"]]]
    )
    assert pd.MultiIndex.from_frame(truth).isin(proposed).mean() >= 0.99


# --- unreliable domains ----------------------------------------------------------------------------


def test_a_domain_on_many_differently_named_records_is_no_evidence():
    junk = [
        {"name": n, "website": "www.reseller-portal.com"}
        for n in ("Blue Finch Tools", "Pardo Optics", "Vintry Wines", "Kessel Foods")
    ]
    left, right = _lists(junk, [{"name": "Blue Fjord Systems", "website": "reseller-portal.com"}])
    assert junk_domains(left)[:4].all() and not junk_domains(right).any()
    result = match(left, right)
    assert not (
        (result["left_id"] == "L0") & (result["right_id"] == "R0") & (result["status"] == "match")
    ).any()


def test_a_company_with_branches_keeps_its_domain():
    branches = [{"name": n, "website": "acme.com"} for n in ("Acme UK", "Acme GmbH", "Acme Software Labs")]
    left, right = _lists(branches, [{"name": "Acme Corporation", "website": "acme.com"}])
    assert not junk_domains(left).any()


# --- incremental -----------------------------------------------------------------------------------


def test_incremental_equals_full_when_word_weights_move():
    rng = np.random.default_rng(3)
    base = [{"name": f"{FILLER[i % 10]} {i} Shares", "country": ["US", "DE"][i % 2]} for i in range(80)]
    left, right = _lists(base[:40], base[40:] + [{"name": "Pennick Bakery 3 Shares"}])
    full, state = match(left, right, return_state=True)
    # many new "Shares" records: the word's weight moves a step, every pair holding it is re-judged
    added = pd.DataFrame(
        [{"name": f"Novel{k} Shares Class B", "website": "junk-site.com"} for k in range(60)],
        index=[f"N{k}" for k in range(60)],
    )
    left2 = pd.concat([left, prepare(added).reindex(columns=left.columns)])
    left2 = left2.iloc[rng.permutation(len(left2))]
    before = state.context.weights
    result, state2 = match_incremental(left2, right, state, changed_left=list(added.index))
    expected, expected_state = match(left2, right, return_state=True)
    assert len(state2.context.weights.changed_words(before)) > 0
    pd.testing.assert_frame_equal(result, expected)
    pd.testing.assert_frame_equal(state2.scores, expected_state.scores)
