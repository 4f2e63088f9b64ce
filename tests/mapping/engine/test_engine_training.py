"""Training the scoring model with recordlinkage's classifiers (supervised and unsupervised)."""

import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import recordlinkage as rl

from mapping.engine import (
    DEFAULT_MODEL,
    MatchConfig,
    ScoringModel,
    match,
    pair_features,
    prepare,
    train,
    train_unsupervised,
)
from mapping.engine.blocking import candidate_pairs
from mapping.engine.learn import ORIGIN_ECM, ORIGIN_LOGISTIC, fit_logistic, fit_unsupervised, to_scoring_model
from mapping.engine.scoring import RULE_NONE, rules

from .conftest import ROOT


def _f1(result, truth):
    result = result[result["status"] == "match"]
    predicted = set(zip(result["left_id"], result["right_id"], strict=True))
    gold = set(zip(truth["left_id"], truth["right_id"], strict=True))
    tp = len(predicted & gold)
    precision, recall = tp / max(len(predicted), 1), tp / max(len(gold), 1)
    return 2 * precision * recall / max(precision + recall, 1e-9)


@pytest.fixture(scope="module")
def labelled():
    """Another generated pair (not the held-out one): every candidate pair blocking proposes, labelled."""
    from bench.generate import generate_pair

    left, right, truth = generate_pair(n=800, seed=3)
    left, right = prepare(left), prepare(right)
    cands = candidate_pairs(left, right, MatchConfig())
    pairs = pd.DataFrame(
        {
            "left_id": left.index.to_numpy()[cands["li"].to_numpy()],
            "right_id": right.index.to_numpy()[cands["ri"].to_numpy()],
        }
    )
    gold = set(zip(truth["left_id"], truth["right_id"], strict=True))
    pairs["is_match"] = [p in gold for p in zip(pairs["left_id"], pairs["right_id"], strict=True)]
    return left, right, pairs


@pytest.fixture
def spy(monkeypatch):
    """Records which recordlinkage classifiers get fitted."""
    fitted = []

    def wrap(cls, method):
        original = getattr(cls, method)

        def recorded(self, *args, **kwargs):
            fitted.append(type(self))
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, method, recorded)

    wrap(rl.LogisticRegressionClassifier, "fit")
    wrap(rl.ECMClassifier, "fit")
    return fitted


def test_train_fits_recordlinkage_logistic_regression(labelled, generated, spy):
    left, right, pairs = labelled
    model = train(left, right, pairs)
    assert isinstance(model, ScoringModel)
    assert model.origin == ORIGIN_LOGISTIC
    assert rl.LogisticRegressionClassifier in spy
    assert dict(model.weights)["name_jw"] > 0 and model.bias < 0

    held_left, held_right, truth = generated
    held_left, held_right = prepare(held_left), prepare(held_right)
    default_f1 = _f1(match(held_left, held_right), truth)
    trained_f1 = _f1(match(held_left, held_right, MatchConfig(model=model)), truth)
    print(f"held-out F1: default {default_f1:.4f}, trained {trained_f1:.4f}")
    assert trained_f1 >= default_f1 - 0.02


def test_scoring_model_reproduces_the_recordlinkage_classifier(labelled):
    """The conversion is exact: on the pairs the sure rules leave to the model, ScoringModel.score is the
    fitted classifier's own match probability."""
    left, right, pairs = labelled
    features = pair_features(left, right, pairs)
    features.index = pd.MultiIndex.from_frame(pairs[["left_id", "right_id"]])
    classifier = fit_logistic(features, pairs["is_match"])
    assert isinstance(classifier, rl.LogisticRegressionClassifier)
    model = to_scoring_model(classifier)
    undecided = rules(features) == RULE_NONE
    expected = classifier.prob(features.loc[undecided].astype(np.float64)).to_numpy()
    np.testing.assert_allclose(model.score(features)[undecided], expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(dict(model.weights)["name_jw"], classifier.coefficients[0])


def test_train_unsupervised_fits_recordlinkage_ecm(generated, spy):
    left, right, truth = generated
    left, right = prepare(left), prepare(right)
    model = train_unsupervised(left, right, sample=6000)
    assert isinstance(model, ScoringModel)
    assert model.origin == f"{ORIGIN_ECM} -> {ORIGIN_LOGISTIC}"
    assert rl.ECMClassifier in spy
    assert dict(model.weights)["name_jw"] > 0 and dict(model.weights)["domain_eq"] > 0
    f1 = _f1(match(left, right, MatchConfig(model=model)), truth)
    print(f"unsupervised F1 {f1:.4f}")
    assert f1 >= 0.85


def test_train_unsupervised_on_other_lists_transfers(labelled, generated):
    left, right, _ = labelled
    model = train_unsupervised(left, right, sample=None)
    held_left, held_right, truth = generated
    assert _f1(match(held_left, held_right, MatchConfig(model=model)), truth) >= 0.85


def test_unsupervised_learns_from_the_ecm_posterior(labelled):
    left, right, pairs = labelled
    features = pair_features(left, right, pairs)
    model, ecm, logistic = fit_unsupervised(features)
    assert isinstance(ecm, rl.ECMClassifier) and isinstance(logistic, rl.LogisticRegressionClassifier)
    assert 0 < ecm.p < 0.5
    # agreeing names are evidence for a match, conflicting countries against it
    assert ecm.log_weights["name_jw"][1] > 0 > ecm.log_weights["country_no_conflict"][0]
    # learnt without a label, the model agrees with the truth on most pairs
    scores = model.score(features)
    assert ((scores >= 0.5) == pairs["is_match"].to_numpy()).mean() > 0.97


def test_sample_is_repeatable(generated):
    left, right, _ = generated
    a = train_unsupervised(left, right, sample=3000, seed=1)
    assert a == train_unsupervised(left, right, sample=3000, seed=1)


def test_origin_is_recorded_but_not_compared():
    assert DEFAULT_MODEL.origin == "hand-set"
    relabelled = ScoringModel(weights=DEFAULT_MODEL.weights, bias=DEFAULT_MODEL.bias, origin="elsewhere")
    assert relabelled == DEFAULT_MODEL and hash(relabelled) == hash(DEFAULT_MODEL)
    assert pickle.loads(pickle.dumps(relabelled)).origin == "elsewhere"
    assert DEFAULT_MODEL.as_dict()["origin"] == "hand-set"


def test_training_needs_both_classes(labelled):
    left, right, pairs = labelled
    with pytest.raises(ValueError, match="both"):
        train(left, right, pairs.assign(is_match=False))


def test_matching_does_not_import_recordlinkage():
    """Classification stays on the engine's vectorised ScoringModel: the match path never loads
    recordlinkage (or sklearn), which only training needs."""
    code = (
        "import sys; import pandas as pd; from mapping.engine import match; "
        "match(pd.DataFrame({'name': ['Acme Inc']}), pd.DataFrame({'name': ['ACME Incorporated']})); "
        "assert 'recordlinkage' not in sys.modules and 'sklearn' not in sys.modules, 'imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
