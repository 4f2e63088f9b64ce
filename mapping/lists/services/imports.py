"""Imports into account lists: uploaded files (portal, API, admin, management command) and JSON
pushes. Every import commits whole or not at all, records its change set, and tells matching
(`mapping.lists.signals.list_changed`) after the commit."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable

from django.core.files import File
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from accounts.roles import Capability
from accounts.services.common import require_capability
from mapping.conf import limit
from mapping.lists import signals
from mapping.lists.columns import FIELDS, recognize_headers
from mapping.lists.models import AccountList, AccountRecord, ImportJob, ListChangeSet
from mapping.lists.parsing import FileRejected, inspect_file, open_table
from mapping.lists.services.ingest import (
    ImportRejected,
    IngestResult,
    ProblemLog,
    RowChecker,
    RowShape,
    file_rows,
    ingest,
)
from prm.common.errors import ApplicationError, Conflict, ValidationFailed
from prm.common.text import header_text, unstorable

logger = logging.getLogger(__name__)

__all__ = [
    "FileRejected",
    "ImportRejected",
    "account_records_push",
    "import_job_confirm",
    "import_job_create",
    "import_job_run",
    "validate_column_mapping",
]


def _require_manage(actor, account_list: AccountList) -> None:
    require_capability(actor=actor, org=account_list.organization, capability=Capability.MANAGE_LISTS)


def _require_importable(account_list: AccountList) -> None:
    if account_list.is_segment:
        raise ValidationFailed(
            "A custom segment is defined by its filters; import into the list it filters instead."
        )


def validate_column_mapping(column_mapping, headers: list[str]) -> dict[str, str]:
    """{field: header}, each header of the file, used once; the account name is required."""
    if not isinstance(column_mapping, dict):
        raise ValidationFailed("The column mapping must be an object {field: column}.")
    cleaned: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    used: dict[str, str] = {}
    for field_name, header in column_mapping.items():
        if header in (None, ""):
            continue
        if field_name not in FIELDS:
            errors.setdefault("column_mapping", []).append(f"Unknown field {field_name!r}.")
            continue
        if header not in headers:
            errors.setdefault(field_name, []).append(f"The file has no column {header!r}.")
            continue
        if header in used:
            errors.setdefault(field_name, []).append(f"Column {header!r} is already used for {used[header]}.")
            continue
        used[header] = field_name
        cleaned[field_name] = header
    if "name" not in cleaned and "name" not in errors:
        errors["name"] = [
            "No column can serve as the account name; choose the column that holds it. "
            f"The file's columns: {', '.join(headers[:30])}."
        ]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, extra=errors)
    return {name: cleaned[name] for name in FIELDS if name in cleaned}


def _proposed_mapping(account_list: AccountList, headers: list[str]) -> dict[str, str]:
    """The list's remembered mapping when the file has its columns, else what the headers say."""
    remembered = account_list.column_mapping or {}
    if remembered and all(header in headers for header in remembered.values()):
        return dict(remembered)
    return recognize_headers(headers)


# ----------------------------------------------------------------------------------- file imports


