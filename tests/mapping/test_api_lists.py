import csv
import io
import json

import pytest

from accounts.models import Role
from mapping.lists.services.lists import account_list_create
from mapping.models import AccountList, AccountRecord, ImportJob
from tests.conftest import assert_no_leak
from tests.factories import member
from tests.mapping.conftest import data_file, run_import, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def filled(world, customers):
    run_import(world.owner, customers, data_file("salesforce.csv"))
    return customers


def object_urls(account_list):
    job = account_list.imports.first()
    base = f"/api/lists/{account_list.pk}"
    return [
        ("get", f"{base}/", None),
        ("patch", f"{base}/", {"name": "Stolen"}),
        ("delete", f"{base}/", None),
        ("get", f"{base}/records/", None),
        ("post", f"{base}/records/push/", {"records": [{"name": "Evil", "crm_id": "0015g00000AbCdEAAV"}]}),
        ("get", f"{base}/export.csv", None),
        ("get", f"{base}/imports/", None),
        ("get", f"{base}/imports/{job.pk}/", None),
        ("get", f"{base}/imports/{job.pk}/report.csv", None),
        ("get", f"{base}/changesets/", None),
        ("get", f"{base}/changesets/{job.changeset_id}/", None),
    ]


@pytest.mark.parametrize("actor", ["partner", "outsider"])
def test_other_organizations_get_404_and_no_data(world, filled, actor):
    client = world.api(getattr(world, actor))
    for method, url, body in object_urls(filled):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
        assert_no_leak(response, "Customers", "Acme", "0015g00000AbCdEAAV", "acme.com")
    upload_response = client.post(
        f"/api/lists/{filled.pk}/imports/", {"file": data_file("plain.csv")}, format="multipart"
    )
    assert upload_response.status_code == 404
    assert AccountList.objects.filter(pk=filled.pk, name="Customers").exists()
    assert AccountRecord.objects.filter(account_list=filled).count() == 3
    listing = client.get("/api/lists/")
    assert listing.json()["count"] == 0
    assert_no_leak(listing, "Customers")


def test_owner_reads_everything(world, filled):
    client = world.api(world.owner)
    for method, url, _body in object_urls(filled):
        if method == "get":
            assert client.get(url).status_code == 200, url
    detail = client.get(f"/api/lists/{filled.pk}/").json()
    assert (detail["name"], detail["record_count"], detail["kind"]) == ("Customers", 3, "customers")
    records = client.get(f"/api/lists/{filled.pk}/records/").json()
    assert records["count"] == 3
    assert records["results"][0]["domain_norm"] == "acme.com"


def test_viewer_reads_but_cannot_write(world, filled):
    viewer = member(world.owner_org, Role.VIEWER)
    client = world.api(viewer)
    assert client.get(f"/api/lists/{filled.pk}/records/").status_code == 200
    response = client.post(
        f"/api/lists/{filled.pk}/imports/", {"file": data_file("plain.csv")}, format="multipart"
    )
    assert response.status_code == 403
    response = client.post(
        f"/api/lists/{filled.pk}/records/push/", {"records": [{"name": "X"}]}, format="json"
    )
    assert response.status_code == 403
    assert client.post("/api/lists/", {"name": "Mine"}, format="json").status_code == 403
    assert AccountRecord.objects.filter(account_list=filled).count() == 3


