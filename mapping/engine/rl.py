"""The engine's blocking passes and comparison as recordlinkage components.

The engine computes its candidate pairs and features on integer codes (blocking.py, features.py),
with the semantics of recordlinkage's `Block` / `SortedNeighbourhood` indexers and `Compare`
features, several times faster at a million records. These adapters put the same computations
behind recordlinkage's interfaces, so that they compose with recordlinkage's own indexers,
comparisons and classifiers:

    indexer = recordlinkage.Index()
    indexer.add(EnginePasses())                      # all passes, or EnginePasses(["exact-domain"])
    pairs = indexer.index(left, right)               # MultiIndex (left id, right id)
    features = recordlinkage.Compare([EngineFeatures(left, right)]).compute(pairs, left, right)

`left` / `right` are engine input frames (raw columns, or already prepared), indexed by record id.
tests/mapping/engine/test_engine_recordlinkage.py checks that they give exactly the engine's
candidates and features. recordlinkage is imported here only: `match` never loads it.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from recordlinkage.base import BaseCompareFeature, BaseIndexAlgorithm

from .blocking import PASSES, candidate_pairs
from .config import MatchConfig
from .engine import ensure_prepared, pair_features
from .features import FEATURES


class EnginePasses(BaseIndexAlgorithm):
    """One or more of the engine's blocking passes (names in blocking.PASSES) as a recordlinkage
    indexing algorithm: the record pairs any of them proposes. Linking two frames only."""

    def __init__(self, passes: Iterable[str] | None = None, config: MatchConfig | None = None, **kwargs):
        super().__init__(**kwargs)
        names = list(PASSES) if passes is None else list(passes)
        unknown = [name for name in names if name not in PASSES]
        if unknown or not names:
            raise ValueError(f"unknown blocking passes {unknown}; choose among {', '.join(PASSES)}")
        self.passes, self.config = names, config or MatchConfig()
        self._bits = 0
        for name in names:
            self._bits |= PASSES[name]

    def _link_index(self, df_a: pd.DataFrame, df_b: pd.DataFrame) -> pd.MultiIndex:
        left, right = ensure_prepared(df_a), ensure_prepared(df_b)
        pairs = candidate_pairs(left, right, self.config)
        keep = (pairs["passes"].to_numpy() & self._bits) != 0
        return pd.MultiIndex.from_arrays(
            [
                left.index.to_numpy()[pairs["li"].to_numpy()[keep]],
                right.index.to_numpy()[pairs["ri"].to_numpy()[keep]],
            ]
        )

    def _dedup_index(self, df_a: pd.DataFrame) -> pd.MultiIndex:
        raise NotImplementedError("the engine links two lists; it does not deduplicate one")


class EngineFeatures(BaseCompareFeature):
    """The engine's comparison features (features.FEATURES, one column each) of record pairs, as
    a recordlinkage comparison. Built with both whole lists: token weights depend on them."""

    def __init__(self, left: pd.DataFrame, right: pd.DataFrame, config: MatchConfig | None = None):
        # Empty label lists: recordlinkage passes frames that carry only the pairs' record ids.
        super().__init__([], [], label=list(FEATURES))
        self._left, self._right = ensure_prepared(left), ensure_prepared(right)
        self.config = config or MatchConfig()

    def _compute(self, left_on: tuple, right_on: tuple) -> pd.DataFrame:
        # recordlinkage indexes both frames by the pairs' MultiIndex (left id, right id)
        left_ids = left_on[0].index.get_level_values(0).to_numpy()
        right_ids = right_on[0].index.get_level_values(1).to_numpy()
        pairs = pd.DataFrame({"left_id": left_ids, "right_id": right_ids})
        features = pair_features(self._left, self._right, pairs, self.config)
        return pd.DataFrame({name: np.asarray(features[name]) for name in FEATURES})
