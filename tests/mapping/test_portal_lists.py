import pytest
from django.test import Client

from accounts.models import Role
from mapping.models import AccountList, AccountRecord, ImportJob
from tests.conftest import assert_no_leak
from tests.factories import member
from tests.mapping.conftest import data_file, run_import

pytestmark = pytest.mark.django_db


def portal(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)  # the import task runs when the confirmation commits
def test_upload_confirm_and_see_the_result(world, customers):
    client = portal(world.owner)
    page = client.get(f"/lists/{customers.pk}/")
    html = page.content.decode()
    for element in ('id="upload-form"', 'id="file-input"', 'id="record-count"'):
        assert element in html
    response = client.post(f"/lists/{customers.pk}/upload/", {"file": data_file("salesforce.csv")})
    assert response.status_code == 302
    job = ImportJob.objects.get(account_list=customers)
    assert response["Location"] == f"/lists/{customers.pk}/imports/{job.pk}/"
    mapping_page = client.get(response["Location"]).content.decode()
    assert 'id="mapping-form"' in mapping_page and 'id="confirm-import"' in mapping_page
    assert '<option value="Billing Country" selected>' in mapping_page
    form = {f"map_{field}": header for field, header in job.column_mapping.items()}
    form.update({"map_name": "Account Name", "mode": "replace"})
    response = client.post(f"/lists/{customers.pk}/imports/{job.pk}/", form)
    assert response.status_code == 302
    result = client.get(response["Location"]).content.decode()
    assert 'id="import-progress"' in result and 'data-status="succeeded"' in result
    assert '<span id="record-count">3</span>' in result
    progress = client.get(f"/lists/{customers.pk}/imports/{job.pk}/progress/", HTTP_HX_REQUEST="true")
    assert progress.status_code == 200 and progress["HX-Refresh"] == "true"
    assert AccountRecord.objects.filter(account_list=customers).count() == 3


def test_mapping_without_a_name_is_refused_on_the_form(world, customers):
    client = portal(world.owner)
    client.post(f"/lists/{customers.pk}/upload/", {"file": data_file("no_name_column.csv")})
    job = ImportJob.objects.get(account_list=customers)
    response = client.post(
        f"/lists/{customers.pk}/imports/{job.pk}/", {"map_country": "Billing Country", "mode": "replace"}
    )
    assert response.status_code == 200
    assert "Choose the column that holds the account name" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.AWAITING_MAPPING


def test_unreadable_upload_shows_the_reason(world, customers):
    response = portal(world.owner).post(
        f"/lists/{customers.pk}/upload/", {"file": data_file("not_an_xlsx.xlsx")}
    )
    assert response.status_code == 400
    assert "not an Excel workbook" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_failed_import_page_reads_well(world, customers):
    job = run_import(world.owner, customers, data_file("duplicate_crm_ids.csv"))
    page = portal(world.owner).get(f"/lists/{customers.pk}/imports/{job.pk}/").content.decode()
    assert "already used on row 2" in page and 'id="problems"' in page and 'id="problem-report"' in page
    report = portal(world.owner).get(f"/lists/{customers.pk}/imports/{job.pk}/report.csv")
    assert b"already used on row 2" in b"".join(report.streaming_content)


def test_create_list_in_the_portal(world):
    client = portal(world.owner)
    response = client.post("/lists/", {"name": "Prospects", "kind": "prospects"})
    assert response.status_code == 302
    assert AccountList.objects.filter(organization=world.owner_org, name="Prospects").exists()
    assert "Prospects" in client.get("/lists/").content.decode()


def test_viewer_sees_no_upload_form_and_cannot_upload(world, customers):
    viewer = member(world.owner_org, Role.VIEWER)
    client = portal(viewer)
    assert 'id="upload-form"' not in client.get(f"/lists/{customers.pk}/").content.decode()
    response = client.post(f"/lists/{customers.pk}/upload/", {"file": data_file("plain.csv")}, follow=True)
    assert "does not allow" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("actor", ["partner", "outsider"])
def test_other_organizations_get_404(world, customers, actor):
    job = run_import(world.owner, customers, data_file("salesforce.csv"))
    client = portal(getattr(world, actor))
    urls = [
        f"/lists/{customers.pk}/",
        f"/lists/{customers.pk}/export.csv",
        f"/lists/{customers.pk}/imports/{job.pk}/",
        f"/lists/{customers.pk}/imports/{job.pk}/progress/",
        f"/lists/{customers.pk}/imports/{job.pk}/report.csv",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert_no_leak(response, "Acme Corporation", "0015g00000AbCdEAAV")
    for url in (
        f"/lists/{customers.pk}/upload/",
        f"/lists/{customers.pk}/delete/",
        f"/lists/{customers.pk}/imports/{job.pk}/",
    ):
        assert client.post(url, {"file": data_file("plain.csv")}).status_code == 404, url
    assert f"/lists/{customers.pk}/" not in client.get("/lists/").content.decode()
    assert AccountList.objects.filter(pk=customers.pk).exists()


def test_list_page_query_count(world, customers, django_assert_max_num_queries):
    from mapping.lists.services.lists import account_list_create

    client = portal(world.owner)
    for batch in range(2):  # as many queries for 11 lists as for 6: no query per list
        for i in range(5):
            account_list_create(actor=world.owner, org=world.owner_org, name=f"List {batch}-{i}")
        with django_assert_max_num_queries(13):
            assert client.get("/lists/").status_code == 200
    for name in ("salesforce.csv", "hubspot.csv"):  # more records and imports, same queries
        run_import(world.owner, customers, data_file(name), mode="merge")
        with django_assert_max_num_queries(14):
            assert client.get(f"/lists/{customers.pk}/").status_code == 200