@transaction.atomic
def import_job_create(
    *,
    actor,
    account_list: AccountList,
    file,
    filename: str = "",
    source: str = ImportJob.Source.PORTAL,
    mode: str = ImportJob.Mode.REPLACE,
    skip_invalid_rows: bool = False,
    column_mapping: dict | None = None,
    start: bool = False,
) -> ImportJob:
    """Store an uploaded file and describe it (format, encoding, delimiter, headers, proposed
    mapping). The job waits for the mapping to be confirmed, unless `start`: then the given (or
    recognized) mapping is used and the import is queued at once. Refuses unreadable files."""
    if actor is not None:
        _require_manage(actor, account_list)
    _require_importable(account_list)
    if mode not in ImportJob.Mode.values:
        raise ValidationFailed(
            f"Unknown mode {mode!r}: use replace or merge.", extra={"mode": ["Unknown mode."]}
        )
    filename = (
        header_text(os.path.basename(filename or getattr(file, "name", "") or ""))[:200] or "upload.csv"
    )
    size = getattr(file, "size", None)
    if size is not None and size > limit("IMPORT_MAX_BYTES"):
        raise FileRejected(
            f"The file is {size / 1e6:.1f} MB; the largest file accepted is {limit('IMPORT_MAX_BYTES') / 1e6:.0f} MB."
        )
    job = ImportJob(
        account_list=account_list,
        created_by=actor,
        source=source,
        mode=mode,
        skip_invalid_rows=skip_invalid_rows,
        original_filename=filename,
    )
    job.file.save(filename, file if isinstance(file, File) else File(file, name=filename), save=False)
    try:
        info = inspect_file(job.file.path, filename=filename)
    except ApplicationError:
        job.file.delete(save=False)
        raise
    job.file_format = info.format
    job.file_size = info.size
    job.checksum = info.checksum
    job.encoding = info.encoding
    job.delimiter = info.delimiter
    job.headers = info.headers
    if column_mapping:
        job.column_mapping = validate_column_mapping(column_mapping, info.headers)
    else:
        job.column_mapping = _proposed_mapping(account_list, info.headers)
    if start:
        try:
            job.column_mapping = validate_column_mapping(job.column_mapping, info.headers)
        except ValidationFailed:
            job.file.delete(save=False)
            raise
    job.save()
    if start:
        _queue(job, account_list)
    return job


@transaction.atomic
def import_job_confirm(
    *,
    actor,
    job: ImportJob,
    column_mapping: dict,
    mode: str = ImportJob.Mode.REPLACE,
    skip_invalid_rows: bool = False,
) -> ImportJob:
    """The user checked the column mapping: remember it for the list and queue the import."""
    _require_manage(actor, job.account_list)
    job = ImportJob.objects.select_for_update().select_related("account_list").get(pk=job.pk)
    if job.status != ImportJob.Status.AWAITING_MAPPING:
        raise Conflict("This import has already been started.")
    if mode not in ImportJob.Mode.values:
        raise ValidationFailed(
            f"Unknown mode {mode!r}: use replace or merge.", extra={"mode": ["Unknown mode."]}
        )
    job.column_mapping = validate_column_mapping(column_mapping, job.headers)
    job.mode = mode
    job.skip_invalid_rows = skip_invalid_rows
    job.save(update_fields=["column_mapping", "mode", "skip_invalid_rows", "updated_at"])
    _queue(job, job.account_list)
    return job


def _queue(job: ImportJob, account_list: AccountList) -> None:
    from mapping.lists.tasks import run_import_job

    account_list.column_mapping = job.column_mapping
    account_list.save(update_fields=["column_mapping", "updated_at"])
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED, updated_at=timezone.now())
    job.status = ImportJob.Status.QUEUED
    job_id = job.pk
    transaction.on_commit(lambda: run_import_job.delay(job_id))


class _ProgressReporter:
    """Writes a running job's progress from a second connection, so that pollers see it while the
    import's own transaction is still open. PostgreSQL only (SQLite would lock)."""

    def __init__(self, job_id: int, fraction):
        self.job_id = job_id
        self.fraction = fraction
        self.last = 0.0
        self.conn = None
        if connection.vendor == "postgresql":
            main = connections[DEFAULT_DB_ALIAS]
            self.conn = type(main)(dict(main.settings_dict), alias="mapping_progress")

    def __call__(self) -> None:
        if self.conn is None or time.monotonic() - self.last < 0.5:
            return
        self.last = time.monotonic()
        percent = int(self.fraction() * 95)
        try:
            with self.conn.cursor() as cursor:
                cursor.execute("SET lock_timeout = '1s'")
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET progress = %s WHERE id = %s AND status = %s",  # nosec B608  # names from the models and code; values are query parameters
                    [percent, self.job_id, ImportJob.Status.RUNNING],
                )
        except Exception:  # progress is a nicety: never fail an import over it
            logger.warning("could not report import progress", exc_info=True)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job (the Celery task calls this). Safe to call twice: the job is claimed by a
    conditional UPDATE and a job that is not queued is left alone."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now(), progress=0, updated_at=timezone.now()
    )
    if not claimed:
        return None
    job = ImportJob.objects.select_related("account_list", "account_list__organization").get(pk=job_id)
    table = None

    def rows():
        nonlocal table
        table = open_table(job.file.path, _file_info(job))
        yield from table.rows()

    reporter = _ProgressReporter(job.pk, lambda: table.fraction_read() if table else 0.0)
    try:
        _run(job, rows(), pad_short_rows=job.file_format == "xlsx", progress=reporter)
    finally:
        reporter.close()
    return job


