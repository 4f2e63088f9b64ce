import numpy as np
import pandas as pd
import pytest

from mapping.engine import normalize as nz
from mapping.engine.data import LEGAL_FORMS
from mapping.engine.prepare import NORMALIZED_COLUMNS, prepare, record_keys


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Acme Inc", "acme"),
        ("Acme, Inc.", "acme"),
        ("ACME INCORPORATED", "acme"),
        ("Acme LLC", "acme"),
        ("Acme Ltd.", "acme"),
        ("Acme Limited", "acme"),
        ("Acme GmbH", "acme"),
        ("Acme AG", "acme"),
        ("Acme S.A.", "acme"),
        ("Acme SA", "acme"),
        ("Acme SAS", "acme"),
        ("Acme SARL", "acme"),
        ("Acme N.V.", "acme"),
        ("Acme B.V.", "acme"),
        ("Acme Oyj", "acme"),
        ("Acme Oy", "acme"),
        ("Acme AB (publ)", "acme"),
        ("Acme AS", "acme"),
        ("Acme A/S", "acme"),
        ("Acme plc", "acme"),
        ("Acme K.K.", "acme"),
        ("Acme KK", "acme"),
        ("Acme Co.", "acme"),
        ("Acme Corp", "acme"),
        ("Acme Corporation", "acme"),
        ("Acme Pty Ltd", "acme"),
        ("Acme S.p.A.", "acme"),
        ("Acme S.r.l.", "acme"),
        ("Acme SE", "acme"),
        ("Acme LLP", "acme"),
        ("Acme LP", "acme"),
        ("Acme Kft.", "acme"),
        ("Acme Sp. z o.o.", "acme"),
        ("Acme GmbH & Co. KG", "acme"),
        ("Acme Co., Ltd.", "acme"),
        ("Acme Sdn Bhd", "acme"),
        ("PT Acme Tbk", "acme"),
    ],
)
def test_legal_forms_are_stripped(raw, expected):
    assert nz.normalize_name(raw) == expected


def test_legal_form_table_spans_countries():
    assert len(LEGAL_FORMS) > 60
    assert {"gmbh", "sp z oo", "spa", "kk", "oyj", "pty ltd", "as"} <= set(LEGAL_FORMS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Société Générale S.A.", "societe generale"),
        ("Müller Straße GmbH", "muller strasse"),
        ("Procter & Gamble", "procter gamble"),
        ("Procter and Gamble Co.", "procter gamble"),
        ("AT&T Inc.", "att"),
        ("McDonald's Corporation", "mcdonalds"),
        ("BRIT.AMER.TOBACCO", "brit amer tobacco"),
        ("British American Tobacco p.l.c.", "brit amer tobacco"),
        ("CENTURY ALUM. CO.", "century aluminum"),
        ("Century Aluminum Company", "century aluminum"),
        ("INTL BUSINESS MACHINES CORP", "intl business machines"),
        ("International Business Machines Corporation", "intl business machines"),
        ("Acme Mfg", "acme mfg"),
        ("ACME MANUFACTURING", "acme mfg"),
        ("Acme Tech", "acme tech"),
        ("Acme Technologies", "acme tech"),
        ("The Coca-Cola Company", "coca cola"),
        ("Inc", "inc"),  # never strip a name to nothing
        (None, ""),
        (float("nan"), ""),
        ("", ""),
        (" ", ""),
    ],
)
def test_normalize_name(raw, expected):
    assert nz.normalize_name(raw) == expected


def test_name_keys():
    assert nz.name_key("Acme Software Inc") == "acmesw"
    assert nz.name_key("Acme Software Inc", "reversed") == "wsemca"
    assert nz.name_key("Software Acme", "sorted") == nz.name_key("Acme Software", "sorted") == "acmesw"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.shop.example.co.uk/path", "example.co.uk"),
        ("jane@sub.acme.com", "acme.com"),
        ("acme.com", "acme.com"),
        ("WWW.ACME.COM", "acme.com"),
        ("http://acme.com:8080/x?y#z", "acme.com"),
        ("https://user:pw@portal.acme.de/", "acme.de"),
        ("acme.com.au", "acme.com.au"),
        ("www.acme.co.jp", "acme.co.jp"),
        ("co.uk", ""),
        ("localhost", ""),
        ("10.1.2.3", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_registrable_domain(raw, expected):
    assert nz.registrable_domain(raw) == expected


def test_domain_stem_and_email_domain():
    assert nz.domain_stem("example.co.uk") == "example"
    assert nz.domain_stem("https://www.acme-soft.de/") == "acmesoft"
    assert nz.domain_stem("") == ""
    assert nz.email_domain("jane@sales.acme.co.uk") == "acme.co.uk"
    assert nz.email_domain("jane.doe@gmail.com") == ""  # free mail says nothing about the company
    assert nz.email_domain("not an email") == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("United States of America", "US"),
        ("United States", "US"),
        ("us", "US"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("United Kingdom", "GB"),
        ("GBR", "GB"),
        ("Deutschland", "DE"),
        ("Germany", "DE"),
        ("DEU", "DE"),
        ("de", "DE"),
        ("Holland", "NL"),
        ("The Netherlands", "NL"),
        ("France", "FR"),
        ("España", "ES"),
        ("Sverige", "SE"),
        ("South Korea", "KR"),
        ("Russia", "RU"),
        ("Côte d'Ivoire", "CI"),
        ("Narnia", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_country_code(raw, expected):
    assert nz.country_code(raw) == expected


def test_column_path_equals_scalar_path():
    values = ["Acme Inc", None, "Acme Inc", "Société Générale", float("nan"), "BRIT.AMER.TOBACCO"]
    out = nz.normalize_names(values)
    assert list(out) == [nz.normalize_name(v) for v in values]
    assert list(nz.registrable_domains(["www.a.co.uk", None])) == ["a.co.uk", ""]
    assert list(nz.country_codes(pd.Series(["USA", "Holland", None]))) == ["US", "NL", ""]


def test_prepare_adds_every_normalized_column_and_keeps_existing_ones():
    df = pd.DataFrame(
        {
            "name": ["Acme Software Inc"],
            "website": [None],
            "email": ["jane@acme-software.com"],
            "country": ["USA"],
        },
        index=[7],
    )
    out = prepare(df)
    assert set(NORMALIZED_COLUMNS) <= set(out.columns)
    row = out.loc[7]
    assert row["name_norm"] == "acme sw"
    assert row["domain_norm"] == ""
    assert row["email_domain_norm"] == "acme-software.com"
    assert row["stem"] == "acmesoftware"
    assert row["country_norm"] == "US"
    stored = out.assign(name_norm="kept as stored")
    assert prepare(stored).loc[7, "name_norm"] == "kept as stored"
    assert record_keys({"name": "Acme GmbH", "website": "acme.de"})["domain_norm"] == "acme.de"


def test_prepare_handles_missing_columns():
    out = prepare(pd.DataFrame({"name": ["A", None]}))
    assert (out["domain_norm"] == "").all()
    assert out["name_norm"].tolist() == ["a", ""]
    assert out["name_norm"].dtype == np.dtype(object)
