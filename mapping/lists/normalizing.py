"""Normalized keys of a batch of records, column by column. No Django here: batches of a big import
are normalized in worker processes (see services.ingest) that import only this module."""

from __future__ import annotations

from mapping.engine import normalize as nz

# Input columns, and the normalized columns computed from them (in this order).
RAW_INPUTS = ("name", "website", "domain", "owner_email", "country", "region", "city", "postal_code")
NORM_COLUMNS = (
    "name_norm",
    "domain_norm",
    "email_domain_norm",
    "stem",
    "country_norm",
    "region_norm",
    "city_norm",
    "postal_norm",
)
_MAX = (500, 255, 255, 255, 2, 100, 100, 40)


def _scalar(func):
    return getattr(func, "__wrapped__", func)  # each batch keeps its own cache of distinct values


_NORMALIZE_NAME = _scalar(nz.normalize_name)
_REGISTRABLE_DOMAIN = _scalar(nz.registrable_domain)
_DOMAIN_STEM = _scalar(nz.domain_stem)
_NORMALIZE_POSTAL = _scalar(nz.normalize_postal_code)
# Few distinct values: keep their caches across batches.
_COUNTRY_CODE = nz.country_code
_NORMALIZE_TEXT = nz.normalize_text


def _mapped(values: list[str], func) -> list[str]:
    cache: dict[str, str] = {"": ""}
    out = []
    append = out.append
    for value in values:
        result = cache.get(value)
        if result is None:
            result = cache[value] = func(value)
        append(result)
    return out


def normalized_columns(raw: tuple[list[str], ...]) -> list[list[str]]:
    """RAW_INPUTS columns -> NORM_COLUMNS columns, each distinct value normalized once, with the
    rules of mapping.engine.prepare (domain from the website, else the domain column; the stem
    from the domain).

    No e-mail domain: the only e-mail a record carries is its owner's, and the owner is the list
    owner's own rep (pm@vendor.example), whose domain says nothing about the account. Taken as the
    account's domain it gave every record without a website the list owner's stem, which the
    cross passes then matched to the partner's record of the list owner itself."""
    names, websites, domains, _owner_emails, countries, regions, cities, postals = raw
    website_domains = _mapped(websites, _REGISTRABLE_DOMAIN)
    domain_domains = _mapped(domains, _REGISTRABLE_DOMAIN)
    domain_norm = [w or d for w, d in zip(website_domains, domain_domains, strict=True)]
    email_norm = [""] * len(domain_norm)
    stems = _mapped(domain_norm, _DOMAIN_STEM)
    columns = [
        _mapped(names, _NORMALIZE_NAME),
        domain_norm,
        email_norm,
        stems,
        _mapped(countries, _COUNTRY_CODE),
        _mapped(regions, _NORMALIZE_TEXT),
        _mapped(cities, _NORMALIZE_TEXT),
        _mapped(postals, _NORMALIZE_POSTAL),
    ]
    for i, max_length in enumerate(_MAX):
        column = columns[i]
        if any(len(v) > max_length for v in column):
            columns[i] = [v[:max_length] for v in column]
    return columns