def _file_info(job: ImportJob):
    from mapping.lists.parsing import FileInfo

    return FileInfo(
        format=job.file_format,
        size=job.file_size,
        checksum=job.checksum,
        encoding=job.encoding,
        delimiter=job.delimiter,
        headers=list(job.headers),
    )


def _run(
    job: ImportJob,
    rows: Iterable[tuple[int, list[str]]],
    *,
    pad_short_rows: bool,
    progress=None,
    prepared=None,
) -> ImportJob:
    """Import into the job's list in one transaction and record the outcome on the job. Problems
    leave the list as it was and the job failed, with the problems kept."""
    try:
        with transaction.atomic():
            account_list = AccountList.objects.select_for_update().get(pk=job.account_list_id)
            problems = ProblemLog(headers=list(job.headers), report=job.skip_invalid_rows)
            checker = RowChecker(problems)
            counted = 0

            def counting(source):
                nonlocal counted
                for item in source:
                    counted += 1
                    yield item

            if prepared is None:
                shape = RowShape.build(list(job.headers), job.column_mapping, pad_short_rows=pad_short_rows)
                prepared_rows = file_rows(counting(rows), shape, checker)
            else:
                prepared_rows = prepared(counting(rows), checker)
            result = ingest(
                account_list=account_list,
                prepared_rows=prepared_rows,
                checker=checker,
                mode=job.mode,
                skip_invalid_rows=job.skip_invalid_rows,
                rows_counted=lambda: counted,
                progress=progress,
                expected_bytes=job.file_size,
            )
            _commit(job, account_list, result)
    except ApplicationError as exc:
        _fail(job, exc)
    except Exception:
        logger.exception("import job %s failed", job.pk)
        _fail(job, ApplicationError("The import failed because of an internal error; nothing was imported."))
    return job


def _commit(job: ImportJob, account_list: AccountList, result: IngestResult) -> None:
    changeset = ListChangeSet.objects.create(
        account_list=account_list,
        added_ids=result.added_ids,
        edited_ids=result.edited_ids,
        removed_ids=result.removed_ids,
        added_count=len(result.added_ids),
        edited_count=len(result.edited_ids),
        removed_count=len(result.removed_ids),
    )
    now = timezone.now()
    account_list.record_count = AccountRecord.objects.filter(account_list=account_list).count()
    account_list.last_import = job
    if not changeset.is_empty:
        account_list.last_changed_at = now
    account_list.save(update_fields=["record_count", "last_import", "last_changed_at", "updated_at"])
    job.status = ImportJob.Status.SUCCEEDED
    job.progress = 100
    job.rows_total = result.rows_total
    job.rows_imported = result.rows_imported
    job.rows_skipped = result.rows_skipped
    job.rows_duplicate = result.rows_duplicate
    job.warnings = result.warnings
    job.added = changeset.added_count
    job.edited = changeset.edited_count
    job.removed = changeset.removed_count
    job.unchanged = result.unchanged
    job.problems = result.problems
    job.problem_count = result.problem_count
    job.changeset = changeset
    job.finished_at = now
    if result.report_path:
        with open(result.report_path, "rb") as fh:
            job.skipped_report.save(f"skipped-rows-{job.pk}.csv", File(fh), save=False)
        os.unlink(result.report_path)
    job.save()
    if not changeset.is_empty:
        list_id, changeset_id = account_list.pk, changeset.pk
        transaction.on_commit(
            lambda: signals.list_changed.send(sender=AccountList, list_id=list_id, changeset_id=changeset_id)
        )


