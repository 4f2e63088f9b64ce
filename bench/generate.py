"""Realistic noisy pairs of company lists with ground truth, seeded and deterministic.

    left, right, truth = generate_pair(n=10_000, seed=7)

`left`/`right` are raw account lists (name, website, email, country, region, city, postal_code, crm_id)
indexed by record id (left: int, right: str, like two different CRMs); `truth` holds the true
(left_id, right_id) pairs.  Noise modelled on what partner lists look like: legal-form variants
("Inc", "Inc.", "Incorporated", none), case, abbreviations (Intl, Mfg, Tech, Co., &/and), typos, lost
accents, websites written every way (www/http/https/paths/subdomains, another country's TLD) or missing,
owner e-mails (company or free mail), country aliases ("USA", "United States of America", "Holland"),
records present on one side only, and confusable siblings ("Acme Software" vs "Acme Systems") placed
so that one is on each side.

Noise of real lists the engine must not learn from our generator alone (each at a few per cent of the
records, on either side): share classes and listing noise after the legal form ("Class A", "Ord Shs",
"DL -,01"), CRM notes ("- EMEA", "(old)", "- DO NOT USE"), the name written twice, words cut short
("Techn.", "Sys", "Mak.") or written as dotted initials, joiners ("K+L", "K & L", "K und L"), digits
spaced ("Z 7" / "Z7"), local legal forms in odd positions ("PT ... Tbk", "Koninklijke ... N.V."), one
junk website typed on many unrelated records of a list, and the country missing or another one (a
subsidiary's or a listing's) while the name is unmistakable.
"""

from __future__ import annotations

import argparse
import random

import pandas as pd

