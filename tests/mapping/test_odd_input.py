"""Odd input to lists, records and imports gets a clear 4xx (or a form error) and changes nothing:
JSON nested past any use, NUL characters, binary files named .csv, a file without a name column,
lengths past the column, control characters in names, rows repeated within one file."""

import importlib
import inspect
import json
import struct
import zlib

import pytest
from django import forms
from django.test import Client, TestCase
from rest_framework import serializers

from mapping.conf import limit
from mapping.lists.services.imports import account_records_push
from mapping.lists.services.lists import account_list_create
from mapping.models import AccountList, AccountRecord, ImportJob
from prm.common.errors import ValidationFailed
from tests.mapping.conftest import data_file, run_import, upload

pytestmark = pytest.mark.django_db


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def portal(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def filled(world, customers):
    run_import(world.owner, customers, data_file("salesforce.csv"))
    return customers


def snapshot(account_list):
    return (
        list(
            AccountRecord.objects.filter(account_list=account_list)
            .order_by("id")
            .values_list("id", "row_hash")
        ),
        ImportJob.objects.filter(account_list=account_list).count(),
        AccountList.objects.filter(organization=account_list.organization).count(),
    )


# ------------------------------------------------------------------------- 8: deep JSON


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_json_push_is_a_400_and_changes_nothing(world, filled, depth):
    before = snapshot(filled)
    client = world.api(world.owner)
    url = f"/api/lists/{filled.pk}/records/push/"
    for body in (
        nested(depth),
        '{"records": [' + nested(depth, '{"name": "Deep"}') + "]}",
        '{"records": [{"name": "Deep", "extra": {"x": ' + nested(depth) + "}}]}",
    ):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400, response.content[:300]
        assert "nested too deeply" in response.json()["detail"]
    assert snapshot(filled) == before


def test_moderately_nested_json_is_refused_before_it_is_stored(world, filled):
    """Below Python's recursion limit, but still nothing our API takes: refused as too deep."""
    before = snapshot(filled)
    body = json.dumps({"records": [{"name": "Deep", "extra": {"x": json.loads(nested(200))}}]})
    response = world.api(world.owner).post(
        f"/api/lists/{filled.pk}/records/push/", body, content_type="application/json"
    )
    assert response.status_code == 400 and "nested too deeply" in response.json()["detail"]
    assert snapshot(filled) == before


def test_deep_json_everywhere_in_the_api(world, filled):
    """The parser is every view's: list create and update, sharing rules, lists filters."""
    before = snapshot(filled)
    client = world.api(world.owner)
    deep = nested(5_000)
    for method, url in (
        ("post", "/api/lists/"),
        ("patch", f"/api/lists/{filled.pk}/"),
        ("put", f"/api/partnerships/{world.partnership.pk}/sharing-rules/{filled.pk}/"),
        ("post", f"/api/partnerships/{world.partnership.pk}/match-decisions/"),
    ):
        response = getattr(client, method)(url, deep, content_type="application/json")
        assert response.status_code == 400, (url, response.status_code, response.content[:200])
        assert "nested too deeply" in response.json()["detail"]
    assert snapshot(filled) == before
    assert AccountList.objects.get(pk=filled.pk).name == "Customers"


def test_deep_json_in_a_form_field(world, filled):
    """JSON held in a form-encoded or multipart field goes through the same loader."""
    before = snapshot(filled)
    client = world.api(world.owner)
    response = client.post(
        "/api/lists/",
        {"name": "Seg", "kind": "custom", "base_list_id": filled.pk, "filters": nested(5_000)},
        format="multipart",
    )
    assert response.status_code == 400, response.content[:300]
    assert "nested too deeply" in json.dumps(response.json())
    response = client.post(
        f"/api/lists/{filled.pk}/imports/",
        {"file": data_file("plain.csv"), "column_mapping": nested(5_000, '{"name": "name"}')},
        format="multipart",
    )
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert "nested too deeply" in body["detail"] and "column_mapping" in body["errors"]
    assert snapshot(filled) == before


def test_broken_column_mapping_json_is_a_400(world, filled):
    response = world.api(world.owner).post(
        f"/api/lists/{filled.pk}/imports/",
        {"file": data_file("plain.csv"), "column_mapping": "{nope"},
        format="multipart",
    )
    assert response.status_code == 400 and "column_mapping" in response.json()["errors"]


# ------------------------------------------------------------------------- 9: NUL


@pytest.mark.parametrize("query", ["search=%00", "search=a%00b", "q=%00", "page=%00", "%00=1"])
def test_nul_in_api_query_strings_is_a_400(world, filled, query):
    client = world.api(world.owner)
    p = world.partnership.pk
    for url in (
        f"/api/lists/{filled.pk}/records/",
        f"/api/partnerships/{p}/overlaps/",
        "/api/lists/",
        "/api/ecosystem/",
    ):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, (url, response.status_code)
        assert "NUL" in response.json()["detail"]


@pytest.mark.parametrize("query", ["q=%00", "q=x%00", "page=%00"])
def test_nul_in_portal_query_strings_is_a_400(world, filled, query):
    client = portal(world.owner)
    for url in (f"/lists/{filled.pk}/", "/lists/", "/partnerships/"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, (url, response.status_code)
        assert "NUL" in response.content.decode()


def test_a_plain_search_still_works(world, filled):
    response = world.api(world.owner).get(f"/api/lists/{filled.pk}/records/?search=acme")
    assert response.status_code == 200 and response.json()["count"] >= 1
    assert portal(world.owner).get(f"/lists/{filled.pk}/?q=acme").status_code == 200


def test_nul_in_pushed_json_is_a_400_and_changes_nothing(world, filled):
    before = snapshot(filled)
    client = world.api(world.owner)
    url = f"/api/lists/{filled.pk}/records/push/"
    for record in (
        {"name": "Ev\u0000il"},
        {"name": "Evil", "extra": {"k\u0000": "v"}},
        {"name": "Evil", "extra": {"k": "v\u0000"}},
        {"name": "Evil", "crm_id": "\ud800"},
    ):
        response = client.post(url, json.dumps({"records": [record]}), content_type="application/json")
        assert response.status_code == 400, (record, response.content[:200])
    response = client.post(
        "/api/lists/",
        json.dumps(
            {"name": "Seg", "kind": "custom", "base_list_id": filled.pk, "filters": {"region": ["\u0000"]}}
        ),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert snapshot(filled) == before


def test_nul_in_a_pushed_record_is_a_row_problem_in_the_service(world, filled):
    """Callers of the service other than the API (its parser refuses NUL) get a problem, not a 500."""
    before = snapshot(filled)
    for record in ({"name": "Evil", "extra": {"k\x00": "v"}}, {"name": "Evil", "city": "\ud800"}):
        with TestCase.captureOnCommitCallbacks(execute=True), pytest.raises(ValidationFailed) as caught:
            account_records_push(actor=world.owner, account_list=filled, records=[record])
        assert "contains" in caught.value.message
    assert snapshot(filled)[0] == before[0]


def test_nul_in_portal_form_fields_is_a_form_error(world, filled):
    response = portal(world.owner).post("/lists/", {"name": "Pro\x00spects", "kind": "prospects"})
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()
    assert not AccountList.objects.filter(name__startswith="Pro").exists()


def test_nul_in_an_uploaded_header_or_cell_is_no_500(world, filled):
    before = snapshot(filled)
    other = account_list_create(actor=world.owner, org=world.owner_org, name="Other")
    job = run_import(
        world.owner, other, upload("n.csv", b"na\x00me,domain\nAcme,acme.com\n"), mapping={"name": "na me"}
    )
    assert job.status == ImportJob.Status.SUCCEEDED and job.headers == ["na me", "domain"]
    job = run_import(world.owner, filled, upload("n.csv", b"name,domain\nAc\x00me,acme.com\n"))
    assert job.status == ImportJob.Status.FAILED and "NUL" in job.error
    assert snapshot(filled)[0] == before[0]


# ------------------------------------------------------------------------- 10: lengths


INPUT_MODULES = [
    "accounts.apis",
    "accounts.forms",
    "mapping.lists.apis",
    "mapping.lists.forms",
    "mapping.matching.apis",
    "mapping.matching.forms",
    "mapping.sharing.apis",
    "mapping.sharing.forms",
]


def test_every_text_input_has_a_length_bound():
    """The class of "too long for the column" (a DataError): every text field of every input
    serializer and form in accounts and mapping says how long it may be."""
    unbounded = []
    for module_name in INPUT_MODULES:
        module = importlib.import_module(module_name)
        for name, cls in vars(module).items():
            if not inspect.isclass(cls) or cls.__module__ != module_name:
                continue
            # Out: responses; QueryIn: query parameters, compared and never stored.
            if issubclass(cls, serializers.Serializer) and not name.endswith(("Out", "Page", "QueryIn")):
                for field_name, field in cls().fields.items():
                    if (
                        isinstance(field, serializers.CharField)
                        and not field.read_only
                        and field.max_length is None
                    ):
                        unbounded.append(f"{module_name}.{name}.{field_name}")
            elif issubclass(cls, forms.BaseForm):
                for field_name, field in cls.base_fields.items():
                    if isinstance(field, forms.CharField) and field.max_length is None:
                        unbounded.append(f"{module_name}.{name}.{field_name}")
    # Read only for a sign-in lookup (nothing is stored), and a value PostgreSQL compares at any length.
    unbounded = [name for name in unbounded if name != "accounts.apis.TokenIn.email"]
    assert unbounded == []


def test_too_long_list_fields_are_400s(world, filled):
    before = snapshot(filled)
    client = world.api(world.owner)
    assert client.post("/api/lists/", {"name": "x" * 201}, format="json").status_code == 400
    assert (
        client.patch(f"/api/lists/{filled.pk}/", {"description": "x" * 2001}, format="json").status_code
        == 400
    )
    assert snapshot(filled) == before
    response = client.post(
        f"/api/lists/{filled.pk}/records/push/",
        {"records": [{"name": "Acme", "country": "x" * 500}]},
        format="json",
    )
    assert response.status_code == 400 and "longer than" in response.json()["detail"]
    assert snapshot(filled)[0] == before[0]  # the failed push is kept as a job; no record changed


# ------------------------------------------------------------------------- 11: control characters


@pytest.mark.parametrize("name", ["Evil\nBcc: x@evil.test", "Evil\rX", "Tab\tbed", "Line\u2028sep"])
def test_list_names_with_control_characters_are_refused(world, filled, name):
    before = snapshot(filled)
    client = world.api(world.owner)
    response = client.post("/api/lists/", {"name": name}, format="json")
    assert response.status_code == 400 and "control characters" in response.json()["detail"]
    response = client.patch(f"/api/lists/{filled.pk}/", {"name": name}, format="json")
    assert response.status_code == 400
    page = portal(world.owner).post("/lists/", {"name": name, "kind": "prospects"})
    assert page.status_code == 200 and "control characters" in page.content.decode()
    assert snapshot(filled) == before
    assert AccountList.objects.get(pk=filled.pk).name == "Customers"


# ------------------------------------------------------------------------- 12: not a text CSV


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([x * 7 % 256, 0, 0]) * 16 for x in range(16))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


BINARIES = {
    "image.csv": png_bytes(),
    "photo.csv": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + bytes(range(256)) * 4,
    "report.csv": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
    "random.csv": bytes((i * 2654435761 >> 7) % 256 for i in range(20_000)),
    "program.csv": b"\x7fELF\x02\x01\x01" + b"\x00" * 200,
}


@pytest.mark.parametrize("name", sorted(BINARIES))
def test_binary_files_are_refused_as_not_a_text_csv(world, filled, name):
    before = snapshot(filled)
    response = world.api(world.owner).post(
        f"/api/lists/{filled.pk}/imports/", {"file": upload(name, BINARIES[name])}, format="multipart"
    )
    assert response.status_code == 400, response.content[:300]
    assert "not a text CSV" in response.json()["detail"]
    page = portal(world.owner).post(f"/lists/{filled.pk}/upload/", {"file": upload(name, BINARIES[name])})
    assert page.status_code == 400 and "not a text CSV" in page.content.decode()
    assert snapshot(filled) == before


@pytest.mark.parametrize(
    "name",
    [
        "latin1.csv",
        "excel_de_cp1252.csv",
        "utf16_tab.csv",
        "utf8_bom.csv",
        "quoted_newlines.csv",
        "mixed_line_endings.csv",
        "hubspot.csv",
    ],
)
def test_real_text_files_in_any_encoding_still_import(world, customers, name):
    mapping = {"name": "Firma"} if name == "excel_de_cp1252.csv" else None
    job = run_import(world.owner, customers, data_file(name), mapping=mapping)
    assert job.status == ImportJob.Status.SUCCEEDED, job.error


def test_no_name_column_gets_a_server_side_message(world, filled):
    before = snapshot(filled)
    response = world.api(world.owner).post(
        f"/api/lists/{filled.pk}/imports/", {"file": data_file("no_name_column.csv")}, format="multipart"
    )
    assert response.status_code == 400 and "account name" in response.json()["detail"]
    client = portal(world.owner)
    response = client.post(f"/lists/{filled.pk}/upload/", {"file": data_file("no_name_column.csv")})
    assert response.status_code == 302
    job = ImportJob.objects.filter(account_list=filled).latest("id")
    page = client.get(response["Location"]).content.decode()
    assert 'id="no-name-column"' in page
    # The browser's hint (a required choice) bypassed: the server says it.
    confirm = client.post(response["Location"], {"mode": "replace"})
    assert confirm.status_code == 200
    assert "Choose the column that holds the account name" in confirm.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.AWAITING_MAPPING
    assert snapshot(filled)[0] == before[0]


# ------------------------------------------------------------------------- 13: duplicate rows


def test_identical_rows_are_reported_as_duplicates(world, customers):
    rows = "".join("Acme,acme.com,DE\n" for _ in range(3_000))
    job = run_import(
        world.owner, customers, upload("same.csv", "name,domain,country\n" + rows + "Beta,beta.io,FR\n")
    )
    assert job.status == ImportJob.Status.SUCCEEDED, job.error
    assert (job.rows_total, job.rows_imported, job.rows_duplicate) == (3_001, 2, 2_999)
    assert AccountRecord.objects.filter(account_list=customers).count() == 2
    assert len(job.warnings) == limit("IMPORT_MAX_WARNINGS_KEPT")  # bounded, the count has them all
    assert job.warnings[0] == {"row": 3, "column": None, "message": "Row 3 repeats row 2: imported once."}
    api = world.api(world.owner).get(f"/api/lists/{customers.pk}/imports/{job.pk}/").json()
    assert api["rows_duplicate"] == 2_999 and api["warnings"][0]["row"] == 3
    page = portal(world.owner).get(f"/lists/{customers.pk}/imports/{job.pk}/").content.decode()
    assert 'id="duplicate-rows"' in page and "2,999 duplicate rows" in page and 'id="warnings"' in page


def test_repeated_crm_ids_count_as_duplicates_and_are_skipped(world, customers):
    job = run_import(world.owner, customers, data_file("duplicate_crm_ids.csv"), skip_invalid_rows=True)
    assert job.status == ImportJob.Status.SUCCEEDED
    assert (job.rows_imported, job.rows_skipped, job.rows_duplicate) == (2, 1, 1)


def test_pushed_duplicates_are_reported(world, customers, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = account_records_push(
            actor=world.owner,
            account_list=customers,
            records=[{"name": "Acme"}, {"name": "Acme"}, {"name": "Beta"}],
        )
    assert (job.rows_imported, job.rows_duplicate) == (2, 1) and len(job.warnings) == 1


def test_unique_rows_report_no_duplicates(world, customers):
    job = run_import(world.owner, customers, data_file("salesforce.csv"))
    assert job.rows_duplicate == 0 and job.warnings == []


def test_account_list_create_refuses_control_characters_in_the_service(world):
    with pytest.raises(ValidationFailed):
        account_list_create(actor=world.owner, org=world.owner_org, name="A\nB")


def test_the_import_command_reports_duplicates(world, customers, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "same.csv"
    path.write_text("name,domain\n" + "Acme,acme.com\n" * 5)
    out = StringIO()
    call_command("import_accounts", str(customers.pk), str(path), stdout=out)
    assert "1 rows" in out.getvalue() and "4 repeating an earlier row" in out.getvalue()
