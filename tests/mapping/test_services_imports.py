import csv
import io
import zipfile
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from mapping.lists import signals
from mapping.lists.parsing import FileRejected
from mapping.lists.services.imports import (
    account_records_push,
    import_job_confirm,
    import_job_create,
    import_job_run,
)
from mapping.lists.services.lists import account_list_create
from mapping.matching import receivers
from mapping.models import AccountRecord, ImportJob, ListChangeSet, MatchDecision, Overlap
from prm.common.errors import NotFound, PermissionDeniedError
from tests.factories import member
from tests.mapping.conftest import DATA, csv_text, data_file, run_import, upload

pytestmark = pytest.mark.django_db

HEADER = "Account ID,Account Name,Website,Billing Country"


@contextmanager
def list_changes_recorded(calls):
    """What the imports tell matching, recorded instead of scheduling runs."""

    def record(sender, *, list_id, changeset_id, **kwargs):
        calls.append((list_id, changeset_id))

    signals.list_changed.disconnect(dispatch_uid="mapping.matching.list_changed")
    signals.list_changed.connect(record, weak=False, dispatch_uid="tests.list_changes_recorded")
    try:
        yield
    finally:
        signals.list_changed.disconnect(dispatch_uid="tests.list_changes_recorded")
        signals.list_changed.connect(receivers.list_changed, dispatch_uid="mapping.matching.list_changed")


def snapshot(account_list):
    return sorted(
        AccountRecord.objects.filter(account_list=account_list).values_list("id", "key", "row_hash", "name")
    )


def records(account_list):
    return {r.crm_id or r.name: r for r in AccountRecord.objects.filter(account_list=account_list)}


# ------------------------------------------------------------------------------ formats and parsing


@pytest.mark.parametrize(
    "name,count,encoding,delimiter",
    [
        ("salesforce.csv", 3, "utf-8", ","),
        ("hubspot.csv", 2, "utf-8", ","),
        ("dynamics.csv", 2, "utf-8", ","),
        ("pipedrive.csv", 2, "utf-8", ","),
        ("plain.csv", 2, "utf-8", ","),
        ("excel_de_cp1252.csv", 3, "cp1252", ";"),
        ("utf16_tab.csv", 2, "utf-16", "\t"),
        ("utf8_bom.csv", 1, "utf-8-sig", ","),
        ("quoted_newlines.csv", 2, "utf-8", ","),
        ("mixed_line_endings.csv", 3, "utf-8", ","),
    ],
)
def test_crm_exports_import_with_detected_encoding_and_delimiter(
    world, customers, name, count, encoding, delimiter
):
    mapping = (
        {"name": "Firma", "domain": "Domain", "country": "Land", "city": "Ort"}
        if "excel_de" in name
        else None
    )
    job = run_import(world.owner, customers, data_file(name), mapping=mapping)
    assert job.status == ImportJob.Status.SUCCEEDED, job.problems
    assert (job.encoding, job.delimiter) == (encoding, delimiter)
    assert job.added == count == AccountRecord.objects.filter(account_list=customers).count()


def test_encodings_decode_to_the_right_text(world, customers):
    run_import(
        world.owner,
        customers,
        data_file("excel_de_cp1252.csv"),
        mapping={"name": "Firma", "domain": "Domain", "country": "Land", "city": "Ort"},
    )
    names = set(AccountRecord.objects.filter(account_list=customers).values_list("name", flat=True))
    assert names == {"Müller GmbH", "Société Générale", "Café „Zürich“ AG"}
    muller = AccountRecord.objects.get(account_list=customers, name="Müller GmbH")
    assert (muller.city, muller.country_norm, muller.domain_norm) == ("München", "DE", "mueller.de")

    utf16 = account_list_create(actor=world.owner, org=world.owner_org, name="U16")
    run_import(world.owner, utf16, data_file("utf16_tab.csv"))
    assert set(AccountRecord.objects.filter(account_list=utf16).values_list("name", flat=True)) == {
        "Åkerlund & Rausing",
        "Łódź Systems",
    }
    latin = account_list_create(actor=world.owner, org=world.owner_org, name="Latin")
    job = run_import(world.owner, latin, data_file("latin1.csv"))
    assert job.encoding in ("cp1252", "latin-1")
    assert AccountRecord.objects.get(account_list=latin).name == "Þórsson ehf"