# fmt: off
COUNTRIES = {
    # code: (aliases as lists spell them, tld, legal forms (canonical, variants...), cities, region)
    "US": (["USA", "US", "United States", "United States of America", "U.S.A.", "U.S."], "com",
           [("Inc", "Inc.", "Incorporated", ", Inc."), ("LLC", "L.L.C.", "Llc"), ("Corp", "Corp.", "Corporation")],
           [("New York", "NY", "100"), ("Chicago", "IL", "606"), ("Austin", "TX", "787"),
            ("Seattle", "WA", "981"), ("Boston", "MA", "021"), ("San Jose", "CA", "951")]),
    "GB": (["UK", "United Kingdom", "Great Britain", "GB", "England"], "co.uk",
           [("Ltd", "Ltd.", "Limited"), ("PLC", "plc", "Public Limited Company")],
           [("London", "", "EC1"), ("Manchester", "", "M1"), ("Leeds", "", "LS1"), ("Bristol", "", "BS1")]),
    "DE": (["Germany", "Deutschland", "DE", "DEU"], "de",
           [("GmbH", "Gmbh", "G.m.b.H."), ("AG", "A.G."), ("GmbH & Co. KG", "GmbH & Co KG")],
           [("München", "Bayern", "80"), ("Berlin", "Berlin", "10"), ("Köln", "NRW", "50"),
            ("Hamburg", "Hamburg", "20")]),
    "FR": (["France", "FR", "FRA"], "fr", [("SA", "S.A."), ("SAS", "S.A.S."), ("SARL", "S.A.R.L.")],
           [("Paris", "", "75"), ("Lyon", "", "69"), ("Marseille", "", "13"), ("Nantes", "", "44")]),
    "NL": (["Netherlands", "The Netherlands", "Holland", "NL"], "nl", [("B.V.", "BV", "B.V"), ("N.V.", "NV")],
           [("Amsterdam", "", "10"), ("Rotterdam", "", "30"), ("Eindhoven", "", "56")]),
    "SE": (["Sweden", "Sverige", "SE"], "se", [("AB", "Aktiebolag", "AB (publ)")],
           [("Stockholm", "", "11"), ("Göteborg", "", "41"), ("Malmö", "", "21")]),
    "FI": (["Finland", "Suomi", "FI"], "fi", [("Oy", "OY"), ("Oyj", "OYJ")],
           [("Helsinki", "", "00"), ("Espoo", "", "02"), ("Tampere", "", "33")]),
    "DK": (["Denmark", "Danmark", "DK"], "dk", [("A/S", "AS"), ("ApS", "APS")],
           [("København", "", "10"), ("Aarhus", "", "80")]),
    "IT": (["Italy", "Italia", "IT"], "it", [("S.p.A.", "SpA", "S.P.A."), ("S.r.l.", "Srl", "SRL")],
           [("Milano", "", "201"), ("Roma", "", "001"), ("Torino", "", "101")]),
    "ES": (["Spain", "España", "ES"], "es", [("S.L.", "SL"), ("S.A.", "SA")],
           [("Madrid", "", "280"), ("Barcelona", "", "080")]),
    "PL": (["Poland", "Polska", "PL"], "pl", [("Sp. z o.o.", "sp. z o.o.", "Sp z oo"), ("S.A.", "SA")],
           [("Warszawa", "", "00"), ("Kraków", "", "30")]),
    "AU": (["Australia", "AU", "AUS"], "com.au", [("Pty Ltd", "Pty. Ltd.", "Proprietary Limited")],
           [("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000")]),
    "JP": (["Japan", "JP", "Nippon"], "co.jp", [("K.K.", "KK", "Co., Ltd.")],
           [("Tokyo", "", "100"), ("Osaka", "", "530")]),
    "ID": (["Indonesia", "ID", "IDN"], "co.id", [("Tbk", "Tbk.", "(Persero) Tbk")],
           [("Jakarta", "", "10"), ("Surabaya", "", "60")]),
    "NO": (["Norway", "Norge", "NO"], "no", [("ASA", "A.S.A.", "AS")], [("Oslo", "", "01"), ("Bergen", "", "50")]),
}
# fmt: on
COUNTRY_WEIGHTS = {
    "US": 40,
    "GB": 12,
    "DE": 10,
    "FR": 7,
    "NL": 5,
    "SE": 3,
    "FI": 2,
    "DK": 2,
    "IT": 5,
    "ES": 4,
    "PL": 3,
    "AU": 4,
    "JP": 3,
    "ID": 2,
    "NO": 2,
}
# Words a listing or a CRM adds after a name.
LISTING_NOISE = [
    "Class A",
    "Class B",
    "Common Shares",
    "Ord Shs",
    "DL -,01",
    "B Fria",
    "Registered Shs",
    "ADR",
    "Pref",
    "EO 1",
    "Common Stock",
    "Units",
]
CRM_NOISE = ["- EMEA", "(old)", "- DO NOT USE", "(Germany)", "- APAC", "(duplicate)", "- HQ", "(inactive)"]
JUNK_SITES = ["reseller-portal.com", "example.com", "partnerhub.net", "crm-import.io"]

# fmt: off
WORDS = ["Blue", "River", "North", "Star", "Summit", "Pine", "Oak", "Silver", "Stone", "Bridge", "Eagle",
         "Harbor", "Maple", "Red", "Rock", "Lake", "Sun", "Iron", "Cedar", "Falcon", "Crest", "Atlas", "Nova",
         "Apex", "Vertex", "Quantum", "Pioneer", "Liberty", "Golden", "Green", "Frontier", "Horizon", "Cobalt",
         "Granite", "Meadow", "Polar", "Coastal", "Prairie", "Beacon", "Anchor", "Orbit", "Zenith", "Delta",
         "Sierra", "Evergreen", "Keystone", "Sterling", "Trinity", "Union", "Crown"]
