"""Classification: deterministic rules for sure cases, a logistic model for the rest."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .features import FEATURES

# The model's weights are read in the order the features are computed.
FEATURE_ORDER = FEATURES


@dataclass(frozen=True)
class ScoringModel:
    """p(match) = sigmoid(bias + sum(weight * feature)); weights keyed by feature name.

    `origin` records where the weights come from ('hand-set', the recordlinkage classifier that fitted
    them, '' when unknown); it does not take part in equality (two models with the same weights score
    the same).
    """

    weights: tuple[tuple[str, float], ...]
    bias: float
    origin: str = field(default="", compare=False)

    def score(self, features: pd.DataFrame) -> np.ndarray:
        # Column by column, not a matrix product: BLAS may sum in a different order for different batch
        # sizes, and a pair must score bit-for-bit the same in full, incremental and block runs.
        z = np.full(len(features), self.bias, dtype=np.float64)
        for name, weight in self.weights:
            z += weight * features[name].to_numpy(dtype=np.float64)
        prob = 1.0 / (1.0 + np.exp(-z))
        return apply_rules(features, prob)

    def as_dict(self) -> dict:
        return {"bias": self.bias, "weights": dict(self.weights), "origin": self.origin}


# Hand-set weights: started from `train` on generated lists (bench/generate.py; bench/fit_default_model.py
# prints a fit), rounded, and the location conflicts softened (real accounts have branches in other
# cities; the generator's never do).  Names carry most evidence, the words' agreement (weighted by how
# rare each word is in the lists) as much as the spelling; a shared domain is near-proof; conflicts on
# domain/country pull siblings ("Acme Software" vs "Acme Systems") apart, but a country alone does not
# outweigh a name that agrees word for word (a subsidiary's or a listing's country).  CRM id equality
# has no training data: set by hand.
DEFAULT_MODEL = ScoringModel(
    weights=(
        ("name_jw", 5.0),
        ("name_tsr", 6.0),
        ("name_tok", 6.0),
        ("name_contain", 6.0),
        ("name_exact", 5.0),
        ("domain_eq", 8.0),
        ("stem_eq", 4.0),
        ("domain_conflict", -5.0),
        ("stem_name", 0.5),
        ("country_eq", 1.0),
        ("country_conflict", -4.5),
        ("region_eq", 0.5),
        ("region_conflict", -2.5),
        ("city_eq", 1.2),
        ("city_conflict", -3.0),
        ("postal_eq", 4.0),
        ("postal_conflict", -3.0),
        ("crm_eq", 8.0),
        ("name_only", 1.5),
    ),
    bias=-20.0,
    origin="hand-set",
)

# Rule ids, also used in explanations.
# Below this name similarity, with no domain/stem/CRM agreement, a pair is not worth scoring.
UNRELATED_NAME_SIMILARITY = 0.75
UNRELATED_TOKEN_OVERLAP = 0.5
# ... nor when one name holds this share of the other's word weight ("Chipper Preschool" inside
# "Easter Seals Society of Metropolitan Chicago Chipper Preschool").
UNRELATED_CONTAINMENT = 0.75

RULE_NONE, RULE_CRM, RULE_DOMAIN_AND_NAME, RULE_UNRELATED = 0, 1, 2, 3
RULE_TEXT = {
    RULE_CRM: "sure match: same CRM id",
    RULE_DOMAIN_AND_NAME: "sure match: same domain and same name",
    RULE_UNRELATED: "sure non-match: names differ and nothing else agrees",
}


def rules(features: pd.DataFrame) -> np.ndarray:
    """Rule id per pair (RULE_NONE when the model decides)."""
    f = {
        name: features[name].to_numpy()
        for name in (
            "crm_eq",
            "domain_eq",
            "name_exact",
            "name_jw",
            "name_tok",
            "name_contain",
            "stem_eq",
            "stem_name",
            "country_conflict",
        )
    }
    out = np.zeros(len(features), dtype=np.int8)
    unrelated = (
        (f["name_jw"] < UNRELATED_NAME_SIMILARITY)
        & (f["name_tok"] < UNRELATED_TOKEN_OVERLAP)
        & (f["name_contain"] < UNRELATED_CONTAINMENT)
        & (f["domain_eq"] == 0)
        & (f["stem_eq"] == 0)
        & (f["stem_name"] < 0.8)
    )
    out[unrelated] = RULE_UNRELATED
    out[(f["domain_eq"] == 1) & (f["name_exact"] == 1) & (f["country_conflict"] == 0)] = RULE_DOMAIN_AND_NAME
    out[f["crm_eq"] == 1] = RULE_CRM
    return out


def apply_rules(features: pd.DataFrame, prob: np.ndarray) -> np.ndarray:
    rule = rules(features)
    prob = prob.copy()
    prob[(rule == RULE_CRM) | (rule == RULE_DOMAIN_AND_NAME)] = 1.0
    prob[rule == RULE_UNRELATED] = 0.0
    return prob