def test_quoted_newlines_and_quotes_survive(world, customers):
    run_import(world.owner, customers, data_file("quoted_newlines.csv"))
    acme = AccountRecord.objects.get(account_list=customers, name="Acme, Inc.")
    assert acme.extra == {"notes": "first line\nsecond line"}
    assert AccountRecord.objects.filter(account_list=customers, name='Beta "The Best" Co').exists()


def test_salesforce_values_and_normalized_keys_are_stored(world, customers):
    run_import(world.owner, customers, data_file("salesforce.csv"))
    acme = records(customers)["0015g00000AbCdEAAV"]
    assert acme.name == "Acme Corporation"
    assert acme.website == "https://www.acme.com"
    assert (acme.city, acme.region, acme.postal_code, acme.industry) == (
        "San Francisco",
        "CA",
        "94105",
        "Technology",
    )
    assert (acme.owner_name, acme.stage) == ("Jane Smith", "Customer - Direct")
    assert acme.name_norm == "acme"
    assert (acme.domain_norm, acme.stem, acme.country_norm) == ("acme.com", "acme", "US")
    assert acme.extra == {"Billing Street": "1 Main St", "Shipping Country": "Canada"}
    initech = records(customers)["0015g00000AbCdGAAV"]
    assert (initech.domain_norm, initech.country_norm) == ("initech.co.uk", "GB")


def test_xlsx_import(world, customers):
    job = run_import(world.owner, customers, data_file("salesforce.xlsx"))
    assert job.status == ImportJob.Status.SUCCEEDED, job.problems
    assert job.file_format == "xlsx"
    acme = records(customers)["1001"]
    assert acme.name == "Acme Corporation" and acme.country_norm == "US"
    assert acme.extra == {"Annual Revenue": "1500000", "Created": "2024-01-02 00:00:00"}
    assert records(customers)["1002"].domain_norm == "globex.de"


# ------------------------------------------------------------------------------ atomicity, modes, change sets


def test_a_problem_on_the_last_row_leaves_nothing(world, customers, settings):
    settings.IMPORT_BATCH_ROWS = 100  # several batches are written before the bad row is read
    rows = [f"{i},Company {i},c{i}.com,US" for i in range(1, 1000)] + ["1000,,c1000.com,US"]
    job = run_import(world.owner, customers, upload("big.csv", csv_text(HEADER, rows)))
    assert job.status == ImportJob.Status.FAILED
    assert job.problems == [{"row": 1001, "column": "Account Name", "message": "The account name is empty."}]
    assert "row 1001" in job.error.lower() and "Account Name" in job.error
    assert AccountRecord.objects.filter(account_list=customers).count() == 0
    assert ListChangeSet.objects.count() == 0
    customers.refresh_from_db()
    assert customers.record_count == 0


def test_a_failed_reimport_leaves_the_previous_records(world, customers):
    run_import(
        world.owner, customers, upload("a.csv", csv_text(HEADER, ["1,Acme,acme.com,US", "2,Beta,beta.io,DE"]))
    )
    before = snapshot(customers)
    job = run_import(
        world.owner, customers, upload("b.csv", csv_text(HEADER, ["3,Gamma,g.com,US", "4,,d.com,US"]))
    )
    assert job.status == ImportJob.Status.FAILED
    assert snapshot(customers) == before


def test_reimporting_the_same_file_changes_nothing(world, customers):
    calls = []
    file = data_file("salesforce.csv")
    first = run_import(world.owner, customers, file)
    before = snapshot(customers)
    with list_changes_recorded(calls):
        again = run_import(world.owner, customers, data_file("salesforce.csv"))
    assert again.status == ImportJob.Status.SUCCEEDED
    assert again.checksum == first.checksum
    assert (again.added, again.edited, again.removed, again.unchanged) == (0, 0, 0, 3)
    assert again.changeset.is_empty
    assert snapshot(customers) == before
    assert calls == []  # nothing changed: matching is not told


def test_reimport_of_a_file_without_ids_changes_nothing(world, customers):
    run_import(world.owner, customers, data_file("plain.csv"))
    before = snapshot(customers)
    job = run_import(world.owner, customers, data_file("plain.csv"))
    assert (job.added, job.edited, job.removed, job.unchanged) == (0, 0, 0, 2)
    assert snapshot(customers) == before


