"""The core of every import: rows in, validated, normalized, written to a list in one transaction,
with the change set of what it did.

Callers (services.imports) hold the transaction; this module only reads rows and writes records.
PostgreSQL gets rows by COPY (into the list directly when it is empty, else into a staging table
diffed against the list in three set-based statements); other databases by bulk_create/update.
"""

from __future__ import annotations

import csv
import hashlib
import json
import multiprocessing
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from mapping.columns import FIELDS
from mapping.conf import limit
from mapping.models import AccountList, AccountRecord
from mapping.normalizing import NORM_COLUMNS, RAW_INPUTS, normalized_columns
from prm.common.errors import ValidationFailed

MAX_LENGTHS = {name: AccountRecord._meta.get_field(name).max_length for name in FIELDS}
# The order of the values of one prepared row, and of the columns written.
STORE_COLUMNS = ("key", "row_hash", *FIELDS, "extra", *NORM_COLUMNS)
_UPDATED_COLUMNS = tuple(c for c in STORE_COLUMNS if c != "key")


class ImportRejected(ValidationFailed):
    """Rows have problems and skipping them was not asked for: nothing was written."""

    code = "import_rejected"

    def __init__(self, message: str, *, problems: list[dict], problem_count: int):
        super().__init__(message, extra={"problems": problems, "problem_count": problem_count})
        self.problems = problems
        self.problem_count = problem_count


@dataclass
class IngestResult:
    rows_total: int = 0
    rows_imported: int = 0
    rows_skipped: int = 0
    added_ids: list[int] = field(default_factory=list)
    edited_ids: list[int] = field(default_factory=list)
    removed_ids: list[int] = field(default_factory=list)
    unchanged: int = 0
    problems: list[dict] = field(default_factory=list)
    problem_count: int = 0
    report_path: str | None = None  # CSV of the skipped rows, a temporary file the caller keeps or drops


