"""Normalization of account-record fields, shared by the CSV importer and the matching engine.

Two ways in:

* scalar functions (`normalize_name`, `registrable_domain`, `country_code`, ...) for one value; they are
  cached because account lists repeat values (countries, cities, owner e-mail domains) a lot;
* column functions (`normalize_names`, `registrable_domains`, ...) for a pandas Series; they normalize
  each *distinct* value once and broadcast the result, which is what makes a 1M-row import fast.

Every function accepts None/NaN/non-strings and returns '' for "unknown".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import pandas as pd
import pycountry
from publicsuffixlist import PublicSuffixList

from .data import (
    ABBREVIATIONS,
    COUNTRY_ALIASES,
    FREE_MAIL_DOMAINS,
    LEADING_NOISE,
    LEGAL_FORMS,
    NOT_CUTTING_FORMS,
    STOPWORDS,
)

_CACHE_SIZE = 1 << 18

# Letters NFKD does not decompose into ASCII.
_FOLD = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "þ": "th",
        "Þ": "TH",
        "ð": "d",
        "ı": "i",
        "’": "'",
        "‘": "'",
        "´": "'",
        "`": "'",
        "–": "-",
        "—": "-",
    }
)

# "S.p.A.", "N.V.", "U.S.A.", "o.o." -> one token; lookarounds keep "BRIT.AMER" (multi-letter parts) out.
_DOTTED_INITIALS = re.compile(r"(?<![a-z0-9])(?:[a-z]\.)+[a-z](?![a-z0-9])\.?")
# "AT&T", "P&G", "A/S", "H+M": single letters joined by & / + are one name, not two words.
_JOINED_INITIALS = re.compile(r"(?<![a-z0-9])([a-z0-9]{1,2})\s*[&/+]\s*([a-z0-9]{1,2})(?![a-z0-9])")
_APOSTROPHES = re.compile(r"['\"]")
_AMPERSAND = re.compile(r"[&+]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")

_LEGAL_FORMS: dict[int, frozenset[tuple[str, ...]]] = {}
for _form in LEGAL_FORMS:
    _tokens = tuple(_form.split())
    _LEGAL_FORMS.setdefault(len(_tokens), set()).add(_tokens)  # type: ignore[attr-defined]
_LEGAL_FORMS = {n: frozenset(forms) for n, forms in _LEGAL_FORMS.items()}
_LEGAL_LENGTHS = sorted(_LEGAL_FORMS, reverse=True)

_PSL = PublicSuffixList()  # bundled list: no network access at run time


def _is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, float) and raw != raw) or not isinstance(raw, str)


def fold_ascii(text: str) -> str:
    """'Société Générale' -> 'Societe Generale'; 'Straße' -> 'Strasse'."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return text.encode("ascii", "ignore").decode("ascii")


def _segment_tokens(text: str) -> list[str]:
    text = _DOTTED_INITIALS.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _JOINED_INITIALS.sub(r"\1\2", text)
    text = _APOSTROPHES.sub("", text)
    text = _AMPERSAND.sub(" and ", text)
    tokens = _NON_ALNUM.sub(" ", text).split()
    # "K und L", "K and L": a connective between single characters joins them like "K+L"
    tokens = [
        t
        for i, t in enumerate(tokens)
        if not (
            t in STOPWORDS and 0 < i < len(tokens) - 1 and len(tokens[i - 1]) == 1 and len(tokens[i + 1]) == 1
        )
    ]
    # runs of single characters are one abbreviation: "N V" -> "nv", "I B M" -> "ibm", "Z 7" -> "z7"
    out: list[str] = []
    in_run = False
    for token in tokens:
        single = len(token) == 1
        if single and in_run:
            out[-1] += token
        else:
            out.append(token)
        in_run = single and (in_run or len(out[-1]) == 1)
    return out


_CUTTING_FORMS = {
    n: frozenset(f for f in forms if " ".join(f) not in NOT_CUTTING_FORMS)
    for n, forms in _LEGAL_FORMS.items()
}


def _cut_after_inner_legal_form(tokens: list[str]) -> list[str]:
    """'harbor minerals ltd class a' -> 'harbor minerals ltd': a legal form inside a name ends it."""
    for i in range(1, len(tokens) - 1):
        for n in _LEGAL_LENGTHS:
            if i + n < len(tokens) and tuple(tokens[i : i + n]) in _CUTTING_FORMS[n]:
                if _strip_legal_forms(["_", *tokens[i:]]) == ["_"]:
                    return tokens  # only legal forms follow ("public limited company"): stripped later
                return tokens[: i + n]
    return tokens


def _once(tokens: list[str]) -> list[str]:
    """A name written twice ('acme tools acme tools') once."""
    half = len(tokens) // 2
    if half and len(tokens) % 2 == 0 and tokens[:half] == tokens[half:]:
        return tokens[:half]
    return tokens


