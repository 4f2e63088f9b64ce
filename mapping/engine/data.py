"""Reference tables used by normalization: legal forms, abbreviations, countries, free mail.

All entries are written *already normalized* (lower-case ASCII, no punctuation, tokens separated by
one space) because they are compared with the output of the first normalization steps.
"""

# fmt: off
# Legal forms, by country of origin.  Normalization turns dotted forms such as "S.p.A." or "N.V." into
# one token ("spa", "nv") before this table is consulted, and "Sp. z o.o." into "sp z oo".
LEGAL_FORMS_BY_COUNTRY: dict[str, tuple[str, ...]] = {
    "us": ("inc", "incorporated", "llc", "l l c", "corp", "corporation", "co", "company", "lp", "llp",
           "pc", "pllc", "ltd", "limited", "plc", "na"),
    "gb": ("ltd", "limited", "plc", "llp", "lp", "cic", "cio", "public limited company"),
    "ie": ("teo", "cpt", "dac", "uc"),
    "de": ("gmbh", "ag", "kg", "aktiengesellschaft", "gesellschaft mit beschrankter haftung", "ohg", "gbr",
           "kgaa", "ug", "ev", "eg", "mbh", "gmbh co kg", "se", "co kg",
           "haftungsbeschrankt"),
    "at": ("gesmbh", "gmbh", "ag"),
    "ch": ("sa", "ag", "sarl", "gmbh", "sagl"),
    "fr": ("sa", "societe anonyme", "sas", "sasu", "sarl", "eurl", "sci", "snc", "sca", "scop", "selarl"),
    "be": ("nv", "bv", "bvba", "sprl", "srl", "cvba", "scrl", "vzw", "asbl"),
    "nl": ("nv", "bv", "vof", "cv", "kon", "naamloze vennootschap", "besloten vennootschap"),
    "lu": ("sa", "sarl", "scs", "sca"),
    "it": ("spa", "societa per azioni", "srl", "sapa", "snc", "sas", "scarl", "srls"),
    "es": ("sa", "sl", "slu", "sau", "sll", "scoop", "sc"),
    "pt": ("sa", "lda", "limitada"),
    "br": ("ltda", "sa", "eireli"),
    "mx": ("sa de cv", "s de rl de cv", "sab de cv", "de cv", "s de rl", "sapi de cv"),
    "se": ("ab", "hb", "kb", "publ", "ab publ", "aktiebolag", "aktiebolaget"),
    "fi": ("oy", "oyj", "ky", "ay", "osakeyhtio"),
    "dk": ("as", "aps", "amba", "ks"),
    "no": ("as", "asa", "ans", "sa"),
    "is": ("ehf", "hf"),
    "pl": ("sp z oo", "spzoo", "sa", "sp j", "sp k", "spolka z oo"),
    "cz": ("sro", "as", "vos", "ks"),
    "sk": ("sro", "as"),
    "hu": ("kft", "zrt", "nyrt", "bt", "rt"),
    "ro": ("srl", "sa"),
    "bg": ("ood", "ead", "ad", "eood"),
    "hr": ("doo", "dd"),
    "si": ("doo", "dd"),
    "rs": ("doo", "ad"),
    "gr": ("ae", "epe", "ike"),
    "tr": ("as", "ltd sti", "sti"),
    "ru": ("ooo", "oao", "zao", "pao", "ao"),
    "ua": ("tov", "pat", "prat"),
    "au": ("pty", "pty ltd", "ltd", "proprietary limited", "pty limited"),
    "nz": ("ltd", "limited"),
    "ca": ("ltd", "ltee", "inc", "corp", "ulc"),
    "in": ("pvt", "pvt ltd", "private limited", "ltd", "llp"),
    "jp": ("kk", "kabushiki kaisha", "yk", "gk", "godo kaisha", "co ltd"),
    "kr": ("co ltd", "corp", "inc"),
    "cn": ("co ltd", "ltd", "limited"),
    "hk": ("ltd", "limited"),
    "sg": ("pte", "pte ltd", "ltd"),
    "my": ("sdn bhd", "bhd", "berhad"),
    "id": ("pt", "tbk", "persero", "persero tbk", "perseroan terbatas", "cv"),
    "th": ("pcl", "co ltd", "public co ltd", "public company limited"),
    "ph": ("inc", "corp"),
    "za": ("pty", "pty ltd", "ltd", "soc ltd", "npc", "cc"),
    "il": ("ltd", "bm"),
    "ae": ("llc", "fze", "fzco", "fz llc", "pjsc"),
    "eu": ("se", "sce", "eeig"),
}
# fmt: on