def _fail(job: ImportJob, exc: ApplicationError) -> None:
    problems = list((exc.extra or {}).get("problems") or [])
    job.status = ImportJob.Status.FAILED
    job.error = exc.message
    job.problems = problems
    job.problem_count = (exc.extra or {}).get("problem_count", len(problems))
    job.finished_at = timezone.now()
    job.progress = 100
    job.changeset = None
    job.added = job.edited = job.removed = job.unchanged = job.rows_imported = 0
    if job.pk:
        ImportJob.objects.filter(pk=job.pk).update(
            status=job.status,
            error=job.error,
            problems=job.problems,
            problem_count=job.problem_count,
            finished_at=job.finished_at,
            progress=100,
            updated_at=job.finished_at,
        )


# ----------------------------------------------------------------------------------- API pushes


def _push_rows(records: list, checker: RowChecker):
    def column(name: str) -> str:
        return name

    for index, record in enumerate(records):
        if not isinstance(record, dict):
            checker.problems.add(index, None, f"records[{index}] is not an object.")
            continue
        values = []
        bad = None
        for name in FIELDS:
            value = record.get(name)
            if value is None:
                values.append("")
            elif isinstance(value, str | int | float) and not isinstance(value, bool):
                values.append(str(value).strip())
            else:
                bad = name
                values.append("")
        extra_in = record.get("extra") or {}
        if bad is not None or not isinstance(extra_in, dict):
            checker.problems.add(
                index, bad or "extra", f"records[{index}].{bad or 'extra'} has the wrong type."
            )
            continue
        extra = {str(k)[:200]: str(v).strip() for k, v in extra_in.items() if v not in (None, "")}
        # The API's parser refuses such text already; other callers (tests, commands) may not.
        bad_text = next(filter(None, map(unstorable, [*values, *extra, *extra.values()])), None)
        if bad_text is not None:
            what = "a NUL character" if "NUL" in bad_text else "an unpaired surrogate"
            checker.problems.add(index, None, f"records[{index}] contains {what}.")
            continue
        prepared = checker.check(index, values, extra, column, None)
        if prepared is not None:
            yield prepared


def account_records_push(
    *,
    actor,
    account_list: AccountList,
    records: list[dict],
    mode: str = ImportJob.Mode.MERGE,
    skip_invalid_rows: bool = False,
) -> ImportJob:
    """A batch of records pushed by an integrator: upserted by CRM id (merge) or standing for the
    whole list (replace). Synchronous and atomic; raises ImportRejected (nothing written) when a
    record has a problem and skipping was not asked for. The job keeps the outcome either way."""
    _require_manage(actor, account_list)
    _require_importable(account_list)
    if mode not in ImportJob.Mode.values:
        raise ValidationFailed(
            f"Unknown mode {mode!r}: use replace or merge.", extra={"mode": ["Unknown mode."]}
        )
    if not isinstance(records, list) or not records:
        raise ValidationFailed("Send at least one record.", extra={"records": ["At least one record."]})
    if len(records) > limit("IMPORT_MAX_PUSH_RECORDS"):
        raise ValidationFailed(
            f"At most {limit('IMPORT_MAX_PUSH_RECORDS'):,} records per push; send several batches.",
            extra={"records": ["Too many records."]},
        )
    job = ImportJob.objects.create(
        account_list=account_list,
        created_by=actor,
        source=ImportJob.Source.API,
        status=ImportJob.Status.RUNNING,
        mode=mode,
        skip_invalid_rows=skip_invalid_rows,
        file_format="json",
        headers=list(FIELDS),
        started_at=timezone.now(),
    )
    indexed = list(enumerate(records))
    _run(
        job,
        indexed,
        pad_short_rows=False,
        prepared=lambda rows, checker: _push_rows([record for _index, record in rows], checker),
    )
    if job.status == ImportJob.Status.FAILED:
        raise ImportRejected(job.error, problems=job.problems, problem_count=job.problem_count)
    return job