def _ends_with_legal_form(tokens: list[str]) -> bool:
    return any(len(tokens) > n and tuple(tokens[-n:]) in _LEGAL_FORMS[n] for n in _LEGAL_LENGTHS)


def _basic_tokens(raw: str) -> list[str]:
    segments = fold_ascii(raw).lower().split(",")
    tokens = _segment_tokens(segments[0])
    for segment in segments[1:]:
        # "ALCATEL N.V., AMSTERDAM": what follows a legal form after a comma is an address
        if _ends_with_legal_form(tokens):
            break
        tokens += _segment_tokens(segment)
    return tokens


def _strip_legal_forms(tokens: list[str]) -> list[str]:
    # Trailing legal forms, repeatedly ("Acme GmbH & Co. KG", "Acme Co., Ltd."), never the last token.
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        if tokens[-1] in STOPWORDS:  # the "&" of "& Co."
            del tokens[-1]
            changed = True
            continue
        for n in _LEGAL_LENGTHS:
            if len(tokens) > n and tuple(tokens[-n:]) in _LEGAL_FORMS[n]:
                del tokens[-n:]
                changed = True
                break
    while len(tokens) > 1 and tokens[0] in LEADING_NOISE:
        del tokens[0]
    return tokens


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_name(raw: object) -> str:
    """Company name -> comparable form: ASCII, lower-case, no punctuation, no legal form.

    'Société Générale S.A.' -> 'societe generale'; 'AT&T Inc.' -> 'att';
    'BRIT.AMER.TOBACCO' -> 'brit amer tobacco'; 'Century Alum. Co.' -> 'century aluminum';
    'Procter & Gamble' -> 'procter gamble'.  Abbreviation variants map to one canonical token
    ('International'/'INTL' -> 'intl'), see `data.ABBREVIATIONS`.
    """
    if _is_blank(raw):
        return ""
    tokens = _once(_cut_after_inner_legal_form(_once(_basic_tokens(raw))))  # type: ignore[arg-type]
    # Legal forms first, on the raw tokens: "co"/"company" are legal forms, not abbreviations.
    tokens = _strip_legal_forms(tokens)
    kept = [ABBREVIATIONS.get(t, t) for t in tokens if t not in STOPWORDS]
    return " ".join(kept or tokens)


def name_key(raw: object, kind: str = "written") -> str:
    """Sort keys for sorted-neighbourhood blocking, computed from a raw or normalized name.

    kind='written': the normalized name without spaces ('acme software' -> 'acmesoftware'), so that
    "Acme Soft" and "AcmeSoft" sort together; 'reversed': that key backwards, which catches typos in
    the first letters; 'sorted': tokens sorted ('software acme' -> 'acmesoftware').
    """
    return name_keys_from_norm(normalize_name(raw))[kind]


def name_keys_from_norm(norm: str) -> dict[str, str]:
    compact = norm.replace(" ", "")
    return {
        "written": compact,
        "reversed": compact[::-1],
        "sorted": "".join(sorted(norm.split())),
    }


_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://")
_HOST_END = re.compile(r"[/?#:\\\s]")
_IP = re.compile(r"^\d+(\.\d+){3}$")


@lru_cache(maxsize=_CACHE_SIZE)
def registrable_domain(raw: object) -> str:
    """URL, e-mail address or host -> registrable domain (public suffix + one label).

    'https://www.shop.example.co.uk/path' -> 'example.co.uk'; 'jane@sub.acme.com' -> 'acme.com'.
    Uses the public suffix list bundled with `publicsuffixlist` (no network).
    """
    if _is_blank(raw):
        return ""
    text = fold_host(raw)  # type: ignore[arg-type]
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = _SCHEME.sub("", text)
    if "@" in text:  # user:password@host
        text = text.rsplit("@", 1)[1]
    text = _HOST_END.split(text, 1)[0].strip(".")
    if "." not in text or _IP.match(text):
        return ""
    return _PSL.privatesuffix(text) or ""


def fold_host(raw: str) -> str:
    return raw.strip().lower()


@lru_cache(maxsize=_CACHE_SIZE)
def domain_stem(domain: object) -> str:
    """Registrable domain -> its distinctive label: 'example.co.uk' -> 'example', 'acme-soft.de' -> 'acmesoft'."""
    if _is_blank(domain) or not domain:
        return ""
    domain = registrable_domain(domain)
    suffix = _PSL.publicsuffix(domain) or ""
    label = domain[: len(domain) - len(suffix) - 1] if suffix and domain != suffix else domain
    label = label.rsplit(".", 1)[-1]
    return _NON_ALNUM.sub("", fold_ascii(label))


