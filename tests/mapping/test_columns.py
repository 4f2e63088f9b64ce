import csv

import pytest

from mapping.lists.columns import recognize_headers
from tests.mapping.conftest import DATA


def headers_of(name: str, encoding: str = "utf-8") -> list[str]:
    with open(DATA / name, encoding=encoding, newline="") as fh:
        return next(csv.reader(fh))


def test_salesforce_export():
    assert recognize_headers(headers_of("salesforce.csv")) == {
        "name": "Account Name",
        "website": "Website",
        "country": "Billing Country",  # not "Shipping Country"
        "region": "Billing State/Province",
        "city": "Billing City",
        "postal_code": "Billing Zip/Postal Code",
        "industry": "Industry",
        "owner_name": "Account Owner",
        "crm_id": "Account ID",
        "stage": "Type",
    }


def test_hubspot_export():
    assert recognize_headers(headers_of("hubspot.csv")) == {
        "name": "Company name",
        "website": "Website URL",
        "domain": "Company Domain Name",
        "country": "Country/Region",
        "region": "State/Region",
        "city": "City",
        "postal_code": "Postal Code",
        "industry": "Industry",
        "owner_name": "Company owner",
        "crm_id": "Record ID",
        "stage": "Lifecycle Stage",
    }


def test_dynamics_365_export():
    assert recognize_headers(headers_of("dynamics.csv")) == {
        "name": "Account Name",
        "website": "Website",
        "country": "Address 1: Country/Region",
        "city": "Address 1: City",
        "owner_name": "Owner",
        "crm_id": "(Do Not Modify) Account",
    }


def test_pipedrive_export():
    assert recognize_headers(headers_of("pipedrive.csv")) == {
        "name": "Organization - Name",
        "website": "Organization - Website",
        "country": "Organization - Address - Country",
        "city": "Organization - Address - City",
        "owner_name": "Organization - Owner",
        "crm_id": "Organization - ID",
    }


@pytest.mark.parametrize(
    "headers,expected",
    [
        (["name", "domain", "country"], {"name": "name", "domain": "domain", "country": "country"}),
        (["company", "url", "country"], {"name": "company", "website": "url", "country": "country"}),
        (
            ["Company", "Website", "Country", "ID"],
            {"name": "Company", "website": "Website", "country": "Country", "crm_id": "ID"},
        ),
        (["Firma", "Notes"], {}),
        (
            ["  ACCOUNT NAME ", "E-Mail of Account Owner"],
            {"name": "  ACCOUNT NAME ", "owner_email": "E-Mail of Account Owner"},
        ),
        (
            ["Customer Name (legal)", "HQ Website", "Zip"],
            {"name": "Customer Name (legal)", "website": "HQ Website", "postal_code": "Zip"},
        ),
    ],
)
def test_plain_headers(headers, expected):
    assert recognize_headers(headers) == expected


def test_each_header_fills_one_field_and_the_best_alias_wins():
    result = recognize_headers(["Name", "Account Name", "Shipping Country", "Billing Country"])
    assert result == {"name": "Account Name", "country": "Billing Country"}
