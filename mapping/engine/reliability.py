"""What a run learns from the two whole lists before it compares a single pair.

* Word weights (tokens.learn_weights): common words count little.
* Unreliable domains, per list: a domain that stands on records of several differently named
  companies of one list (a placeholder, the reseller's own site typed on its customers) is no
  evidence on that list; its records are compared as if they had no website.  "Differently named":
  records of one company share the first word of their name ("Acme UK", "Acme GmbH"), so a domain is
  unreliable when its records' names start with JUNK_DISTINCT_NAMES or more different words.

Both depend on the lists, not on one pair, so a run computes them once (`learn_context`) and hands
them to every block; an incremental run re-scores the records whose words or domain they re-judge.
The context holds plain arrays only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .tokens import TokenWeights, learn_weights

JUNK_DISTINCT_NAMES = 3


@dataclass
class ListContext:
    weights: TokenWeights
    junk_l: np.ndarray  # bool per left record (frame order): its domain is no evidence
    junk_r: np.ndarray

    def subset(self, left_rows: np.ndarray, right_rows: np.ndarray) -> ListContext:
        return ListContext(self.weights, self.junk_l[left_rows], self.junk_r[right_rows])


def effective_domains(frame: pd.DataFrame) -> np.ndarray:
    domain = frame["domain_norm"].to_numpy(dtype=object)
    email = frame["email_domain_norm"].to_numpy(dtype=object)
    return np.where(domain == "", email, domain)


def junk_domains(frame: pd.DataFrame, first_words: np.ndarray | None = None) -> np.ndarray:
    """Per record: its (effective) domain stands on JUNK_DISTINCT_NAMES+ differently named companies.
    `first_words`: a code of each record's first name word (computed here when not given)."""
    domains = effective_domains(frame)
    if len(domains) == 0:
        return np.zeros(0, dtype=bool)
    has = np.flatnonzero(domains != "")
    if not len(has):
        return np.zeros(len(domains), dtype=bool)
    if first_words is None:
        codes, uniques = pd.factorize(frame["name_norm"].to_numpy(dtype=object))
        first_words = pd.factorize(np.array([n.split(" ", 1)[0] for n in uniques.tolist()] + [""],
                                            dtype=object))[0][codes]
    domain_codes = pd.factorize(pd.util.hash_array(domains[has], categorize=False))[0]
    table = pd.DataFrame({"d": domain_codes, "f": np.asarray(first_words)[has]})
    distinct = table.drop_duplicates()["d"].value_counts()
    bad = np.zeros(int(domain_codes.max()) + 1, dtype=bool)
    bad[distinct.index[distinct.to_numpy() >= JUNK_DISTINCT_NAMES].to_numpy()] = True
    out = np.zeros(len(domains), dtype=bool)
    out[has] = bad[domain_codes]
    return out


def learn_context(left: pd.DataFrame, right: pd.DataFrame, tokens=None) -> ListContext:
    """The context of two whole lists (`tokens`: their tokens.TokenTable, which learned the weights)."""
    if tokens is None:
        weights = learn_weights(left["name_norm"].to_numpy(dtype=object),
                                right["name_norm"].to_numpy(dtype=object))
        return ListContext(weights, junk_domains(left), junk_domains(right))
    return ListContext(tokens.weighting, junk_domains(left, tokens.first_words("left")),
                       junk_domains(right, tokens.first_words("right")))