# Business words a domain stem may end with, longest first so "technologies" wins over "tech".
_STEM_WORDS = sorted(
    (w for w in ABBREVIATIONS if len(w) >= 4 and w != ABBREVIATIONS[w]), key=len, reverse=True
)
_STEM_SUFFIX = re.compile(r"(?<=[a-z0-9]{3})(" + "|".join(_STEM_WORDS) + r")$")


@lru_cache(maxsize=_CACHE_SIZE)
def stem_key(stem: object) -> str:
    """A domain stem spelled like a name key: 'acmesoftware' -> 'acmesw', as name_key('Acme Software')."""
    if _is_blank(stem) or not stem:
        return ""
    return _STEM_SUFFIX.sub(lambda m: ABBREVIATIONS[m.group(1)], stem)  # type: ignore[arg-type]


@lru_cache(maxsize=_CACHE_SIZE)
def email_domain(raw: object) -> str:
    """Owner e-mail -> company domain, or '' for free-mail providers (gmail.com, outlook.com ...)."""
    if _is_blank(raw) or "@" not in raw:  # type: ignore[operator]
        return ""
    domain = registrable_domain(raw)
    return "" if domain in FREE_MAIL_DOMAINS else domain


def _country_key(raw: str) -> str:
    text = _APOSTROPHES.sub("", fold_ascii(raw).lower().replace(".", ""))  # "Côte d'Ivoire", "U.S."
    return " ".join(_NON_ALNUM.sub(" ", text).split())


@lru_cache(maxsize=4096)
def country_code(raw: object) -> str:
    """Country name, alias, ISO alpha-2 or alpha-3 -> ISO 3166 alpha-2 ('' when unknown).

    'USA', 'United States of America', 'U.S.A.' -> 'US'; 'UK', 'Great Britain' -> 'GB';
    'Deutschland', 'DEU' -> 'DE'; 'Holland' -> 'NL'.
    """
    if _is_blank(raw):
        return ""
    key = _country_key(raw)  # type: ignore[arg-type]
    if not key:
        return ""
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    found = None
    if len(key) == 2:
        found = pycountry.countries.get(alpha_2=key.upper())
    elif len(key) == 3:
        found = pycountry.countries.get(alpha_3=key.upper())
    if found is None:
        try:
            found = pycountry.countries.lookup(key)
        except LookupError:
            return ""
    return found.alpha_2


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_text(raw: object) -> str:
    """City / region: ASCII, lower-case, single spaces, no punctuation ('São Paulo' -> 'sao paulo')."""
    if _is_blank(raw):
        return ""
    return " ".join(_NON_ALNUM.sub(" ", fold_ascii(raw).lower()).split())  # type: ignore[arg-type]


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_postal_code(raw: object) -> str:
    """'sw1a 1aa' -> 'SW1A1AA'; US ZIP+4 '60614-1234' -> '60614' (ZIP+4 is rarely on both lists)."""
    if isinstance(raw, (int, np.integer)):
        raw = str(raw)
    if _is_blank(raw):
        return ""
    text = re.sub(r"[^0-9A-Za-z]", "", raw.upper())  # type: ignore[union-attr]
    if len(text) == 9 and text.isdigit() and "-" in raw:  # type: ignore[operator]
        text = text[:5]
    return text


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_id(raw: object) -> str:
    """CRM ids compare case-insensitively, trimmed."""
    if isinstance(raw, (int, np.integer)):
        return str(raw)
    if _is_blank(raw):
        return ""
    return raw.strip().lower()  # type: ignore[union-attr]


# --- column-wise path ---------------------------------------------------------------------------------


def map_unique(values: pd.Series | np.ndarray | list, func: Callable[[object], str]) -> np.ndarray:
    """Apply a scalar normalizer to each distinct value once; returns an object array of str."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    wrapped = getattr(func, "__wrapped__", func)  # skip the lru_cache: every unique value is new here
    out = np.array([wrapped(v) for v in uniques] + [""], dtype=object)
    return out[codes]  # code -1 (missing) picks the trailing ''


def normalize_names(values) -> np.ndarray:
    return map_unique(values, normalize_name)


def registrable_domains(values) -> np.ndarray:
    return map_unique(values, registrable_domain)


def domain_stems(values) -> np.ndarray:
    return map_unique(values, domain_stem)


def stem_keys(values) -> np.ndarray:
    return map_unique(values, stem_key)


def email_domains(values) -> np.ndarray:
    return map_unique(values, email_domain)


def country_codes(values) -> np.ndarray:
    return map_unique(values, country_code)


def normalize_texts(values) -> np.ndarray:
    return map_unique(values, normalize_text)


def normalize_postal_codes(values) -> np.ndarray:
    return map_unique(values, normalize_postal_code)


def normalize_ids(values) -> np.ndarray:
    return map_unique(values, normalize_id)
