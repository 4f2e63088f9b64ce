"""Which column of a CRM export holds which account-record field.

`recognize_headers(headers)` knows the exports of Salesforce, HubSpot, Dynamics 365 and Pipedrive
and plain headers ("name", "company", "domain", "url", "country"...). The portal shows its guess
for the user to confirm or correct; the matching engine's `match_files` command reuses it.
"""

from __future__ import annotations

import re
import unicodedata

# The record fields a column can fill, in the order the portal shows them. Anything else goes to
# the record's `extra` under its header.
FIELDS: tuple[str, ...] = (
    "name",
    "website",
    "domain",
    "country",
    "region",
    "city",
    "postal_code",
    "industry",
    "owner_name",
    "owner_email",
    "crm_id",
    "stage",
)

FIELD_LABELS: dict[str, str] = {
    "name": "Account name",
    "website": "Website",
    "domain": "Domain",
    "country": "Country",
    "region": "Region / state",
    "city": "City",
    "postal_code": "Postal code",
    "industry": "Industry",
    "owner_name": "Owner name",
    "owner_email": "Owner e-mail",
    "crm_id": "CRM id",
    "stage": "Stage / type",
}

# Known headers, normalized by `header_key`, best first: when a file has two candidates for a field
# ("Billing Country" and "Shipping Country") the earlier alias wins.
ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "account name",  # Salesforce, Dynamics 365
        "company name",  # HubSpot
        "organization name",  # Pipedrive ("Organization - Name")
        "organisation name",
        "customer name",
        "business name",
        "legal name",
        "account",
        "company",
        "organization",
        "organisation",
        "customer",
        "name",
    ),
    "website": (
        "website",
        "website url",  # HubSpot
        "organization website",  # Pipedrive
        "web site",
        "company website",
        "homepage",
        "home page",
        "url",
        "web",
        "site",
    ),
    "domain": (
        "company domain name",  # HubSpot
        "domain",
        "domain name",
        "company domain",
        "email domain",
        "primary domain",
    ),
    "country": (
        "billing country",  # Salesforce
        "country region",  # HubSpot "Country/Region"
        "address 1 country region",  # Dynamics 365
        "address 1 country",
        "organization address country",  # Pipedrive
        "country",
        "country code",
        "hq country",
        "billing country code",
        "shipping country",
        "mailing country",
    ),
    "region": (
        "billing state province",  # Salesforce
        "state region",  # HubSpot
        "address 1 state province",  # Dynamics 365
        "organization address state",  # Pipedrive
        "organization address region",
        "state province",
        "state",
        "province",
        "region",
        "county",
        "billing state",
        "shipping state province",
    ),
    "city": (
        "billing city",  # Salesforce
        "address 1 city",  # Dynamics 365
        "organization address city",  # Pipedrive
        "organization address locality",
        "city",
        "town",
        "locality",
        "shipping city",
    ),
    "postal_code": (
        "billing zip postal code",  # Salesforce
        "address 1 zip postal code",  # Dynamics 365
        "organization address zip postal code",  # Pipedrive
        "organization address postal code",
        "postal code",  # HubSpot
        "zip postal code",
        "zip code",
        "zip",
        "postcode",
        "post code",
        "shipping zip postal code",
    ),
    "industry": ("industry", "organization industry", "sector", "vertical"),
    "owner_name": (
        "account owner",  # Salesforce
        "company owner",  # HubSpot
        "organization owner",  # Pipedrive
        "owner",  # Dynamics 365
        "account owner name",
        "owner name",
        "record owner",
        "account manager",
        "sales rep",
    ),
    "owner_email": (
        "account owner email",
        "company owner email",
        "owner email",
        "organization owner email",
        "account manager email",
        "sales rep email",
    ),
    "crm_id": (
        "account id",  # Salesforce
        "record id",  # HubSpot
        "do not modify account",  # Dynamics 365 "(Do Not Modify) Account"
        "organization id",  # Pipedrive
        "crm id",
        "account id 18",
        "company id",
        "external id",
        "customer id",
        "id",
    ),
    "stage": (
        "type",  # Salesforce
        "lifecycle stage",  # HubSpot
        "account type",
        "relationship type",
        "customer type",
        "stage",
        "status",
        "relationship",
    ),
}

_ALIAS_RANK: dict[str, tuple[str, int]] = {}
for _field, _aliases in ALIASES.items():
    for _rank, _alias in enumerate(_aliases):
        _ALIAS_RANK.setdefault(_alias, (_field, _rank))

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def header_key(header: object) -> str:
    """'Billing State/Province' -> 'billing state province'; 'E-Mail' -> 'e mail'."""
    text = unicodedata.normalize("NFKD", str(header or "")).encode("ascii", "ignore").decode("ascii")
    text = text.lower().replace("e-mail", "email")
    return " ".join(_NON_ALNUM.sub(" ", text).split())


def _guess(key: str) -> tuple[str, int] | None:
    """Headers no alias names exactly ('Company Name (legal)', 'HQ Website')."""
    words = set(key.split())
    if not words:
        return None
    if "email" in words and words & {"owner", "manager", "rep"}:
        return "owner_email", 100
    if words & {"id", "guid", "uuid"} and words & {"account", "company", "organization", "record", "crm"}:
        return "crm_id", 100
    if "name" in words and words & {"account", "company", "organization", "organisation", "customer"}:
        return "name", 100
    if words & {"website", "url", "homepage"}:
        return "website", 100
    if "domain" in words:
        return "domain", 100
    if "country" in words and "billing" in words or words == {"country"}:
        return "country", 100
    if "country" in words:
        return "country", 101
    if words & {"zip", "postcode", "postal"}:
        return "postal_code", 100
    if "city" in words:
        return "city", 100
    if words & {"state", "province"}:
        return "region", 100
    if "industry" in words:
        return "industry", 100
    if "owner" in words:
        return "owner_name", 100
    return None


def recognize_headers(headers: list[str] | tuple[str, ...]) -> dict[str, str]:
    """{field: header} for the headers this module recognizes; each header fills one field at most.

    >>> recognize_headers(["Account Name", "Website", "Billing Country", "Account ID"])
    {'name': 'Account Name', 'website': 'Website', 'country': 'Billing Country', 'crm_id': 'Account ID'}
    """
    best: dict[str, tuple[int, int, str]] = {}  # field -> (rank, position, header)
    for position, header in enumerate(headers):
        key = header_key(header)
        hit = _ALIAS_RANK.get(key) or _guess(key)
        if hit is None:
            continue
        field, rank = hit
        if field not in best or (rank, position) < best[field][:2]:
            best[field] = (rank, position, header)
    # A lone "Email" column is left unmapped: it usually is a contact's address, not the owner's.
    return {field: best[field][2] for field in FIELDS if field in best}