def test_replace_removes_what_the_file_lacks_and_records_the_change_set(world, customers):
    run_import(
        world.owner,
        customers,
        upload(
            "a.csv",
            csv_text(
                HEADER,
                [
                    "1,Acme,acme.com,US",
                    "2,Beta,beta.io,DE",
                    "3,Gamma,gamma.net,FR",
                ],
            ),
        ),
    )
    ids = {r.crm_id: r.pk for r in AccountRecord.objects.filter(account_list=customers)}
    calls = []
    with list_changes_recorded(calls):
        job = run_import(
            world.owner,
            customers,
            upload(
                "b.csv",
                csv_text(
                    HEADER,
                    [
                        "1,Acme,acme.com,US",
                        "2,Beta Renamed,beta.io,DE",
                        "4,Delta,delta.org,GB",
                    ],
                ),
            ),
        )
    assert (job.added, job.edited, job.removed, job.unchanged) == (1, 1, 1, 1)
    changes = job.changeset
    new_id = AccountRecord.objects.get(account_list=customers, crm_id="4").pk
    assert (changes.added_ids, changes.edited_ids, changes.removed_ids) == ([new_id], [ids["2"]], [ids["3"]])
    assert calls == [(customers.pk, changes.pk)]
    assert sorted(records(customers)) == ["1", "2", "4"]
    assert records(customers)["2"].name == "Beta Renamed"
    assert records(customers)["1"].pk == ids["1"]  # unchanged records keep their id
    customers.refresh_from_db()
    assert customers.record_count == 3 and customers.last_import_id == job.pk


def full_snapshot(account_list):
    """Every stored value of every record, updated_at included: what "nothing written" means."""
    return sorted(
        AccountRecord.objects.filter(account_list=account_list).values_list(
            "id", "key", "row_hash", "name", "extra", "name_norm", "domain_norm", "country_norm", "updated_at"
        )
    )


@contextmanager
def record_writes():
    """Counts rows of account records inserted, updated and deleted inside the block (COPY included on
    PostgreSQL, whose per-transaction statistics see every write)."""
    counts = {"written": 0}
    if connection.vendor == "postgresql":

        def written():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables "
                    "WHERE relname = %s",
                    [AccountRecord._meta.db_table],
                )
                return cursor.fetchone()[0]

        before = written()
        yield counts
        counts["written"] = written() - before
    else:
        table = AccountRecord._meta.db_table
        with CaptureQueriesContext(connection) as queries:
            yield counts
        counts["written"] = sum(
            1
            for q in queries.captured_queries
            if table in q["sql"] and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        )


