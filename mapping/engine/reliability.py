"""What a run learns from the two whole lists before it compares a single pair.

* Word weights (tokens.learn_weights): common words count little.
* Unreliable domains, per list: a domain that stands on records of several differently named
  companies of one list (a placeholder, the reseller's own site typed on its customers) is no
  evidence on that list; its records are compared as if they had no website.  "Differently named":
  records of one company share the first word of their name ("Acme UK", "Acme GmbH"), so a domain is
  unreliable when its records' names start with JUNK_DISTINCT_NAMES or more different words.

Both depend on the lists, not on one pair, so a run computes them once (`learn_context`) and hands
them to every block (the context is keyed by words and domains, not by records, so it applies to any
subset of the lists' records); an incremental run re-scores the records whose words or domain they re-judge.
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
    junk_l: np.ndarray  # uint64 hashes (sorted) of the left list's unreliable domains
    junk_r: np.ndarray  # ... of the right list's

    def junk(self, frame: pd.DataFrame, side: str) -> np.ndarray:
        """Per record of `frame` (any records of that side's list): its domain is no evidence."""
        bad = self.junk_l if side == "left" else self.junk_r
        domains = effective_domains(frame)
        if not len(bad) or not len(domains):
            return np.zeros(len(domains), dtype=bool)
        hashes = _domain_hashes(domains)
        at = np.minimum(np.searchsorted(bad, hashes), len(bad) - 1)
        return (bad[at] == hashes) & (domains != "")


def _domain_hashes(domains: np.ndarray) -> np.ndarray:
    return pd.util.hash_array(np.asarray(domains, dtype=object), categorize=False)


def effective_domains(frame: pd.DataFrame) -> np.ndarray:
    domain = frame["domain_norm"].to_numpy(dtype=object)
    email = frame["email_domain_norm"].to_numpy(dtype=object)
    return np.where(domain == "", email, domain)


def junk_domains(frame: pd.DataFrame, first_words: np.ndarray | None = None) -> np.ndarray:
    """Per record: its (effective) domain stands on JUNK_DISTINCT_NAMES+ differently named companies.
    `first_words`: a code of each record's first name word (computed here when not given)."""
    bad = junk_domain_hashes(frame, first_words)
    return ListContext(None, bad, bad).junk(frame, "left")


def junk_domain_hashes(frame: pd.DataFrame, first_words: np.ndarray | None = None) -> np.ndarray:
    """Sorted hashes of the domains that stand on JUNK_DISTINCT_NAMES+ differently named companies."""
    domains = effective_domains(frame)
    has = np.flatnonzero(domains != "")
    if not len(has):
        return np.zeros(0, dtype=np.uint64)
    if first_words is None:
        codes, uniques = pd.factorize(frame["name_norm"].to_numpy(dtype=object))
        first_words = pd.factorize(
            np.array([n.split(" ", 1)[0] for n in uniques.tolist()] + [""], dtype=object)
        )[0][codes]
    hashes = _domain_hashes(domains[has])
    table = pd.DataFrame({"d": hashes, "f": np.asarray(first_words)[has]})
    distinct = table.drop_duplicates()["d"].value_counts()
    return np.sort(distinct.index[distinct.to_numpy() >= JUNK_DISTINCT_NAMES].to_numpy().astype(np.uint64))


def learn_context(left: pd.DataFrame, right: pd.DataFrame, tokens=None) -> ListContext:
    """The context of two whole lists (`tokens`: their tokens.TokenTable, which learned the weights)."""
    if tokens is None:
        weights = learn_weights(
            left["name_norm"].to_numpy(dtype=object), right["name_norm"].to_numpy(dtype=object)
        )
        return ListContext(weights, junk_domain_hashes(left), junk_domain_hashes(right))
    return ListContext(
        tokens.weighting,
        junk_domain_hashes(left, tokens.first_words("left")),
        junk_domain_hashes(right, tokens.first_words("right")),
    )