# fmt: off
# Every legal form, longest (most tokens) first so "pty ltd" is stripped before "ltd".
LEGAL_FORMS: tuple[str, ...] = tuple(
    sorted({form for forms in LEGAL_FORMS_BY_COUNTRY.values() for form in forms},
           key=lambda form: (-len(form.split()), form))
)
# fmt: on

# Legal forms that may also open a name ("PT Astra", "OOO Gazprom", "The ...").  Kept short: most
# leading tokens are real name parts.
LEADING_NOISE: frozenset[str] = frozenset(
    {
        "the",
        "pt",
        "ooo",
        "oao",
        "zao",
        "pao",
        "cv",
        "nv",
        "bv",
        "ab",
        "koninklijke",
        "kon",
        "pjsc",
        "ojsc",
        "jsc",
    }
)

# fmt: off
# Legal forms that, met inside a name ("Harbor Minerals Ltd. Class A", "Acme Corp - EMEA", "Velmont SA
# Velmont Ord Shs"), end it: what follows is listing or CRM noise (share classes, regions, notes).  The
# legal forms that are also ordinary words or initials ("co", "as", "spa", "pt" ...) never cut a name.
NOT_CUTTING_FORMS: frozenset[str] = frozenset({
    "co", "company", "as", "ad", "na", "pc", "cc", "sc", "uc", "ev", "eg", "pt", "cv", "ky", "ay", "hb",
    "kb", "ks", "bt", "rt", "dd", "ae", "ao", "spa", "sci", "lp", "ug", "se", "kon", "persero", "ans",
    "sp j", "sp k", "de cv", "gen",
})
# fmt: on

# Tokens dropped wherever they occur: connectives that lists write as "&", "and", "und", "et" ...
STOPWORDS: frozenset[str] = frozenset({"and", "und", "et", "of", "the"})

