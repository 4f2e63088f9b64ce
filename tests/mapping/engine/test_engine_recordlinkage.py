"""The engine's passes and features behind recordlinkage's Index and Compare give exactly what the
engine computes itself."""

import numpy as np
import pandas as pd
import pytest
import recordlinkage

from bench.generate import generate_pair
from mapping.engine import MatchConfig, pair_features, prepare
from mapping.engine.blocking import PASSES, candidate_pairs
from mapping.engine.features import FEATURES
from mapping.engine.rl import EngineFeatures, EnginePasses


@pytest.fixture(scope="module")
def lists():
    left, right, _truth = generate_pair(n=600, seed=3)
    return left, right


def _engine_pairs(left, right, bits=None):
    pl, pr = prepare(left), prepare(right)
    cands = candidate_pairs(pl, pr, MatchConfig())
    if bits is not None:
        cands = cands[(cands["passes"] & bits) != 0]
    return set(zip(pl.index[cands["li"]], pr.index[cands["ri"]], strict=True))


def test_recordlinkage_index_with_every_pass_gives_the_engines_candidates(lists):
    left, right = lists
    indexer = recordlinkage.Index()
    indexer.add(EnginePasses())
    pairs = indexer.index(left, right)
    assert isinstance(pairs, pd.MultiIndex) and len(pairs) > len(left)
    assert set(pairs) == _engine_pairs(left, right)
    assert len(pairs) < len(left) * len(right) / 20  # never a full index


@pytest.mark.parametrize("name", ["exact-domain", "domain-stem", "name-sn", "stem-to-name"])
def test_each_pass_alone_and_their_union_through_recordlinkage(lists, name):
    left, right = lists
    alone = recordlinkage.Index()
    alone.add(EnginePasses([name]))
    found = set(alone.index(left, right))
    assert found == _engine_pairs(left, right, PASSES[name])
    assert found  # every pass finds something on generated lists
    # composed with recordlinkage's own indexer: the union of both
    both = recordlinkage.Index()
    both.add(EnginePasses([name]))
    both.add(recordlinkage.index.Block("country", "country"))
    union = set(both.index(left, right))
    block = recordlinkage.Index()
    block.add(recordlinkage.index.Block("country", "country"))
    assert union == found | set(block.index(left, right))


def test_recordlinkage_compare_gives_the_engines_features(lists):
    left, right = lists
    indexer = recordlinkage.Index()
    indexer.add(EnginePasses(["exact-domain", "name-sn"]))
    pairs = indexer.index(left, right)
    compare = recordlinkage.Compare([EngineFeatures(left, right)])
    features = compare.compute(pairs, left, right)
    assert list(features.columns) == list(FEATURES) and len(features) == len(pairs)
    expected = pair_features(
        left,
        right,
        pd.DataFrame({"left_id": pairs.get_level_values(0), "right_id": pairs.get_level_values(1)}),
    )
    np.testing.assert_allclose(features.to_numpy(dtype=float), expected[list(FEATURES)].to_numpy(dtype=float))
    # and recordlinkage's classifiers take them: ECM on the binarised features
    ecm = recordlinkage.ECMClassifier(binarize=0.8)
    matches = ecm.fit_predict(features.set_axis(pairs))
    assert 0 < len(matches) < len(pairs)


def test_bad_pass_names_and_dedup_are_refused():
    with pytest.raises(ValueError, match="unknown blocking passes"):
        EnginePasses(["soundex"])
    frame = pd.DataFrame({"name": ["Acme"]}, index=[1])
    indexer = recordlinkage.Index()
    indexer.add(EnginePasses())
    with pytest.raises(NotImplementedError):
        indexer.index(frame)
