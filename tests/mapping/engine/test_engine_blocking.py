import pandas as pd

from mapping.engine import MatchConfig, prepare
from mapping.engine.blocking import PASSES, candidate_pairs


def _pairs_by_pass(left, right, config=None):
    left, right = prepare(left), prepare(right)
    cands = candidate_pairs(left, right, config or MatchConfig())
    found = {}
    for li, ri, passes in cands.itertuples(index=False):
        for name, bit in PASSES.items():
            if passes & bit:
                found.setdefault(name, set()).add((left.index[li], right.index[ri]))
    return found


def _frame(rows, ids):
    return pd.DataFrame(rows, index=ids)


def test_exact_domain_pass_ignores_scheme_www_and_subdomains():
    left = _frame([{"name": "Totally Different", "website": "https://www.shop.acme.co.uk/x"}], ["l"])
    right = _frame([{"name": "Nothing Alike", "website": "acme.co.uk"}], ["r"])
    assert ("l", "r") in _pairs_by_pass(left, right)["exact-domain"]


def test_exact_domain_pass_uses_company_email_but_not_free_mail():
    left = _frame(
        [{"name": "Zeta", "email": "jane@zeta.io"}, {"name": "Omega", "email": "bob@gmail.com"}], ["l1", "l2"]
    )
    right = _frame(
        [{"name": "Qqq", "website": "zeta.io"}, {"name": "Www", "website": "gmail.com"}], ["r1", "r2"]
    )
    found = _pairs_by_pass(left, right)["exact-domain"]
    assert ("l1", "r1") in found
    assert ("l2", "r2") not in found


def test_domain_stem_pass_links_country_sites():
    left = _frame([{"name": "Foo", "website": "acme.com"}], ["l"])
    right = _frame([{"name": "Bar", "website": "www.acme.de"}], ["r"])
    found = _pairs_by_pass(left, right)
    assert ("l", "r") in found["domain-stem"]
    assert ("l", "r") not in found.get("exact-domain", set())


def test_sorted_neighbourhood_passes_catch_typos_anywhere_and_word_order():
    names_left = ["Acme Software", "Globex Industries", "Initech Systems"]
    names_right = ["Acme Softwre", "Xlobex Industries", "Systems Initech"]
    # fillers sort between "globex" and "xlobex", so only the reversed key brings those two together
    filler = [f"{'hjkmnpqrstuvw'[i % 13]}ubble Company {i:03d}" for i in range(50)]
    left = _frame([{"name": n} for n in names_left + filler], [f"l{i}" for i in range(53)])
    right = _frame([{"name": n} for n in names_right + filler[::-1]], [f"r{i}" for i in range(53)])
    found = _pairs_by_pass(left, right)
    assert ("l0", "r0") in found["name-sn"]  # typo at the end: as-written key
    assert ("l1", "r1") in found["reversed-name-sn"]  # typo in the first letter: reversed key
    assert ("l1", "r1") not in found["name-sn"]
    assert ("l2", "r2") in found["token-sorted-name-sn"]  # words swapped


def test_stem_to_name_pass_for_records_without_website():
    left = _frame([{"name": "Acme Software Inc"}, {"name": "Zorblax GmbH"}], ["l1", "l2"])
    right = _frame(
        [{"name": "AS", "website": "acmesoftware.com"}, {"name": "ZB", "website": "zorblax.io"}], ["r1", "r2"]
    )
    found = _pairs_by_pass(left, right)["stem-to-name"]
    assert {("l1", "r1"), ("l2", "r2")} <= found


def test_crm_id_pass():
    left = _frame([{"name": "A", "crm_id": "001XYZ"}], ["l"])
    right = _frame([{"name": "B", "crm_id": "001xyz "}], ["r"])
    assert ("l", "r") in _pairs_by_pass(left, right)["crm-id"]


def test_over_common_keys_do_not_blow_up_the_index():
    # every record of both lists carries the list owner's e-mail domain: not a blocking key
    left = _frame([{"name": f"Left {i}", "email": f"rep{i}@vendor.com"} for i in range(100)], range(100))
    right = _frame([{"name": f"Right {i}", "email": f"rep{i}@vendor.com"} for i in range(100)], range(100))
    cands = candidate_pairs(prepare(left), prepare(right), MatchConfig(max_block_pairs=2500))
    assert len(cands) < 2000  # far from the 10,000 of a full index
    assert not (cands["passes"] & PASSES["exact-domain"]).any()


def test_candidates_stay_near_linear(generated):
    left, right, _ = generated
    cands = candidate_pairs(prepare(left), prepare(right), MatchConfig())
    assert len(cands) < 20 * len(left)
    assert not cands.duplicated(["li", "ri"]).any()
