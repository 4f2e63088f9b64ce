import pytest
from django.core.management import call_command

from accounts.management.commands.seed_demo import DEMO_PASSWORD
from accounts.models import Partnership, StageChange
from tests.e2e.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_partner_manager_changes_lifecycle_stage(live_server, page, settings):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    sign_in(page, live_server, "pm@northwind.example", DEMO_PASSWORD)

    page.click("nav >> text=Partnerships")
    page.wait_for_selector("#partnerships")
    page.click("#partnerships >> text=Cobalt Resellers")
    assert page.inner_text("#current-stage") == "Enable"

    page.select_option("select[name=stage]", "market")
    page.fill("input[name=note]", "Joint webinar planned")
    page.click("#change-stage")
    page.wait_for_function("document.querySelector('#current-stage').innerText === 'Market'")
    assert "Joint webinar planned" in page.inner_text("#stage-history")

    partnership = Partnership.objects.get(partner__slug="cobalt")
    assert partnership.stage == "market"
    change = StageChange.objects.filter(partnership=partnership).first()
    assert change.changed_by.email == "pm@northwind.example" and change.to_stage == "market"
    page.screenshot(path=str(settings.BASE_DIR / ".pytest_cache" / "partnership-stage.png"), full_page=True)
