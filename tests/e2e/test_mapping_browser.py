import pytest

from accounts.models import Role
from tests.e2e.conftest import sign_in
from tests.factories import PASSWORD, member
from tests.mapping.test_sharing_helpers import link, make_list, make_record, share

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mapped(world):
    oc = make_list(world.owner_org, "Owner customers", "customers")
    pc = make_list(world.partner_org, "Partner customers", "customers")
    for i in range(3):
        mine = make_record(oc, f"Shared {i}", owner_email="rep@owner.test" if i < 2 else "someone@owner.test")
        theirs = make_record(pc, f"Their shared {i}", owner_email="hidden-rep@partner.test")
        link(world.partnership, mine, theirs, score=0.9 - i / 10)
    make_record(oc, "Only mine")
    return oc, pc


def test_rule_change_shows_in_the_partners_matrix(world, mapped, live_server, browser, settings):
    oc, _pc = mapped
    p = world.partnership.pk
    owner_page = browser.new_context().new_page()
    partner_page = browser.new_context().new_page()
    try:
        sign_in(partner_page, live_server, world.partner.email, PASSWORD)
        partner_page.goto(f"{live_server.url}/partnerships/{p}/mapping/")
        assert partner_page.is_visible("#nothing-shared")
        assert "Owner customers" not in partner_page.content()

        sign_in(owner_page, live_server, world.owner.email, PASSWORD)
        owner_page.goto(f"{live_server.url}/partnerships/{p}/")
        owner_page.click("#sharing-rules-link")
        form = owner_page.locator(f"form.rule-form[data-list='{oc.pk}']")
        form.locator("select[name=level]").select_option("counts")
        form.locator("button[name=save]").click()
        owner_page.wait_for_selector(f"#rule-{oc.pk} [data-level=counts]")

        partner_page.reload()
        cell = partner_page.locator(f"#overlap-matrix td[data-their-list='{oc.pk}']").first
        assert cell.get_attribute("data-count") == "3"
        assert "Owner customers" in partner_page.inner_text("#overlap-matrix")
        assert partner_page.locator("#overlap-matrix td a").count() == 0  # counts only: cells do not open
        assert "Shared 0" not in partner_page.content()

        form = owner_page.locator(f"form.rule-form[data-list='{oc.pk}']")
        form.locator("select[name=level]").select_option("hidden")
        form.locator("button[name=save]").click()
        owner_page.wait_for_selector(f"#rule-{oc.pk} [data-level=hidden]")
        partner_page.reload()
        assert partner_page.is_visible("#nothing-shared")
        partner_page.screenshot(
            path=str(settings.BASE_DIR / ".pytest_cache" / "mapping-matrix.png"), full_page=True
        )
    finally:
        owner_page.context.close()
        partner_page.context.close()


def test_sales_rep_filters_to_their_accounts_and_exports(world, mapped, live_server, page, settings):
    _oc, pc = mapped
    share(world.partner, world.partnership, pc, "overlaps", fields=["name"])
    rep = member(world.owner_org, Role.SALES_REP, email="rep@owner.test")
    p = world.partnership.pk
    sign_in(page, live_server, rep.email, PASSWORD)
    page.goto(f"{live_server.url}/partnerships/{p}/mapping/")
    page.click(f"#overlap-matrix td[data-their-list='{pc.pk}'] a")
    page.wait_for_selector("#overlaps")
    assert page.inner_text("#result-count") == "3"
    page.check("input[name=mine]")
    page.click("#apply-filters")
    page.wait_for_url("**mine=on**")
    assert page.inner_text("#result-count") == "2"
    table = page.inner_text("#overlaps")
    assert "Shared 0" in table and "Shared 1" in table and "Shared 2" not in table
    assert "Their shared 0" in table and "hidden-rep" not in table
    with page.expect_download() as download_info:
        page.click("#export-link")
    csv_text = open(download_info.value.path(), encoding="utf-8-sig").read()
    lines = [line for line in csv_text.splitlines() if line]
    assert len(lines) == 3 and "Partner account name" in lines[0]
    assert "Shared 2" not in csv_text and "hidden-rep" not in csv_text and "Their shared 1" in csv_text
    page.screenshot(path=str(settings.BASE_DIR / ".pytest_cache" / "mapping-overlaps.png"), full_page=True)
