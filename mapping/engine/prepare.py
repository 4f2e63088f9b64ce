"""Raw account-record columns -> the normalized columns the engine works on.

The Django side stores these normalized columns on each record (they are computed at import time with
the same functions), so `prepare` only fills in what a frame lacks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import normalize as nz

# Raw input columns (all optional).
RAW_COLUMNS = ("name", "website", "domain", "email", "country", "region", "city", "postal_code", "crm_id")

# Normalized columns, in the order they are computed.  All are str, '' when unknown.
NORMALIZED_COLUMNS = (
    "name_norm",  # normalize_name(name)
    "name_key",  # name_norm without spaces (sorted-neighbourhood key "as written")
    "name_rev",  # name_key reversed
    "name_sorted",  # tokens of name_norm sorted, joined without spaces
    "domain_norm",  # registrable_domain(website or domain)
    "email_domain_norm",  # email_domain(email): '' for free-mail providers
    "stem",  # domain_stem(domain_norm or email_domain_norm)
    "stem_key",  # stem_key(stem): trailing business word canonicalised, comparable to name_key
    "country_norm",  # country_code(country)
    "region_norm",  # normalize_text(region)
    "city_norm",  # normalize_text(city)
    "postal_norm",  # normalize_postal_code(postal_code)
    "crm_id_norm",  # normalize_id(crm_id)
)


def _raw(df: pd.DataFrame, column: str) -> pd.Series:
    if column in df.columns:
        return df[column]
    return pd.Series([None] * len(df), index=df.index, dtype=object)


def _first_nonblank(*arrays: np.ndarray) -> np.ndarray:
    out = arrays[0].copy()
    for other in arrays[1:]:
        blank = out == ""
        out[blank] = other[blank]
    return out


def prepare(df: pd.DataFrame, *, force: bool = False) -> pd.DataFrame:
    """Return a copy of `df` with every column of NORMALIZED_COLUMNS present.

    Columns already present are kept (pass force=True to recompute them from the raw columns).
    """
    out = df.copy()
    have = set() if force else set(out.columns)

    def need(column: str) -> bool:
        return column not in have

    if need("name_norm"):
        out["name_norm"] = nz.normalize_names(_raw(df, "name"))
    names = out["name_norm"].fillna("").astype(object).to_numpy()
    if need("name_key") or need("name_rev") or need("name_sorted"):
        codes, uniques = pd.factorize(names)
        per_unique = [nz.name_keys_from_norm(n) for n in uniques]
        for column, kind in (("name_key", "written"), ("name_rev", "reversed"), ("name_sorted", "sorted")):
            if need(column):
                out[column] = np.array([k[kind] for k in per_unique], dtype=object)[codes]
    if need("domain_norm"):
        out["domain_norm"] = _first_nonblank(
            nz.registrable_domains(_raw(df, "website")), nz.registrable_domains(_raw(df, "domain"))
        )
    if need("email_domain_norm"):
        out["email_domain_norm"] = nz.email_domains(_raw(df, "email"))
    if need("stem"):
        domains = _first_nonblank(
            out["domain_norm"].fillna("").astype(object).to_numpy(),
            out["email_domain_norm"].fillna("").astype(object).to_numpy(),
        )
        out["stem"] = nz.domain_stems(domains)
    if need("stem_key"):
        out["stem_key"] = nz.stem_keys(out["stem"].fillna("").astype(object).to_numpy())
    if need("country_norm"):
        out["country_norm"] = nz.country_codes(_raw(df, "country"))
    if need("region_norm"):
        out["region_norm"] = nz.normalize_texts(_raw(df, "region"))
    if need("city_norm"):
        out["city_norm"] = nz.normalize_texts(_raw(df, "city"))
    if need("postal_norm"):
        out["postal_norm"] = nz.normalize_postal_codes(_raw(df, "postal_code"))
    if need("crm_id_norm"):
        out["crm_id_norm"] = nz.normalize_ids(_raw(df, "crm_id"))
    for column in NORMALIZED_COLUMNS:
        out[column] = out[column].fillna("").astype(object)
    return out


def record_keys(row: dict) -> dict[str, str]:
    """Normalized columns for one record (what the importer stores per row)."""
    frame = prepare(pd.DataFrame([row]))
    return {column: frame[column].iloc[0] for column in NORMALIZED_COLUMNS}