def test_sales_rep_cannot_import(world, filled):
    rep = member(world.owner_org, Role.SALES_REP)
    response = world.api(rep).post(
        f"/api/lists/{filled.pk}/imports/", {"file": data_file("plain.csv")}, format="multipart"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_create_list_and_segment(world, filled):
    client = world.api(world.owner)
    response = client.post("/api/lists/", {"name": "Prospects", "kind": "prospects"}, format="json")
    assert response.status_code == 201, response.content
    response = client.post(
        "/api/lists/",
        {
            "name": "Customers in Germany",
            "kind": "custom",
            "base_list_id": filled.pk,
            "filters": {"country": ["Deutschland"]},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    segment = response.json()
    assert segment["filters"] == {"country": ["DE"]}
    records = client.get(f"/api/lists/{segment['id']}/records/").json()
    assert [r["name"] for r in records["results"]] == ["Globex GmbH"]
    assert client.get(f"/api/lists/{segment['id']}/").json()["record_count"] == 1
    duplicate = client.post("/api/lists/", {"name": "Prospects"}, format="json")
    assert duplicate.status_code == 409
    # a segment of another organization's list cannot be made
    other = account_list_create(actor=world.outsider, org=world.outsider_org, name="Theirs")
    response = client.post(
        "/api/lists/", {"name": "Sneaky", "kind": "custom", "base_list_id": other.pk}, format="json"
    )
    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)  # the upload's task runs when its transaction commits
def test_upload_via_api(world, customers):
    client = world.api(world.owner)
    response = client.post(
        f"/api/lists/{customers.pk}/imports/",
        {"file": data_file("hubspot.csv"), "mode": "merge"},
        format="multipart",
    )
    assert response.status_code in (201, 202), response.content
    job = response.json()
    assert job["status"] == "succeeded" and job["added"] == 2
    assert job["column_mapping"]["domain"] == "Company Domain Name"
    response = client.post(
        f"/api/lists/{customers.pk}/imports/",
        {"file": data_file("plain.csv"), "column_mapping": json.dumps({"name": "url", "country": "country"})},
        format="multipart",
    )
    assert response.status_code in (201, 202), response.content
    assert AccountRecord.objects.filter(account_list=customers, name="acme.com").exists()


@pytest.mark.django_db(transaction=True)  # the upload's task runs when its transaction commits
@pytest.mark.parametrize(
    "name,fragment",
    [
        ("empty.csv", "The file is empty."),
        ("no_name_column.csv", "No column can serve as the account name"),
        ("not_an_xlsx.xlsx", "not an Excel workbook"),
        ("header_only.csv", "header but no rows"),
        ("unclosed_quote.csv", "Row 3: a quoted cell is never closed"),
        ("nul_bytes.csv", "NUL byte"),
        ("ragged_rows.csv", "Row 3 has 2 cells but the header has 3"),
        ("duplicate_crm_ids.csv", "already used on row 2"),
        ("empty_names.csv", "The account name is empty"),
    ],
)
def test_bad_files_get_a_400_with_the_problem(world, filled, name, fragment):
    before = list(AccountRecord.objects.filter(account_list=filled).values_list("id", "row_hash"))
    response = world.api(world.owner).post(
        f"/api/lists/{filled.pk}/imports/", {"file": data_file(name)}, format="multipart"
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert fragment in body["detail"]
    assert body["errors"]  # problems with row and column, or the mapping field at fault
    assert list(AccountRecord.objects.filter(account_list=filled).values_list("id", "row_hash")) == before


def test_size_cap_via_api(world, customers, settings):
    settings.IMPORT_MAX_BYTES = 50
    response = world.api(world.owner).post(
        f"/api/lists/{customers.pk}/imports/", {"file": data_file("salesforce.csv")}, format="multipart"
    )
    assert response.status_code == 400
    assert "largest file accepted" in response.json()["detail"]


def test_push_upsert_via_api(world, customers):
    client = world.api(world.owner)
    url = f"/api/lists/{customers.pk}/records/push/"
    response = client.post(
        url, {"records": [{"crm_id": "1", "name": "Acme"}, {"crm_id": "2", "name": "Beta"}]}, format="json"
    )
    assert response.status_code == 200, response.content
    response = client.post(url, {"records": [{"crm_id": "2", "name": "Beta 2"}]}, format="json")
    assert (response.json()["added"], response.json()["edited"], response.json()["removed"]) == (0, 1, 0)
    assert AccountRecord.objects.filter(account_list=customers).count() == 2
    bad = client.post(
        url, {"records": [{"crm_id": "3", "name": "Gamma"}, {"crm_id": "4", "name": ""}]}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["errors"]["problems"] == [
        {"row": 1, "column": "name", "message": "The account name is empty."}
    ]
    assert not AccountRecord.objects.filter(account_list=customers, crm_id="3").exists()
    replace = client.post(
        url, {"mode": "replace", "records": [{"crm_id": "9", "name": "Only"}]}, format="json"
    )
    assert replace.json()["removed"] == 2
    assert list(AccountRecord.objects.filter(account_list=customers).values_list("crm_id", flat=True)) == [
        "9"
    ]


def test_export_neutralizes_formulas(world, customers):
    run_import(
        world.owner,
        customers,
        upload(
            "f.csv",
            (
                'name,domain,Notes\n=HYPERLINK("http://evil"),evil.com,+1-2\n"@SUM(A1)",at.com,"a, ""quoted"" note"\n'
            ),
        ),
    )
    response = world.api(world.owner).get(f"/api/lists/{customers.pk}/export.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Account name", "Website", "Domain"]
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'
    assert rows[2][0] == "'@SUM(A1)"
    assert json.loads(rows[1][-1]) == {"Notes": "+1-2"}
    assert json.loads(rows[2][-1]) == {"Notes": 'a, "quoted" note'}


@pytest.mark.django_db(transaction=True)  # the upload's task runs when its transaction commits
def test_skipped_rows_report_via_api(world, customers):
    response = world.api(world.owner).post(
        f"/api/lists/{customers.pk}/imports/",
        {"file": data_file("empty_names.csv"), "skip_invalid_rows": "true"},
        format="multipart",
    )
    assert response.status_code in (201, 202), response.content
    job = response.json()
    assert job["rows_skipped"] == 2
    report = world.api(world.owner).get(f"/api/lists/{customers.pk}/imports/{job['id']}/report.csv")
    text = b"".join(report.streaming_content).decode("utf-8")
    assert "The account name is empty." in text and "beta.io" in text


def test_list_endpoints_query_counts(world, filled, django_assert_max_num_queries):
    for i in range(5):
        account_list_create(actor=world.owner, org=world.owner_org, name=f"List {i}")
        run_import(world.owner, filled, upload(f"f{i}.csv", f"name\nCompany {i}\n"), mode="merge")
    client = world.api(world.owner)
    with django_assert_max_num_queries(6):
        assert client.get("/api/lists/").json()["count"] == 6
    with django_assert_max_num_queries(6):
        assert client.get(f"/api/lists/{filled.pk}/records/").json()["count"] == 8
    with django_assert_max_num_queries(6):
        assert client.get(f"/api/lists/{filled.pk}/imports/").json()["count"] == 6
    with django_assert_max_num_queries(6):
        assert client.get(f"/api/lists/{filled.pk}/changesets/").json()["count"] == 6


def test_changeset_detail_lists_the_ids(world, filled):
    job = ImportJob.objects.filter(account_list=filled).get()
    body = world.api(world.owner).get(f"/api/lists/{filled.pk}/changesets/{job.changeset_id}/").json()
    assert sorted(body["added_ids"]) == sorted(
        AccountRecord.objects.filter(account_list=filled).values_list("id", flat=True)
    )
    assert body["removed_ids"] == [] and body["edited_ids"] == []
