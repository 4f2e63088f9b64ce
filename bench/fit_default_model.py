"""Fit the engine's default scoring model on generated lists and print it (to paste into scoring.py).

    .venv/bin/python bench/fit_default_model.py [--n 10000] [--seeds 101 102]

Generated lists only (seeds the benchmark never uses: it scores seed 7, the tests use 11): the real
benchmarks stay held out, so their figures say how the model carries over to data it has not seen.
Every candidate pair blocking proposes is labelled by the generator's truth and fitted with
recordlinkage's logistic regression (engine.train); the printed model is rounded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generate import generate_pair  # noqa: E402
from mapping.engine import MatchConfig, prepare, train  # noqa: E402
from mapping.engine.blocking import candidate_pairs  # noqa: E402


def labelled(n: int, seed: int):
    left, right, truth = generate_pair(n, seed)
    left, right = prepare(left), prepare(right)
    cands = candidate_pairs(left, right, MatchConfig())
    pairs = pd.DataFrame(
        {
            "left_id": left.index.to_numpy()[cands["li"].to_numpy()],
            "right_id": right.index.to_numpy()[cands["ri"].to_numpy()],
        }
    )
    true = pd.MultiIndex.from_frame(truth)
    pairs["is_match"] = pd.MultiIndex.from_frame(pairs[["left_id", "right_id"]]).isin(true)
    return left, right, pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, nargs="*", default=[101, 102])
    args = parser.parse_args()
    lefts, rights, pairs = [], [], []
    for seed in args.seeds:
        left, right, p = labelled(args.n, seed)
        prefix = f"s{seed}-"
        left.index = prefix + left.index.astype(str)
        right.index = prefix + right.index.astype(str)
        p["left_id"] = prefix + p["left_id"].astype(str)
        p["right_id"] = prefix + p["right_id"].astype(str)
        lefts.append(left)
        rights.append(right)
        pairs.append(p)
    # one fit over all seeds; word weights are learned per seed's lists (as a run would)
    from mapping.engine import pair_features
    from mapping.engine.learn import fit_logistic, to_scoring_model

    feats = [pair_features(lft, rgt, p) for lft, rgt, p in zip(lefts, rights, pairs, strict=True)]
    features = pd.concat(feats, ignore_index=True)
    allp = pd.concat(pairs, ignore_index=True)
    features.index = pd.MultiIndex.from_frame(allp[["left_id", "right_id"]])
    model = to_scoring_model(fit_logistic(features, allp["is_match"].to_numpy()))
    print(f"pairs={len(allp)} matches={int(allp['is_match'].sum())}")
    print("weights=(")
    for name, weight in model.weights:
        print(f'    ("{name}", {weight:.1f}),')
    print(f"), bias={model.bias:.1f}")
    assert train  # the frame-level entry point does the same for one pair of lists


if __name__ == "__main__":
    main()
