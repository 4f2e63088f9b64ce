"""Fitting the scoring model with recordlinkage's classifiers (training only, never on the match path).

The engine computes blocking and comparison features itself (numpy/rapidfuzz, see blocking.py and
features.py); classification is recordlinkage's:

* supervised: `recordlinkage.LogisticRegressionClassifier` fitted on the feature frame of labelled pairs
  (indexed by a (left_id, right_id) MultiIndex, the true matches passed as `match_index`).  Its fitted
  `coefficients` / `intercept` are exactly the engine's logistic weights and bias.
* unsupervised: `recordlinkage.ECMClassifier` (Fellegi-Sunter model fitted by expectation/conditional
  maximisation) on binarised agreement vectors of candidate pairs.  Its model is naive-Bayes on *binary*
  agreements, and its raw log-likelihood weights are unbounded (a level never seen among matches gets
  log(0)), so they are not mapped one-to-one onto the engine's weights, which act on the continuous
  similarities.  Instead the ECM's posterior match probabilities on the same pairs are distilled into a
  `LogisticRegressionClassifier` on the continuous features: a logistic regression with soft targets
  (each pair enters once as a match with weight p and once as a non-match with weight 1 - p), which
  minimises the cross-entropy to the ECM posterior.  The result scores like any other ScoringModel.

recordlinkage (and through it sklearn) is imported lazily: importing it takes over a second, and `match`
never needs it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .scoring import FEATURE_ORDER, RULE_NONE, ScoringModel, rules

ORIGIN_LOGISTIC = "recordlinkage.LogisticRegressionClassifier"
ORIGIN_ECM = "recordlinkage.ECMClassifier"

# Agreement cut-offs of the continuous features for the ECM (the rest are 0/1 already).  Set from the
# generated lists: the 10th percentile of true matches lies above them, the 95th of non-matches below.
ECM_CUTOFFS = {"name_jw": 0.92, "name_tsr": 0.85, "name_tok": 0.8, "stem_name": 0.85}
# Not an agreement indicator (it says which features could be compared), so the ECM ignores it; the
# distilled logistic model still weighs it.
ECM_IGNORED = ("name_only", "name_contain")

# Inverse L2 strength of the logistic fits (sklearn's C).  sklearn's default 1.0 shrinks the weights of
# these 0..1 features so much that held-out F1 on generated lists drops 1-2 points below the hand-set
# model; 100 matches or beats it (measured on bench/generate.py pairs, n=1000 for training, 2000 held out).
# The distillation targets are already smooth (ECM posteriors), 10 is enough there.
TRAIN_C = 100.0
DISTIL_C = 10.0


def _matrix(features: pd.DataFrame) -> pd.DataFrame:
    return features[list(FEATURE_ORDER)].astype(np.float64)


def to_scoring_model(classifier, origin: str = ORIGIN_LOGISTIC) -> ScoringModel:
    """The engine's ScoringModel from a fitted recordlinkage.LogisticRegressionClassifier on FEATURE_ORDER."""
    coefficients = np.asarray(classifier.coefficients, dtype=np.float64)
    if coefficients.shape != (len(FEATURE_ORDER),):
        raise ValueError(f"expected {len(FEATURE_ORDER)} coefficients, got {coefficients.shape}")
    weights = tuple((name, float(w)) for name, w in zip(FEATURE_ORDER, coefficients, strict=True))
    return ScoringModel(weights=weights, bias=float(classifier.intercept), origin=origin)


