import pytest
from django.core.management import call_command

from accounts.management.commands.seed_demo import DEMO_PASSWORD
from mapping.models import AccountList
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SALESFORCE_CSV = (
    "Account ID,Account Name,Website,Billing Country,Billing City,Industry,Account Owner,Type\r\n"
    "001A,Acme Corporation,https://www.acme.com,USA,Austin,Software,Sam Sales,Customer\r\n"
    '001B,"Globex, GmbH",globex.de,Germany,Berlin,Manufacturing,Sam Sales,Customer\r\n'
    "001C,Initech Inc.,initech.com,United States,Austin,Software,Pat PM,Customer\r\n"
    "001D,Umbrella plc,umbrella.co.uk,UK,London,Pharma,Pat PM,Customer\r\n"
)


def test_upload_salesforce_csv_confirm_mapping_and_see_the_count(live_server, page, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    sign_in(page, live_server, "pm@northwind.example", DEMO_PASSWORD)

    page.click("nav >> text=Lists")
    page.fill("#list-form input[name=name]", "Salesforce customers")
    page.click("#list-form button[type=submit]")
    page.wait_for_selector("#upload-form")

    export = tmp_path / "salesforce_accounts.csv"
    export.write_text(SALESFORCE_CSV, encoding="utf-8")
    page.set_input_files("#file-input", str(export))
    page.click("#upload-submit")

    page.wait_for_selector("#mapping-form")
    # the Salesforce headers were recognized without help
    assert page.input_value("#mapping-form select[name=map_name]") == "Account Name"
    assert page.input_value("#mapping-form select[name=map_country]") == "Billing Country"
    page.click("#confirm-import")

    page.wait_for_selector("#import-progress[data-status=succeeded]", timeout=30000)
    assert page.inner_text("#record-count") == "4"
    account_list = AccountList.objects.get(name="Salesforce customers")
    assert account_list.records.count() == 4
    assert set(account_list.records.values_list("country_norm", flat=True)) == {"US", "DE", "GB"}