def churn_rows(count: int) -> tuple[list[str], list[str]]:
    """A file of `count` rows (a tenth without a CRM id) and the same file after a churn: rows
    i % 10 == 1 edited (3 in the name, 4 in the domain, 5 in an unmapped column, 6 blanked), 2
    removed, 3 edited on a row without an id (a new key: one removed, one added), and new rows."""
    header = HEADER + ",Notes"

    def row(i, *, name=None, domain=None, notes="n", crm_id=None):
        crm_id = crm_id if crm_id is not None else "" if i % 10 == 3 else str(i)
        return f"{crm_id},{name or f'Company {i}'},{domain or f'c{i}.com'},US,{notes}"

    before = [row(i) for i in range(count)]
    after = []
    for i in range(count):
        bucket = i % 10
        if bucket == 1:
            edit = (i // 10) % 4
            after.append(
                row(i, name=f"Company {i} Renamed")
                if edit == 0
                else row(i, domain=f"c{i}.de")
                if edit == 1
                else row(i, notes="changed")
                if edit == 2
                else row(i, notes="")
            )
        elif bucket == 2:
            continue
        elif bucket == 3:
            after.append(row(i, name=f"Company {i} Moved"))
        else:
            after.append(row(i))
    after += [row(i, crm_id=str(i)) for i in range(count, count + count // 10)]
    return csv_text(header, before), csv_text(header, after)


@pytest.mark.parametrize("mode", ["replace", "merge"])
def test_churn_records_exactly_what_changed_and_leaves_the_rest_untouched(world, customers, settings, mode):
    settings.IMPORT_BATCH_ROWS = 37  # edits, additions and unchanged rows across many batches
    before, after = churn_rows(400)
    run_import(world.owner, customers, upload("a.csv", before))
    ids = {r.key: r.pk for r in AccountRecord.objects.filter(account_list=customers)}
    untouched = {r[0]: r for r in full_snapshot(customers)}
    no_id_keys = {r.key for r in AccountRecord.objects.filter(account_list=customers, crm_id="")}

    with record_writes() as churn_writes:
        job = run_import(world.owner, customers, upload("b.csv", after), mode=mode)
    assert job.status == ImportJob.Status.SUCCEEDED, job.problems
    assert churn_writes["written"] > 0  # the counter sees writes

    now = {r.key: r for r in AccountRecord.objects.filter(account_list=customers)}
    edited = sorted(ids[str(i)] for i in range(400) if i % 10 == 1)
    gone = sorted(ids[str(i)] for i in range(400) if i % 10 == 2)
    gone_no_id = sorted(ids[k] for k in no_id_keys)  # their hash is their key: an edit is a new key
    added_keys = {str(i) for i in range(400, 440)} | {k for k, r in now.items() if r.name.endswith(" Moved")}
    added = sorted(now[k].pk for k in added_keys)
    removed = sorted(gone + gone_no_id) if mode == "replace" else []
    changes = job.changeset
    assert (changes.added_ids, changes.edited_ids, changes.removed_ids) == (added, edited, removed)
    assert (job.added, job.edited, job.removed, job.unchanged) == (80, 40, len(removed), 280)
    assert job.rows_imported == job.rows_total == 400 - 40 + 40

    expected_count = 400 - 80 + 80 if mode == "replace" else 400 + 80
    assert len(now) == expected_count
    changed_ids = set(edited) | set(removed)
    for row in full_snapshot(customers):
        if row[0] in untouched and row[0] not in changed_ids:
            assert row == untouched[row[0]]  # unchanged records are not rewritten
    assert (now["41"].name, now["41"].name_norm) == ("Company 41 Renamed", "company 41 renamed")
    assert now["11"].domain_norm == "c11.de"
    assert now["21"].extra == {"Notes": "changed"}
    assert now["31"].extra == {}
    assert now["400"].domain_norm == "c400.com"

    # The same file again: an empty change set and not one record written.
    snapshot_after = full_snapshot(customers)
    with record_writes() as writes:
        again = run_import(world.owner, customers, upload("b.csv", after), mode=mode)
    assert (again.added, again.edited, again.removed, again.unchanged) == (0, 0, 0, 400)
    assert again.changeset.is_empty
    assert writes["written"] == 0
    assert full_snapshot(customers) == snapshot_after


def test_a_reimport_writes_no_record(world, customers):
    rows = [f"{i},Company {i},c{i}.com,US" for i in range(50)] + [f",No id {i},n{i}.com,DE" for i in range(5)]
    run_import(world.owner, customers, upload("a.csv", csv_text(HEADER, rows)))
    before = full_snapshot(customers)
    with record_writes() as writes:
        job = run_import(world.owner, customers, upload("a.csv", csv_text(HEADER, rows)))
    assert (job.added, job.edited, job.removed, job.unchanged, job.rows_imported) == (0, 0, 0, 55, 55)
    assert writes["written"] == 0
    assert full_snapshot(customers) == before


def test_a_failing_churn_leaves_the_list_as_it_was(world, customers, settings):
    settings.IMPORT_BATCH_ROWS = 10  # edited and new rows are written before the bad row is read
    before_rows, after_rows = churn_rows(100)
    run_import(world.owner, customers, upload("a.csv", before_rows))
    before = full_snapshot(customers)
    job = run_import(world.owner, customers, upload("b.csv", after_rows + ",,x.com,US,\n"))
    assert job.status == ImportJob.Status.FAILED
    assert full_snapshot(customers) == before
    assert ListChangeSet.objects.filter(account_list=customers).count() == 1


def test_replace_with_a_file_sharing_nothing_removes_every_record(world, customers):
    run_import(
        world.owner,
        customers,
        upload("a.csv", csv_text(HEADER, [f"{i},A {i},a{i}.com,US" for i in range(30)])),
    )
    old = sorted(AccountRecord.objects.filter(account_list=customers).values_list("id", flat=True))
    job = run_import(
        world.owner,
        customers,
        upload("b.csv", csv_text(HEADER, [f"x{i},B {i},b{i}.com,US" for i in range(20)])),
    )
    assert job.changeset.removed_ids == old
    new = sorted(AccountRecord.objects.filter(account_list=customers).values_list("id", flat=True))
    assert job.changeset.added_ids == new and len(new) == 20
    assert (job.edited, job.unchanged) == (0, 0)


def test_replace_removes_a_matched_record_with_its_overlaps_and_decisions(world, customers):
    run_import(
        world.owner, customers, upload("a.csv", csv_text(HEADER, ["1,Acme,acme.com,US", "2,Beta,beta.io,DE"]))
    )
    theirs = account_list_create(actor=world.partner, org=world.partner_org, name="Theirs")
    run_import(world.partner, theirs, upload("t.csv", csv_text(HEADER, ["9,Acme Inc,acme.com,US"])))
    acme = AccountRecord.objects.get(account_list=customers, crm_id="1")
    other = AccountRecord.objects.get(account_list=theirs)
    # (matching may have found the pair already)
    Overlap.objects.get_or_create(
        partnership=world.partnership,
        left_record=acme,
        right_record=other,
        defaults={"left_list": customers, "right_list": theirs, "score": 0.9},
    )
    MatchDecision.objects.get_or_create(
        partnership=world.partnership,
        left_record=acme,
        right_record=other,
        defaults={"decision": MatchDecision.Decision.CONFIRMED},
    )

    job = run_import(world.owner, customers, upload("b.csv", csv_text(HEADER, ["2,Beta,beta.io,DE"])))
    assert job.status == ImportJob.Status.SUCCEEDED, job.error
    assert job.changeset.removed_ids == [acme.pk]
    assert not Overlap.objects.filter(left_record_id=acme.pk).exists()  # the models' on_delete rules apply
    assert not MatchDecision.objects.filter(left_record_id=acme.pk).exists()
    connection.check_constraints()  # what the commit checks: no foreign key left dangling


def test_merge_upserts_by_crm_id_and_removes_nothing(world, customers):
    run_import(
        world.owner, customers, upload("a.csv", csv_text(HEADER, ["1,Acme,acme.com,US", "2,Beta,beta.io,DE"]))
    )
    job = run_import(
        world.owner,
        customers,
        upload(
            "b.csv",
            csv_text(
                HEADER,
                [
                    "2,Beta GmbH,beta.de,DE",
                    "3,Gamma,gamma.net,FR",
                ],
            ),
        ),
        mode="merge",
    )
    assert (job.added, job.edited, job.removed) == (1, 1, 0)
    assert sorted(records(customers)) == ["1", "2", "3"]
    beta = records(customers)["2"]
    assert (beta.name, beta.domain_norm) == ("Beta GmbH", "beta.de")


def test_private_flag_survives_reimport(world, customers):
    run_import(world.owner, customers, upload("a.csv", csv_text(HEADER, ["1,Acme,acme.com,US"])))
    AccountRecord.objects.filter(account_list=customers).update(private=True)
    run_import(world.owner, customers, upload("b.csv", csv_text(HEADER, ["1,Acme Inc,acme.com,US"])))
    assert records(customers)["1"].private is True


def test_the_portal_flow_confirms_the_mapping_and_remembers_it(world, customers):
    job = import_job_create(
        actor=world.owner,
        account_list=customers,
        file=data_file("no_name_column.csv"),
        filename="no_name_column.csv",
    )
    assert job.status == ImportJob.Status.AWAITING_MAPPING
    assert job.column_mapping == {"website": "Website", "country": "Billing Country"}
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_job_confirm(
            actor=world.owner, job=job, column_mapping={"name": "Website", "country": "Billing Country"}
        )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
    customers.refresh_from_db()
    assert customers.column_mapping == {"name": "Website", "country": "Billing Country"}
    again = import_job_create(
        actor=world.owner,
        account_list=customers,
        file=data_file("no_name_column.csv"),
        filename="no_name_column.csv",
    )
    assert again.column_mapping == {"name": "Website", "country": "Billing Country"}


def test_the_task_is_safe_to_run_twice(world, customers):
    job = run_import(world.owner, customers, data_file("plain.csv"))
    assert import_job_run(job_id=job.pk) is None  # already done: left alone
    assert AccountRecord.objects.filter(account_list=customers).count() == 2
    assert ListChangeSet.objects.filter(account_list=customers).count() == 1


def test_management_command(world, customers, capsys):
    call_command("import_accounts", str(customers.pk), str(DATA / "hubspot.csv"))
    assert "2 added" in capsys.readouterr().out
    assert AccountRecord.objects.filter(account_list=customers).count() == 2
    with pytest.raises(CommandError, match="empty"):
        call_command("import_accounts", str(customers.pk), str(DATA / "empty_names.csv"), "--mode", "merge")
    with pytest.raises(CommandError):
        call_command(
            "import_accounts", str(customers.pk), str(DATA / "plain.csv"), "--as", world.partner.email
        )


# ------------------------------------------------------------------------------ bad input


def assert_untouched(account_list, before):
    assert snapshot(account_list) == before
    assert ListChangeSet.objects.filter(account_list=account_list).count() == 1


@pytest.fixture
def filled(world, customers):
    run_import(
        world.owner,
        customers,
        upload("seed.csv", csv_text(HEADER, ["1,Acme,acme.com,US", "2,Beta,beta.io,DE"])),
    )
    return snapshot(customers)


@pytest.mark.parametrize(
    "name,message",
    [
        ("empty.csv", "The file is empty."),
        ("no_name_column.csv", "No column can serve as the account name"),
        ("not_an_xlsx.xlsx", "not an Excel workbook"),
    ],
)
def test_unreadable_files_are_refused_before_anything_is_stored(world, customers, filled, name, message):
    with pytest.raises(Exception) as caught:
        run_import(world.owner, customers, data_file(name))
    assert message in caught.value.message
    assert caught.value.status_code == 400
    assert ImportJob.objects.filter(account_list=customers).count() == 1
    assert_untouched(customers, filled)


@pytest.mark.parametrize(
    "name,problem",
    [
        ("header_only.csv", {"row": None, "column": None, "message": "The file has a header but no rows."}),
        (
            "unclosed_quote.csv",
            {
                "row": 3,
                "column": None,
                "message": 'Row 3: a quoted cell is never closed (a " without its closing ").',
            },
        ),
        (
            "nul_bytes.csv",
            {"row": 3, "column": "name", "message": "The cell contains a NUL byte; is the file really text?"},
        ),
        ("ragged_rows.csv", {"row": 3, "column": None, "message": "Row 3 has 2 cells but the header has 3."}),
        (
            "duplicate_crm_ids.csv",
            {"row": 4, "column": "Account ID", "message": "The CRM id '1' is already used on row 2."},
        ),
        ("empty_names.csv", {"row": 3, "column": "Account Name", "message": "The account name is empty."}),
    ],
)
def test_bad_rows_fail_the_import_with_row_and_column(world, customers, filled, name, problem):
    job = run_import(
        world.owner,
        customers,
        data_file(name),
        mapping={"name": "name"} if "Account" not in (DATA / name).read_text(errors="replace") else None,
    )
    assert job.status == ImportJob.Status.FAILED
    assert job.problems[0] == problem
    assert job.error.startswith("Nothing was imported.") or job.error == problem["message"]
    assert_untouched(customers, filled)


def test_all_problems_are_listed(world, customers, filled):
    job = run_import(world.owner, customers, data_file("ragged_rows.csv"))
    assert [p["row"] for p in job.problems] == [3, 4]
    assert job.problem_count == 2


def test_a_ten_megabyte_field_is_refused(world, customers, filled):
    content = "name,notes\nAcme," + '"' + "x" * (10 * 1024 * 1024) + '"\nBeta,ok\n'
    job = run_import(world.owner, customers, upload("huge-field.csv", content))
    assert job.status == ImportJob.Status.FAILED
    assert job.problems[0]["row"] == 2
    assert "longer than 100,000 characters" in job.error
    assert_untouched(customers, filled)


def test_a_file_over_the_size_cap_is_refused(world, customers, filled, settings):
    settings.IMPORT_MAX_BYTES = 1000
    content = csv_text("name,domain", [f"Company {i},c{i}.com" for i in range(100)])
    with pytest.raises(FileRejected, match="largest file accepted"):
        run_import(world.owner, customers, upload("big.csv", content))
    assert_untouched(customers, filled)


def test_a_zip_bomb_is_refused_unopened(world, customers, filled):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))
    with pytest.raises(FileRejected, match="zip bomb"):
        run_import(world.owner, customers, upload("bomb.xlsx", buffer.getvalue()))
    assert_untouched(customers, filled)


def test_a_zip_that_is_not_a_workbook_is_refused(world, customers, filled):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(FileRejected, match="not an Excel workbook"):
        run_import(world.owner, customers, upload("accounts.xlsx", buffer.getvalue()))
    assert_untouched(customers, filled)


def test_skip_invalid_rows_imports_the_rest_with_a_report(world, customers, filled):
    job = run_import(
        world.owner, customers, data_file("empty_names.csv"), mode="merge", skip_invalid_rows=True
    )
    assert job.status == ImportJob.Status.SUCCEEDED
    assert (job.rows_total, job.rows_imported, job.rows_skipped) == (3, 1, 2)
    assert [p["row"] for p in job.problems] == [3, 4]
    report = list(csv.reader(io.StringIO(job.skipped_report.read().decode("utf-8"))))
    assert report[0] == ["Row", "Column", "Problem", "Account ID", "Account Name", "Website"]
    assert report[1] == ["3", "Account Name", "The account name is empty.", "2", "", "beta.io"]
    assert len(report) == 3


# ------------------------------------------------------------------------------ API pushes


def test_push_upserts_by_crm_id(world, customers):
    job = account_records_push(
        actor=world.owner,
        account_list=customers,
        records=[
            {
                "crm_id": "A1",
                "name": "Acme",
                "website": "https://acme.com",
                "country": "USA",
                "extra": {"tier": "gold"},
            },
            {"crm_id": "B2", "name": "Beta", "domain": "beta.io"},
        ],
    )
    assert (job.added, job.edited, job.source) == (2, 0, "api")
    job = account_records_push(
        actor=world.owner,
        account_list=customers,
        records=[
            {"crm_id": "B2", "name": "Beta Inc", "domain": "beta.io"},
            {"crm_id": "C3", "name": "Gamma"},
        ],
    )
    assert (job.added, job.edited, job.removed) == (1, 1, 0)
    assert records(customers)["B2"].name == "Beta Inc"
    assert records(customers)["A1"].extra == {"tier": "gold"}
    assert records(customers)["A1"].country_norm == "US"


# ------------------------------------------------------------------------------ permissions


@pytest.mark.parametrize("role", [Role.SALES_REP, Role.VIEWER, Role.FINANCE])
def test_roles_without_manage_lists_cannot_import(world, customers, role):
    user = member(world.owner_org, role)
    with pytest.raises(PermissionDeniedError):
        run_import(user, customers, data_file("plain.csv"))
    with pytest.raises(PermissionDeniedError):
        account_records_push(actor=user, account_list=customers, records=[{"name": "Acme"}])
    assert AccountRecord.objects.filter(account_list=customers).count() == 0


@pytest.mark.parametrize("actor", ["partner", "outsider"])
def test_other_organizations_cannot_import(world, customers, actor):
    with pytest.raises(NotFound):
        run_import(getattr(world, actor), customers, data_file("plain.csv"))
    assert AccountRecord.objects.filter(account_list=customers).count() == 0


def test_admin_can_import(world, customers):
    admin = member(world.owner_org, Role.ADMIN)
    assert run_import(admin, customers, data_file("plain.csv")).status == ImportJob.Status.SUCCEEDED


def test_big_files_are_normalized_in_worker_processes_with_the_same_result(world, customers, settings):
    settings.IMPORT_BATCH_ROWS = 50
    rows = [f"{i},Company {i} GmbH,https://www.c{i}.co.uk/x,Deutschland" for i in range(300)]
    settings.IMPORT_PARALLEL_MIN_BYTES = 0  # the worker pool, as for a file of tens of megabytes
    job = run_import(world.owner, customers, upload("a.csv", csv_text(HEADER, rows)))
    assert job.status == ImportJob.Status.SUCCEEDED and job.added == 300
    parallel = sorted(
        AccountRecord.objects.filter(account_list=customers).values_list(
            "crm_id", "name_norm", "domain_norm", "stem", "country_norm"
        )
    )
    assert parallel[0] == ("0", "company 0", "c0.co.uk", "c0", "DE")
    settings.IMPORT_PARALLEL_MIN_BYTES = 10**12
    serial = account_list_create(actor=world.owner, org=world.owner_org, name="Serial")
    run_import(world.owner, serial, upload("a.csv", csv_text(HEADER, rows)))
    assert (
        sorted(
            AccountRecord.objects.filter(account_list=serial).values_list(
                "crm_id", "name_norm", "domain_norm", "stem", "country_norm"
            )
        )
        == parallel
    )