# fmt: on
FAMILY = [
    "Müller",
    "Schröder",
    "Lefèvre",
    "Dubois",
    "García",
    "Núñez",
    "Johansson",
    "Søren",
    "Kowalski",
    "Nowak",
    "Rossi",
    "Bianchi",
    "Jansen",
    "de Vries",
    "Smith",
    "Johnson",
    "O'Brien",
    "McAllister",
    "Tanaka",
    "Suzuki",
    "Virtanen",
    "Björk",
    "Weiß",
    "Hoffmann",
    "Moreau",
    "Ferrari",
]
# fmt: off
INDUSTRY = ["Software", "Systems", "Technologies", "Solutions", "Consulting", "Logistics", "Manufacturing",
            "Industries", "Holdings", "Group", "Partners", "Capital", "Foods", "Pharmaceuticals", "Labs",
            "Services", "Networks", "Media", "Energy", "International", "Engineering", "Analytics",
            "Security", "Healthcare", "Robotics", "Materials", "Chemicals", "Electronics", "Design",
            "Construction", "Insurance", "Financial", "Motors", "Retail", "Trading", "Ventures"]
# fmt: on
# fmt: off
ABBREV = {"International": ["Intl", "Int'l", "INTL"], "Manufacturing": ["Mfg", "Mfg."],
          "Technologies": ["Tech", "Technology", "Techn."], "Services": ["Svcs", "Service"],
          "Systems": ["Sys", "System"], "Group": ["Grp"], "Holdings": ["Hldgs", "Holding"],
          "Pharmaceuticals": ["Pharma", "Pharm."], "Laboratories": ["Labs"], "Engineering": ["Eng."],
          "Industries": ["Inds", "Industrial"], "Electronics": ["Electr.", "Electronic"],
          "Financial": ["Fin."], "Chemicals": ["Chem."]}
# fmt: on
FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "gmx.de", "icloud.com"]
SYLL_C = "bdfgklmnprstvzch"
SYLL_V = "aeiouy"
ACCENT_STRIP = str.maketrans(
    {
        "ü": "u",
        "ö": "o",
        "ä": "a",
        "é": "e",
        "è": "e",
        "ê": "e",
        "á": "a",
        "í": "i",
        "ó": "o",
        "ú": "u",
        "ñ": "n",
        "ç": "c",
        "ø": "o",
        "å": "a",
        "ß": "ss",
        "Ü": "U",
        "Ö": "O",
        "Ä": "A",
        "É": "E",
    }
)


def _syllable_name(rng: random.Random) -> str:
    n = rng.choice((2, 2, 3))
    parts = [rng.choice(SYLL_C) + rng.choice(SYLL_V) for _ in range(n)]
    if rng.random() < 0.5:
        parts.append(rng.choice("nrxsl"))
    return "".join(parts).capitalize()