# fmt: off
# Abbreviation noise (stock-exchange listings, CRM exports) mapped to one canonical token, so
# "INTL"/"International" and "MFG"/"Manufacturing" compare equal.  The canonical form is whichever
# is unambiguous and short.
ABBREVIATIONS: dict[str, str] = {
    "international": "intl", "internat": "intl", "intl": "intl", "int": "intl",
    "manufacturing": "mfg", "manufacturers": "mfg", "manufacturer": "mfg", "mfg": "mfg", "mfrs": "mfg",
    "technologies": "tech", "technology": "tech", "techn": "tech", "tech": "tech", "techs": "tech",
    "aluminium": "aluminum", "aluminum": "aluminum", "alum": "aluminum", "alu": "aluminum",
    "american": "amer", "america": "amer", "amer": "amer", "amern": "amer",
    "british": "brit", "britain": "brit", "brit": "brit",
    "services": "svcs", "service": "svcs", "svcs": "svcs", "svc": "svcs", "serv": "svcs",
    "systems": "sys", "system": "sys", "sys": "sys", "syst": "sys",
    "group": "grp", "grp": "grp", "gruppe": "grp", "groupe": "grp", "gruppo": "grp",
    "holdings": "hldgs", "holding": "hldgs", "hldgs": "hldgs", "hldg": "hldgs", "hold": "hldgs",
    "national": "natl", "natl": "natl", "nat": "natl",
    "association": "assn", "assoc": "assn", "assn": "assn",
    "brothers": "bros", "bros": "bros",
    "management": "mgmt", "mgmt": "mgmt", "mgt": "mgmt",
    "university": "univ", "univ": "univ",
    "institute": "inst", "inst": "inst",
    "laboratories": "labs", "laboratory": "labs", "lab": "labs", "labs": "labs", "labo": "labs",
    "pharmaceuticals": "pharma", "pharmaceutical": "pharma", "pharm": "pharma", "pharma": "pharma",
    "chemicals": "chem", "chemical": "chem", "chem": "chem",
    "industries": "inds", "industry": "inds", "industrial": "inds", "inds": "inds", "ind": "inds",
    "electronics": "elec", "electronic": "elec", "electric": "elec", "electrical": "elec",
    "elec": "elec", "electr": "elec",
    "communications": "comms", "communication": "comms", "comm": "comms", "comms": "comms",
    "financial": "fin", "finance": "fin", "fin": "fin", "finl": "fin",
    "insurance": "ins", "ins": "ins",
    "center": "ctr", "centre": "ctr", "ctr": "ctr",
    "development": "dev", "developments": "dev", "dev": "dev",
    "engineering": "eng", "engineers": "eng", "eng": "eng", "engg": "eng",
    "products": "prods", "product": "prods", "prods": "prods", "prod": "prods",
    "resources": "res", "resource": "res", "res": "res",
    "investments": "invest", "investment": "invest", "invest": "invest", "inv": "invest",
    "enterprises": "ent", "enterprise": "ent", "ent": "ent",
    "solutions": "sol", "solution": "sol", "sol": "sol", "solns": "sol",
    "associates": "assoc", "assocs": "assoc",
    "software": "sw", "sw": "sw",
    "consulting": "cons", "consultants": "cons", "consultancy": "cons", "cons": "cons",
    "transportation": "transp", "transport": "transp", "transp": "transp",
    "properties": "props", "property": "props", "props": "props",
    "medical": "med", "med": "med",
    "general": "gen", "gen": "gen",
    "mount": "mt", "mt": "mt",
    "saint": "st", "sankt": "st",
    "koninklijke": "kon", "kon": "kon",
    "nederland": "nl", "nederlandse": "nl",
    "gesellschaft": "ges", "ges": "ges",
    "cooperative": "coop", "coop": "coop",
}
# fmt: on

# fmt: off
# Words so common in company names that sharing them says little ("Acme Software" vs "Acme Systems"
# share only "acme").  Used to down-weight tokens in the name-overlap feature; a static table (not
# corpus IDF) keeps every pair's score a function of that pair alone, which incremental matching needs.
COMMON_TOKENS: frozenset[str] = frozenset({
    "sw", "sys", "grp", "hldgs", "intl", "tech", "svcs", "sol", "cons", "mfg", "inds", "elec", "comms",
    "fin", "ins", "ctr", "dev", "eng", "prods", "res", "invest", "ent", "assoc", "transp", "props", "med",
    "gen", "natl", "labs", "pharma", "chem", "amer", "brit", "global", "world", "partners", "capital",
    "digital", "data", "networks", "media", "energy", "logistics", "foods", "food", "health",
    "healthcare", "bank", "trust", "north", "south", "east", "west", "new", "first", "united", "royal",
    "europe", "european", "asia", "pacific", "atlantic", "city", "care", "design", "trading", "retail",
    "auto", "motors", "construction", "bv", "nl", "kon", "de", "la", "le", "les", "van", "der", "den",
    "y", "a", "s", "t", "company", "studio", "analytics", "cloud", "security", "ventures",
    "air", "home", "school", "church", "community", "day", "early", "learning", "child", "children",
    "family", "development", "head", "start", "academy", "st",
})
# fmt: on