def _left_to_model(features: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """Mask of the pairs the sure rules leave to the logistic model (scoring.rules): the rules override
    the model's score on the others, so fitting on them would only pull the weights away from where they
    decide.  All pairs when the rules leave one class only."""
    undecided = rules(features) == RULE_NONE
    if y[undecided].all() or not y[undecided].any():
        undecided[:] = True
    return undecided


def fit_logistic(features: pd.DataFrame, labels, *, c: float = TRAIN_C):
    """Fitted recordlinkage.LogisticRegressionClassifier on labelled pairs' features.

    `features` is indexed by the pairs (a (left_id, right_id) MultiIndex, as recordlinkage's Compare
    returns); any other index is replaced by a positional pair index.  Pairs the sure rules decide are
    left out (`_left_to_model`).
    """
    import recordlinkage as rl

    y = np.asarray(labels, dtype=np.int64) != 0
    if len(y) != len(features):
        raise ValueError("one label per pair expected")
    if y.all() or not y.any():
        raise ValueError("labelled pairs must contain both matches and non-matches")
    x = _matrix(features)
    undecided = _left_to_model(features, y)
    x, y = x[undecided], y[undecided]
    if not isinstance(x.index, pd.MultiIndex) or not x.index.is_unique:
        x.index = pd.MultiIndex.from_arrays([np.arange(len(x)), np.arange(len(x))], names=["left", "right"])
    classifier = rl.LogisticRegressionClassifier(C=c, max_iter=2000)
    classifier.fit(x, x.index[y])
    return classifier


def ecm_vectors(features: pd.DataFrame) -> pd.DataFrame:
    """Binary agreement vectors for the ECM: 1 = evidence for a match.

    Similarities are cut at ECM_CUTOFFS; conflicts are turned into 'no conflict' so every column points
    the same way as the ECM's 'jaro' start (m = 0.9, u = 0.1 for a 1); columns constant over the pairs
    carry nothing and are dropped.
    """
    out = {}
    for name in FEATURE_ORDER:
        if name in ECM_IGNORED:
            continue
        agree = features[name].to_numpy(dtype=np.float64) >= ECM_CUTOFFS.get(name, 0.5)
        if name.endswith("_conflict"):
            agree = ~agree
            name = name.replace("_conflict", "_no_conflict")
        out[name] = agree.astype(np.int8)
    vectors = pd.DataFrame(out, index=features.index)
    return vectors.loc[:, vectors.nunique() > 1]


def fit_ecm(features: pd.DataFrame, *, max_iter: int = 100):
    """Fitted recordlinkage.ECMClassifier on the pairs' binary agreement vectors (`ecm_vectors`)."""
    import recordlinkage as rl

    vectors = ecm_vectors(features)
    if vectors.shape[1] == 0:
        raise ValueError("the pairs agree on nothing that varies: nothing to learn from")
    classifier = rl.ECMClassifier(init="jaro", binarize=None, max_iter=max_iter)
    classifier.fit(vectors)
    return classifier, vectors


def distil(features: pd.DataFrame, prob: np.ndarray, *, c: float = DISTIL_C):
    """recordlinkage.LogisticRegressionClassifier on the continuous features, fitted to soft targets
    `prob` (the cross-entropy to them is minimised: each pair counts as a match with weight p and as a
    non-match with weight 1 - p)."""
    import recordlinkage as rl

    prob = np.clip(np.asarray(prob, dtype=np.float64), 0.0, 1.0)
    x = _matrix(features).to_numpy()
    classifier = rl.LogisticRegressionClassifier(C=c, max_iter=2000)
    # recordlinkage's fit takes hard labels only (a match index); sample weights go to its sklearn kernel.
    classifier.kernel.fit(
        np.vstack([x, x]), np.r_[np.ones(len(x)), np.zeros(len(x))], sample_weight=np.r_[prob, 1.0 - prob]
    )
    return classifier


def fit_unsupervised(features: pd.DataFrame, *, c: float = DISTIL_C, max_iter: int = 100):
    """(ScoringModel, fitted ECMClassifier, distilled LogisticRegressionClassifier) from unlabelled
    candidate pairs' features.

    The ECM sees all the pairs (the clear non-matches pin down its u-probabilities); the logistic model is
    distilled on the pairs the sure rules leave to it (scoring.rules), the only ones its weights decide.
    """
    ecm, vectors = fit_ecm(features, max_iter=max_iter)
    prob = ecm.prob(vectors).to_numpy()
    if not np.isfinite(prob).all():
        raise ValueError("the ECM did not converge on these pairs")
    if prob.min() >= 0.5 or prob.max() < 0.5:
        raise ValueError("the ECM found a single class among the pairs")
    undecided = _left_to_model(features, prob >= 0.5)
    logistic = distil(features.loc[undecided], prob[undecided], c=c)
    return to_scoring_model(logistic, origin=f"{ORIGIN_ECM} -> {ORIGIN_LOGISTIC}"), ecm, logistic