def _core(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.03:  # initials joined: "K+L", "Z7"
        a, b = rng.choice("ABCDEFGHKLMNPRSTVZ"), rng.choice("ABCDEFGHKLMNPRSTVZ0123456789")
        return f"{a}{b} {rng.choice(WORDS)}" if b.isdigit() else f"{a}&{b} {rng.choice(WORDS)}"
    if r < 0.55:
        return _syllable_name(rng)
    if r < 0.8:
        return (
            f"{rng.choice(WORDS)} {rng.choice(WORDS)}"
            if rng.random() < 0.5
            else f"{rng.choice(WORDS)}{_syllable_name(rng).lower()}"
        )
    if r < 0.9:
        return f"{rng.choice(FAMILY)} & {rng.choice(FAMILY)}"
    return f"{_syllable_name(rng)} {rng.choice(FAMILY)}"


def _stem_of(name: str) -> str:
    ascii_name = name.translate(ACCENT_STRIP).lower()
    return "".join(ch for ch in ascii_name if ch.isalnum())


def _entity(
    rng: random.Random,
    eid: int,
    used: set,
    core: str | None = None,
    country: str | None = None,
    sibling_of: str | None = None,
) -> dict:
    country = country or rng.choices(list(COUNTRY_WEIGHTS), weights=list(COUNTRY_WEIGHTS.values()))[0]
    if core is None:
        # distinct companies get distinct core names: two unrelated "Bepol LLC" would make the ground
        # truth arbitrary (siblings share a core on purpose, below)
        core = _core(rng)
        while _stem_of(core) in used:
            core = _core(rng) + rng.choice(["", " " + rng.choice(WORDS)])
        used.add(_stem_of(core))
    industry = rng.choice(INDUSTRY) if rng.random() < 0.75 or sibling_of else ""
    while sibling_of and industry == sibling_of:
        industry = rng.choice(INDUSTRY)
    name = f"{core} {industry}".strip()
    _aliases, tld, forms, cities = COUNTRIES[country]
    city, region, postal_prefix = rng.choice(cities)
    # a sibling's site is named after its line of business: acmesystems.com next to acme.com
    stem = _stem_of(core + (industry if rng.random() < 0.6 or sibling_of else ""))
    return {
        "eid": eid,
        "name": name,
        "core": core,
        "industry": industry,
        "country": country,
        "legal": rng.choice(forms),
        "domain": f"{stem}.{tld if rng.random() < 0.6 else 'com'}" if rng.random() < 0.8 else "",
        "city": city,
        "region": region,
        "postal": postal_prefix + "".join(rng.choice("0123456789") for _ in range(5 - len(postal_prefix))),
    }


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.random()
    if op < 0.3:
        return text[:i] + text[i + 1 :]
    if op < 0.6:
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if op < 0.8:
        return text[:i] + rng.choice("abcdefghijklmnoprstuvy") + text[i + 1 :]
    return text[:i] + text[i] + text[i:]


def _cut_short(rng: random.Random, word: str) -> str:
    """'Technologies' -> 'Techn.', 'Makmur' -> 'Mak'."""
    return word[: rng.randint(3, min(5, len(word) - 1))] + rng.choice(["", "."])


def _joined(rng: random.Random, name: str) -> str:
    """'K&L Atlas' -> 'K + L Atlas' / 'K und L Atlas'; 'Z7 Atlas' -> 'Z 7 Atlas'."""
    head, _, rest = name.partition(" ")
    if "&" in head:
        a, b = head.split("&")
        return f"{a}{rng.choice(['+', ' & ', ' und ', ' and ', '&'])}{b} {rest}"
    if len(head) == 2 and head[1].isdigit():
        return f"{head[0]} {head[1]} {rest}"
    return name


def _render_name(rng: random.Random, e: dict) -> str:
    words = e["name"].split(" ")
    if rng.random() < 0.3:
        words = [rng.choice(ABBREV[w]) if w in ABBREV and rng.random() < 0.7 else w for w in words]
    if rng.random() < 0.05:  # words cut short, but never the first
        words = [words[0]] + [
            _cut_short(rng, w) if len(w) >= 5 and rng.random() < 0.7 else w for w in words[1:]
        ]
    name = _joined(rng, " ".join(words)) if rng.random() < 0.5 else " ".join(words)
    if "&" in name and rng.random() < 0.3:
        name = name.replace("&", "and")
    if rng.random() < 0.12:
        name = _typo(rng, name)
    if rng.random() < 0.25:
        name = name.translate(ACCENT_STRIP)
    r = rng.random()
    if r < 0.55:
        legal = e["legal"][0]
    elif r < 0.8:
        legal = ""
    else:
        legal = rng.choice(e["legal"])
    if legal:
        name = f"{name}{legal}" if legal.startswith(",") else f"{name} {legal}"
    if e["country"] == "ID" and rng.random() < 0.7:
        name = "PT " + name
    if e["country"] == "NL" and rng.random() < 0.1:
        name = "Koninklijke " + name
    r = rng.random()
    if r < 0.04:
        name = f"{name} {rng.choice(LISTING_NOISE)}"
    elif r < 0.07:
        name = f"{name} {rng.choice(CRM_NOISE)}"
    elif r < 0.08:
        name = f"{name} {name}"
    if rng.random() < 0.04:
        name = "The " + name
    r = rng.random()
    if r < 0.2:
        name = name.upper()
    elif r < 0.25:
        name = name.lower()
    return name


def _render_website(rng: random.Random, e: dict) -> str | None:
    if not e["domain"] or rng.random() < 0.3:
        return None
    domain = e["domain"]
    if rng.random() < 0.07:  # the same company's site under another country's TLD
        stem = domain.split(".", 1)[0]
        domain = f"{stem}.{rng.choice(['com', 'de', 'co.uk', 'fr', 'io', 'net'])}"
    host = rng.choices(
        [domain, "www." + domain, rng.choice(["shop.", "en.", "my.", "app."]) + domain], weights=[50, 40, 10]
    )[0]
    form = rng.random()
    if form < 0.4:
        return host
    if form < 0.8:
        return rng.choice(["http://", "https://"]) + host + rng.choice(["", "/"])
    return "https://" + host + rng.choice(["/en/", "/contact", "/about-us?ref=crm", "/de/index.html"])


def _render(rng: random.Random, e: dict, rid, side: str) -> dict:
    country = e["country"]
    if rng.random() < 0.04:  # a subsidiary's or a listing's country
        country = rng.choice(list(COUNTRIES))
    aliases = COUNTRIES[country][0]
    email = None
    if rng.random() < 0.35:
        person = rng.choice(["jane.doe", "j.smith", "info", "sales", "m.rossi", "k.tanaka"])
        email = (
            f"{person}@{e['domain']}"
            if e["domain"] and rng.random() < 0.7
            else f"{person}{rng.randrange(100)}@{rng.choice(FREE_MAIL)}"
        )
    city = e["city"] if rng.random() < 0.7 else None
    if city and rng.random() < 0.2:
        city = city.upper() if rng.random() < 0.5 else city.translate(ACCENT_STRIP)
    website = _render_website(rng, e)
    if rng.random() < 0.02:  # a placeholder or the reseller's own site
        website = JUNK_SITES[side == "R"] if rng.random() < 0.5 else JUNK_SITES[2 + (side == "R")]
    return {
        "id": rid,
        "name": _render_name(rng, e),
        "website": website,
        "email": email,
        "country": rng.choice(aliases) if rng.random() < 0.9 else None,
        "region": (e["region"] or None) if rng.random() < 0.5 else None,
        "city": city,
        "postal_code": e["postal"] if rng.random() < 0.4 else None,
        "crm_id": f"{side}-{rid}",
        "entity": e["eid"],
    }


def generate_pair(n: int = 10_000, seed: int = 7, overlap: float = 0.4, sibling_rate: float = 0.12):
    """Two lists of about `n` records each; `overlap` of them describe the same company."""
    rng = random.Random(seed)
    n_shared = int(n * overlap)
    n_only = n - n_shared
    used: set[str] = set()
    entities = [_entity(rng, eid, used) for eid in range(n_shared + 2 * n_only)]
    shared, left_only, right_only = (
        entities[:n_shared],
        entities[n_shared : n_shared + n_only],
        entities[n_shared + n_only :],
    )
    # Confusable siblings: same core name, other line of business, other domain; one on each side.
    n_sib = int(n * sibling_rate)
    for i in range(min(n_sib, len(left_only), len(right_only))):
        base = left_only[i]
        sibling = _entity(
            rng,
            right_only[i]["eid"],
            used,
            core=base["core"],
            country=base["country"] if rng.random() < 0.7 else None,
            sibling_of=base["industry"] or "-",
        )
        right_only[i] = sibling
    left_entities = shared + left_only
    right_entities = shared + right_only
    rng.shuffle(left_entities)
    rng.shuffle(right_entities)
    left = pd.DataFrame([_render(rng, e, i, "L") for i, e in enumerate(left_entities)]).set_index("id")
    right = pd.DataFrame([_render(rng, e, f"r{i}", "R") for i, e in enumerate(right_entities)]).set_index(
        "id"
    )
    left.index.name = right.index.name = "id"
    truth = (
        left.reset_index()[["id", "entity"]]
        .rename(columns={"id": "left_id"})
        .merge(right.reset_index()[["id", "entity"]].rename(columns={"id": "right_id"}), on="entity")
    )
    return left, right, truth[["left_id", "right_id"]]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    a, b, t = generate_pair(args.n, args.seed)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(a.head(args.n), b.head(args.n), t.head(args.n), sep="\n\n")