# fmt: off
# Free mail providers: an owner e-mail at one of these says nothing about the account's company.
FREE_MAIL_DOMAINS: frozenset[str] = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "ymail.com",
    "rocketmail.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "outlook.com",
    "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "protonmail.com", "proton.me",
    "pm.me", "gmx.de", "gmx.net", "gmx.com", "web.de", "t-online.de", "mail.ru", "yandex.ru",
    "yandex.com", "qq.com", "163.com", "126.com", "sina.com", "naver.com", "daum.net", "orange.fr",
    "free.fr", "laposte.net", "libero.it", "virgilio.it", "btinternet.com", "zoho.com", "mail.com",
    "fastmail.com", "hey.com", "tutanota.com", "seznam.cz", "wp.pl", "o2.pl", "interia.pl",
    "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "rediffmail.com", "yahoo.co.jp",
})
# fmt: on

# fmt: off
# Country spellings pycountry does not resolve (or resolves to something else).  Keys normalized:
# lower-case ASCII with punctuation removed.
COUNTRY_ALIASES: dict[str, str] = {
    "usa": "US", "us": "US", "u s": "US", "u s a": "US", "united states": "US", "america": "US",
    "united states of america": "US", "the united states": "US", "estados unidos": "US",
    "vereinigte staaten": "US", "etats unis": "US",
    "uk": "GB", "u k": "GB", "united kingdom": "GB", "great britain": "GB", "britain": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "the united kingdom": "GB", "gbr": "GB",
    "deutschland": "DE", "allemagne": "DE", "germania": "DE", "alemania": "DE", "brd": "DE",
    "west germany": "DE",
    "holland": "NL", "the netherlands": "NL", "nederland": "NL", "niederlande": "NL", "pays bas": "NL",
    "schweiz": "CH", "suisse": "CH", "svizzera": "CH", "oesterreich": "AT", "osterreich": "AT",
    "france": "FR", "frankreich": "FR", "espana": "ES", "spanien": "ES", "italia": "IT", "italien": "IT",
    "sverige": "SE", "schweden": "SE", "suomi": "FI", "danmark": "DK", "norge": "NO", "polska": "PL",
    "belgie": "BE", "belgique": "BE", "belgien": "BE", "eire": "IE", "ireland": "IE",
    "republic of ireland": "IE", "ceska republika": "CZ", "czechia": "CZ", "czech republic": "CZ",
    "magyarorszag": "HU", "russia": "RU", "russian federation": "RU", "rossiya": "RU",
    "south korea": "KR", "korea": "KR", "republic of korea": "KR", "north korea": "KP",
    "turkey": "TR", "turkiye": "TR", "vietnam": "VN", "viet nam": "VN", "iran": "IR", "syria": "SY",
    "taiwan": "TW", "republic of china": "TW", "prc": "CN", "china": "CN",
    "peoples republic of china": "CN", "hong kong": "HK", "macau": "MO", "macao": "MO",
    "uae": "AE", "u a e": "AE", "emirates": "AE", "united arab emirates": "AE",
    "ksa": "SA", "saudi": "SA", "brasil": "BR", "mexique": "MX", "nippon": "JP", "nihon": "JP",
    "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "laos": "LA", "moldova": "MD",
    "ivory coast": "CI", "cote divoire": "CI", "cape verde": "CV", "swaziland": "SZ", "burma": "MM",
    "macedonia": "MK", "north macedonia": "MK", "vatican": "VA", "palestine": "PS", "kosovo": "XK",
    "the bahamas": "BS", "the gambia": "GM", "congo": "CG", "drc": "CD", "dr congo": "CD",
    "democratic republic of the congo": "CD", "east timor": "TL", "micronesia": "FM",
    "aus": "AU", "oz": "AU", "nz": "NZ", "aotearoa": "NZ", "rsa": "ZA",
}
# fmt: on