class ProblemLog:
    """Problems found on rows: the first few kept to show, every skipped row in the CSV report."""

    def __init__(self, *, headers: list[str], report: bool):
        self.kept: list[dict] = []
        self.count = 0
        self.rows_with_problems = 0
        self._keep = limit("IMPORT_MAX_PROBLEMS_KEPT")
        self._report = None
        self.report_path = None
        if report:
            handle, self.report_path = tempfile.mkstemp(prefix="prm-skipped-", suffix=".csv")
            self._report = open(handle, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
            self._writer = csv.writer(self._report)
            self._writer.writerow(["Row", "Column", "Problem", *headers])

    def add(self, row, column: str | None, message: str, cells: list[str] | None = None) -> None:
        self.count += 1
        self.rows_with_problems += 1
        if len(self.kept) < self._keep:
            self.kept.append({"row": row, "column": column, "message": message})
        if self._report is not None:
            self._writer.writerow([row, column or "", message, *(csv_safe(c) for c in (cells or []))])

    def close(self, *, keep_report: bool) -> str | None:
        if self._report is not None:
            self._report.close()
            if not keep_report or not self.rows_with_problems:
                os.unlink(self.report_path)
                self.report_path = None
        return self.report_path


def csv_safe(value) -> str:
    """A cell a spreadsheet will not run as a formula: = + - @ tab or CR at the start get a '."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


# ----------------------------------------------------------------------------------- row checks


@dataclass
class RowShape:
    """How the cells of a row map to fields: built once per file from the confirmed mapping."""

    headers: list[str]
    field_index: list[int | None]  # per FIELDS entry, the cell index or None
    extra_index: list[tuple[str, int]]  # unmapped columns kept in `extra`
    pad_short_rows: bool = False  # XLSX rows end at their last non-empty cell

    @classmethod
    def build(cls, headers: list[str], column_mapping: dict[str, str], *, pad_short_rows: bool = False):
        position = {header: i for i, header in enumerate(headers)}
        field_index = [position.get(column_mapping.get(name, "")) for name in FIELDS]
        mapped = {i for i in field_index if i is not None}
        extra_index = [(header, i) for i, header in enumerate(headers) if i not in mapped]
        return cls(headers, field_index, extra_index, pad_short_rows)

    def column(self, field_name: str) -> str:
        i = self.field_index[FIELDS.index(field_name)]
        return self.headers[i] if i is not None else field_name


def row_hash(values: list[str], extra_json: str) -> str:
    text = "\x1f".join(values)
    if extra_json != "{}":
        text += "\x1e" + extra_json
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class RowChecker:
    """Turns (row, values, extra) into a prepared row or problems; remembers keys for duplicates."""

    def __init__(self, problems: ProblemLog):
        self.problems = problems
        self.seen: dict[str, object] = {}
        self.duplicates = 0
        self._name_i = FIELDS.index("name")
        self._crm_i = FIELDS.index("crm_id")
        self._limits = [(i, name, MAX_LENGTHS[name]) for i, name in enumerate(FIELDS)]

    def check(self, row, values: list[str], extra: dict, column: Callable[[str], str], cells) -> list | None:
        problem = None
        if not values[self._name_i]:
            problem = (column("name"), "The account name is empty.")
        else:
            for i, name, max_length in self._limits:
                if len(values[i]) > max_length:
                    problem = (column(name), f"The {name.replace('_', ' ')} is longer than {max_length} characters.")
                    break
        if problem is not None:
            self.problems.add(row, problem[0], problem[1], cells)
            return None
        extra_json = json.dumps(extra, sort_keys=True, ensure_ascii=False) if extra else "{}"
        digest = row_hash(values, extra_json)
        crm_id = values[self._crm_i]
        key = crm_id or "#" + digest
        first = self.seen.get(key)
        if first is not None:
            if crm_id:
                self.problems.add(
                    row, column("crm_id"), f"The CRM id {crm_id!r} is already used on row {first}.", cells
                )
            else:
                self.duplicates += 1  # the same row twice, without an id: one record
            return None
        self.seen[key] = row
        return [key, digest, *values, extra_json]


def file_rows(
    rows: Iterable[tuple[int, list[str]]], shape: RowShape, checker: RowChecker
) -> Iterator[list]:
    """Prepared rows of a file (without normalized keys); problems go to checker.problems."""
    width = len(shape.headers)
    field_index = shape.field_index
    extra_index = shape.extra_index
    problems = checker.problems
    for row, cells in rows:
        if len(cells) != width:
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                cells = cells[:width]
            elif len(cells) < width and shape.pad_short_rows:
                cells = cells + [""] * (width - len(cells))
            else:
                problems.add(
                    row, None, f"Row {row} has {len(cells)} cells but the header has {width}.", cells
                )
                continue
        if "\x00" in "".join(cells):
            column = next(shape.headers[i] for i, c in enumerate(cells) if "\x00" in c)
            problems.add(row, column, "The cell contains a NUL byte; is the file really text?", cells)
            continue
        values = [cells[i].strip() if i is not None else "" for i in field_index]
        extra = {}
        for header, i in extra_index:
            value = cells[i].strip()
            if value:
                extra[header] = value
        prepared = checker.check(row, values, extra, shape.column, cells)
        if prepared is not None:
            yield prepared


# ----------------------------------------------------------------------------------- normalize

_F = {name: i + 2 for i, name in enumerate(FIELDS)}  # positions in a prepared row
_RAW_POSITIONS = tuple(_F[name] for name in RAW_INPUTS)


def _raw_columns(batch: list[list]) -> tuple[list[str], ...]:
    return tuple([row[i] for row in batch] for i in _RAW_POSITIONS)


def _assemble(batch: list[list], columns: list[list[str]]) -> list[tuple]:
    """Prepared rows + normalized columns -> rows in STORE_COLUMNS order."""
    return [(*row, *norms) for row, norms in zip(batch, zip(*columns, strict=True), strict=True)]


def normalize_batch(batch: list[list]) -> list[tuple]:
    return _assemble(batch, normalized_columns(_raw_columns(batch)))


class _Normalizer:
    """Normalizes batches in worker processes while this one reads and writes (the normalizers are
    the costliest step of a big import), or in this process for small files, inside a daemonic
    process (a prefork Celery worker) or when IMPORT_WORKERS is 0."""

    def __init__(self, *, expected_bytes: int):
        self.pool = None
        self.pending: deque = deque()
        workers = limit("IMPORT_WORKERS")
        if workers > 0 and expected_bytes >= limit("IMPORT_PARALLEL_MIN_BYTES"):
            if not multiprocessing.current_process().daemon:
                try:
                    # forkserver: workers start from a clean process, not a copy of this one with
                    # its database connection; preloading the normalizers (not __main__) makes
                    # their start cheap.
                    context = multiprocessing.get_context("forkserver")
                    context.set_forkserver_preload(["mapping.normalizing"])
                    self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
                except (OSError, ValueError, AssertionError):
                    self.pool = None
        self.depth = workers + 1

    def submit(self, batch: list[list], write) -> None:
        if self.pool is None:
            write(normalize_batch(batch))
            return
        self.pending.append((batch, self.pool.submit(normalized_columns, _raw_columns(batch))))
        while len(self.pending) > self.depth:
            self._write_oldest(write)

    def _write_oldest(self, write) -> None:
        batch, future = self.pending.popleft()
        write(_assemble(batch, future.result()))

    def drain(self, write) -> None:
        while self.pending:
            self._write_oldest(write)

    def close(self) -> None:
        if self.pool is not None:
            for _batch, future in self.pending:
                future.cancel()
            self.pending.clear()
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


# ----------------------------------------------------------------------------------- writers


class _PostgresWriter:
    """COPY: straight into the list when it is empty, else into a staging table diffed with SQL."""

    STAGE = "mapping_import_stage"

    def __init__(self, account_list: AccountList, mode: str):
        self.list_id = account_list.pk
        self.mode = mode
        self.now = timezone.now()
        self.table = AccountRecord._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {self.table} WHERE account_list_id = %s)", [self.list_id])
            self.direct = not cursor.fetchone()[0]
            if not self.direct:
                cursor.execute(f"DROP TABLE IF EXISTS {self.STAGE}")
                cursor.execute(
                    f"CREATE TEMP TABLE {self.STAGE} ON COMMIT DROP AS "
                    f"SELECT {', '.join(STORE_COLUMNS)} FROM {self.table} WITH NO DATA"
                )

    def write(self, rows: list[tuple]) -> None:
        if self.direct:
            columns = ("account_list_id", "private", "created_at", "updated_at", *STORE_COLUMNS)
            head = (self.list_id, False, self.now, self.now)
            table = self.table
        else:
            columns, head, table = STORE_COLUMNS, (), self.STAGE
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                write_row = copy.write_row
                for row in rows:
                    write_row(head + row if head else row)

    def finish(self) -> tuple[list[int], list[int], list[int], int]:
        t, s = self.table, self.STAGE
        with connection.cursor() as cursor:
            if self.direct:
                cursor.execute(f"SELECT id FROM {t} WHERE account_list_id = %s ORDER BY id", [self.list_id])
                return [r[0] for r in cursor.fetchall()], [], [], 0
            cursor.execute(f"CREATE INDEX ON {s} (key)")
            cursor.execute(f"ANALYZE {s}")
            removed: list[int] = []
            if self.mode == "replace":
                cursor.execute(
                    f"DELETE FROM {t} r WHERE r.account_list_id = %s "
                    f"AND NOT EXISTS (SELECT 1 FROM {s} s WHERE s.key = r.key) RETURNING r.id",
                    [self.list_id],
                )
                removed = sorted(r[0] for r in cursor.fetchall())
            assignments = ", ".join(f"{c} = s.{c}" for c in _UPDATED_COLUMNS)
            cursor.execute(
                f"UPDATE {t} r SET {assignments}, updated_at = %s FROM {s} s "
                f"WHERE r.account_list_id = %s AND r.key = s.key AND r.row_hash <> s.row_hash RETURNING r.id",
                [self.now, self.list_id],
            )
            edited = sorted(r[0] for r in cursor.fetchall())
            columns = ", ".join(STORE_COLUMNS)
            cursor.execute(
                f"INSERT INTO {t} (account_list_id, private, created_at, updated_at, {columns}) "
                f"SELECT %s, false, %s, %s, {', '.join('s.' + c for c in STORE_COLUMNS)} FROM {s} s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {t} r WHERE r.account_list_id = %s AND r.key = s.key) "
                f"ORDER BY s.key RETURNING id",
                [self.list_id, self.now, self.now, self.list_id],
            )
            added = sorted(r[0] for r in cursor.fetchall())
            cursor.execute(f"SELECT count(*) FROM {s}")
            staged = cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE {s}")
        return added, edited, removed, staged - len(added) - len(edited)


class _GenericWriter:
    """Any database: the list's keys in memory, bulk_create / bulk_update / delete."""

    def __init__(self, account_list: AccountList, mode: str):
        self.account_list = account_list
        self.mode = mode
        self.existing = {
            key: (pk, digest)
            for key, pk, digest in AccountRecord.objects.filter(account_list=account_list).values_list(
                "key", "id", "row_hash"
            )
        }
        self.seen: set[str] = set()
        self.added: list[int] = []
        self.edited: list[int] = []
        self.unchanged = 0

    def write(self, rows: list[tuple]) -> None:
        create, update = [], []
        for row in rows:
            values = dict(zip(STORE_COLUMNS, row, strict=True))
            values["extra"] = json.loads(values["extra"])  # the JSON field encodes it again
            self.seen.add(values["key"])
            old = self.existing.get(values["key"])
            if old is None:
                create.append(AccountRecord(account_list=self.account_list, **values))
            elif old[1] != values["row_hash"]:
                update.append(AccountRecord(id=old[0], account_list=self.account_list, **values))
            else:
                self.unchanged += 1
        if create:
            created = AccountRecord.objects.bulk_create(create, batch_size=500)
            self.added.extend(r.pk for r in created)
        if update:
            now = timezone.now()
            for record in update:
                record.updated_at = now
            AccountRecord.objects.bulk_update(update, [*_UPDATED_COLUMNS, "updated_at"], batch_size=500)
            self.edited.extend(r.pk for r in update)

    def finish(self) -> tuple[list[int], list[int], list[int], int]:
        removed: list[int] = []
        if self.mode == "replace":
            removed = sorted(pk for key, (pk, _digest) in self.existing.items() if key not in self.seen)
            for start in range(0, len(removed), 500):
                AccountRecord.objects.filter(pk__in=removed[start : start + 500]).delete()
        return sorted(self.added), sorted(self.edited), removed, self.unchanged


def _writer(account_list: AccountList, mode: str):
    if connection.vendor == "postgresql":
        return _PostgresWriter(account_list, mode)
    return _GenericWriter(account_list, mode)


# ----------------------------------------------------------------------------------- the pipeline


def ingest(
    *,
    account_list: AccountList,
    prepared_rows: Iterable[list],
    checker: RowChecker,
    mode: str,
    skip_invalid_rows: bool,
    rows_counted: Callable[[], int],
    progress: Callable[[], None] | None = None,
    expected_bytes: int = 0,
) -> IngestResult:
    """Write prepared rows to the list (inside the caller's transaction). Raises ImportRejected,
    having written rows that the caller's rollback removes, when a row has a problem and
    skip_invalid_rows is off."""
    writer = _writer(account_list, mode)
    batch_rows = limit("IMPORT_BATCH_ROWS")
    problems = checker.problems
    batch: list[list] = []
    imported = 0
    normalizer = _Normalizer(expected_bytes=expected_bytes)

    def flush():
        nonlocal batch, imported
        if problems.count and not skip_invalid_rows:
            batch = []  # the import is failing: read on to report every problem, write nothing more
            return
        if batch:
            normalizer.submit(batch, writer.write)
        imported += len(batch)
        batch = []
        if progress is not None:
            progress()

    try:
        for prepared in prepared_rows:
            batch.append(prepared)
            if len(batch) >= batch_rows:
                flush()
        flush()
        if not (problems.count and not skip_invalid_rows):
            normalizer.drain(writer.write)
    finally:
        normalizer.close()

    total = rows_counted()
    if problems.count and not skip_invalid_rows:
        report = problems.close(keep_report=False)
        del report
        raise ImportRejected(
            _rejected_message(problems.count, problems.kept),
            problems=problems.kept,
            problem_count=problems.count,
        )
    if imported == 0:
        problems.close(keep_report=False)
        if total == 0:
            raise ImportRejected(
                "The file has a header but no rows.",
                problems=[{"row": None, "column": None, "message": "The file has a header but no rows."}],
                problem_count=1,
            )
        raise ImportRejected(
            "Every row has a problem: nothing to import.", problems=problems.kept, problem_count=problems.count
        )
    added, edited, removed, unchanged = writer.finish()
    return IngestResult(
        rows_total=total,
        rows_imported=imported,
        rows_skipped=problems.rows_with_problems,
        added_ids=added,
        edited_ids=edited,
        removed_ids=removed,
        unchanged=unchanged,
        problems=problems.kept,
        problem_count=problems.count,
        report_path=problems.close(keep_report=True),
    )


def _rejected_message(count: int, kept: list[dict]) -> str:
    first = kept[0] if kept else {}
    where = []
    if first.get("row") is not None:
        where.append(f"row {first['row']}")
    if first.get("column"):
        where.append(f"column {first['column']!r}")
    lead = ", ".join(where)
    lead = f"{lead[:1].upper()}{lead[1:]}: " if lead else ""
    more = f" ({count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
    return f"Nothing was imported. {lead}{first.get('message', '')}{more}"
