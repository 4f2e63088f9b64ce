"""Partner account-mapping engine: two account lists in, scored one-to-one pairs with reasons out.

Pure Python on numpy + pandas + rapidfuzz (blocking and comparison follow recordlinkage's Block /
SortedNeighbourhood / Compare semantics, on integer codes); imports nothing from Django. The same
passes and features are recordlinkage components in `rl.py` (EnginePasses for recordlinkage.Index,
EngineFeatures for recordlinkage.Compare), and recordlinkage's classifiers fit the scoring model
(`learn.py`).

Input frames
------------
Two pandas DataFrames (left = one organization's list, right = the partner's), indexed by record id
(int or str, unique per frame).  Raw columns, all optional and possibly blank:

    name, website, domain, email (a contact e-mail at the account, not its owner's), country, region,
    city, postal_code, crm_id

`prepare(df)` adds the normalized columns below (str, '' when unknown).  A frame that already holds all
of them (the Django side stores them on each record at import time) is used as is.

    name_norm          normalize_name(name): ASCII, lower-case, no punctuation/legal form, canonical
                       abbreviations ('International Business Machines Corp.' -> 'intl business machines')
    name_key           name_norm without spaces            (sorted-neighbourhood key, as written)
    name_rev           name_key reversed                   (sorted-neighbourhood key, reversed)
    name_sorted        name_norm tokens sorted, no spaces  (sorted-neighbourhood key, token-sorted)
    domain_norm        registrable_domain(website or domain), e.g. 'example.co.uk'
    email_domain_norm  email_domain(email): the owner e-mail's domain, '' for free-mail providers;
                       used as the company domain only when domain_norm is blank
    stem               domain_stem(domain_norm or email_domain_norm), e.g. 'example'
    stem_key           stem_key(stem): trailing business word canonicalised like names,
                       'acmesoftware' -> 'acmesw' (= name_key of 'Acme Software')
    country_norm       country_code(country): ISO 3166 alpha-2
    region_norm, city_norm   normalize_text(...)
    postal_norm        normalize_postal_code(postal_code)
    crm_id_norm        normalize_id(crm_id)

Scalar and column-wise normalizers live in `mapping.engine.normalize`; `record_keys(row_dict)` returns
the normalized columns of one record.

Matching
--------
    match(left, right, config=MatchConfig(), *, confirmed=None, rejected=None, return_state=False)
        -> DataFrame   (or (DataFrame, MatchState) with return_state=True)

Result columns (one row per pair, each record in at most one pair unless a reviewer confirmed more):

    left_id, right_id   record ids
    score               float in [0, 1] (1.0 for confirmed pairs and sure-match rules)
    status              'match' (score >= config.threshold) or 'review'
                        (config.review_threshold <= score < config.threshold)
    reasons             e.g. "domain equal (exact-domain, name-sn pass); name 0.96 (words 0.80); rare
                        words agree: harbor, minerals; country equal; city missing"
    passes              bitmask of the blocking passes that proposed the pair (blocking.PASSES)
    name_jw, name_tsr, name_tok, name_contain, name_exact, domain_eq, stem_eq, domain_conflict, stem_name,
    country_eq, country_conflict, region_eq, region_conflict, city_eq, city_conflict,
    postal_eq, postal_conflict, crm_eq, name_only
                        the comparison features (float32; NaN for a confirmed pair blocking never proposed)

`confirmed` / `rejected`: iterables of (left_id, right_id) decided by a reviewer.  Confirmed pairs are
always in the result (status 'match', score 1.0); rejected pairs never are; a pair in both is rejected.

What a run learns from the two lists
------------------------------------
`reliability.learn_context`: word weights (tokens.py: an inverse document frequency per list, the
smaller of the two, quantized in half-octave steps, so "inc", "group", "class", "shares" or a currency
code count little and a rare word a lot) and each list's unreliable domains (one domain on three or
more differently named companies of a list is no evidence there).  `name_tok` (weighted Dice) and
`name_contain` (the share of one name's weight the other holds: extra words on one side are tolerated)
count a word as agreeing when it is equal, an abbreviation of the other side's word ("techn",
"sys", "mak", "t."), or one typo away; explanations name the rare words that agreed.  The
rare-word pass (blocking.py) proposes every pair sharing a word, a word's first letters or two
adjacent words that few records hold.

Incremental
-----------
    match_incremental(left, right, state, config=None, *, changed_left=(), changed_right=(),
                      confirmed=None, rejected=None) -> (DataFrame, MatchState)

`left`/`right` are the full current lists, `changed_*` the ids of added or edited records (removed ones
are just absent; ids the state has never seen count as added).  Returns exactly what `match` returns on
the same data (records whose words now weigh otherwise, or whose domain became (un)reliable, are
re-scored as if edited; when a list's size crosses a power of two every weight may move, so the run
is full): only the changed records are re-keyed and re-blocked (`blocking.BlockingIndex.update`
re-joins the sorted-neighbourhood slots around changed keys and the block keys they touch), and only new
pairs are compared.  `state` comes from the previous `match(..., return_state=True)` or
`match_incremental`; it holds the blocking keys of every record, every candidate pair with its passes and
score, and the features of the pairs in the review band (pickle it between runs).  A state of another
engine version, model, window, block cap, pandas version or a higher review threshold means a full run.

Fan-out
-------
    split_blocks(left, right, n, config=None) -> list[MatchBlock]   # picklable, one per Celery task
    match_block(block, config=None) -> DataFrame                     # scored pairs of one block
    merge_block_results(results, config=None, *, confirmed=None, rejected=None) -> DataFrame

The merged result equals `match(left, right)`.

Classification
--------------
Sure rules (same CRM id; same domain and same name -> 1.0; dissimilar names with nothing else agreeing
-> 0.0), a logistic model for the rest (`scoring.ScoringModel`: weights, bias and an `origin` note that
takes no part in equality; `scoring.DEFAULT_MODEL` has hand-set weights).  Scoring is always the
engine's own vectorised ScoringModel; recordlinkage's classifiers fit it (`learn.py`, imported only when
training, so `match` never loads recordlinkage or sklearn):

    train(left, right, labelled_pairs, config=None) -> ScoringModel
        labelled_pairs: columns left_id, right_id, is_match.  Fits recordlinkage's
        LogisticRegressionClassifier on the pairs' features (MultiIndex (left_id, right_id), the matches
        as match index; pairs the sure rules decide are left out) and takes its coefficients and
        intercept as weights and bias.  origin 'recordlinkage.LogisticRegressionClassifier'.

    train_unsupervised(left, right, config=None, *, sample=200_000, seed=0) -> ScoringModel
        No labels: the candidate pairs blocking proposes (a random `sample` of them, None = all) are
        compared, binarised into agreement vectors and fitted with recordlinkage's ECMClassifier
        (Fellegi-Sunter by EM); its posterior match probabilities are distilled into a
        LogisticRegressionClassifier on the continuous features (soft-target logistic regression), since
        the ECM's own log-likelihood weights act on binary agreements and are unbounded.
        origin 'recordlinkage.ECMClassifier -> recordlinkage.LogisticRegressionClassifier'.

Pass either result as `MatchConfig(model=...)`.
"""

from .config import MatchConfig
from .engine import (
    RESULT_COLUMNS,
    MatchBlock,
    MatchState,
    match,
    match_block,
    match_incremental,
    merge_block_results,
    pair_features,
    split_blocks,
    train,
    train_unsupervised,
)
from .normalize import (
    country_code,
    domain_stem,
    email_domain,
    name_key,
    normalize_name,
    registrable_domain,
)
from .prepare import NORMALIZED_COLUMNS, prepare, record_keys
from .scoring import DEFAULT_MODEL, ScoringModel

__all__ = [
    "DEFAULT_MODEL",
    "NORMALIZED_COLUMNS",
    "RESULT_COLUMNS",
    "MatchBlock",
    "MatchConfig",
    "MatchState",
    "ScoringModel",
    "country_code",
    "domain_stem",
    "email_domain",
    "match",
    "match_block",
    "match_incremental",
    "merge_block_results",
    "name_key",
    "normalize_name",
    "pair_features",
    "prepare",
    "record_keys",
    "registrable_domain",
    "split_blocks",
    "train",
    "train_unsupervised",
]
