"""The core of every import: rows in, validated, normalized, written to a list in one transaction,
with the change set of what it did.

Callers (services.imports) hold the transaction; this module only reads rows and writes records.
The list's key -> row_hash is loaded first, and each row sorted by its key: new, edited, or
unchanged. An unchanged row goes no further (not normalized, not written), so re-sending a file
writes nothing and a small churn writes only what changed; what is left of the loaded keys at the
end is what the file lacks (removed in replace mode). PostgreSQL gets new rows by COPY straight into
the list and edited rows by COPY into a staging table and one UPDATE; other databases by
bulk_create/update.
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

from mapping.conf import limit
from mapping.lists.columns import FIELDS
from mapping.lists.models import AccountList, AccountRecord
from mapping.lists.normalizing import NORM_COLUMNS, RAW_INPUTS, normalized_columns
from prm.common.errors import ValidationFailed

# json.dumps(extra, sort_keys=True, ensure_ascii=False), without building an encoder per row. The
# text is part of the row hash: changing it would make every stored record look edited.
_EXTRA_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
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
    rows_duplicate: int = 0
    added_ids: list[int] = field(default_factory=list)
    edited_ids: list[int] = field(default_factory=list)
    removed_ids: list[int] = field(default_factory=list)
    unchanged: int = 0
    problems: list[dict] = field(default_factory=list)
    problem_count: int = 0
    warnings: list[dict] = field(default_factory=list)
    report_path: str | None = None  # CSV of the skipped rows, a temporary file the caller keeps or drops


class ProblemLog:
    """Problems found on rows: the first few kept to show, every skipped row in the CSV report.
    Warnings (rows imported, but worth a look) are kept apart, the first few only."""

    def __init__(self, *, headers: list[str], report: bool):
        self.kept: list[dict] = []
        self.warnings: list[dict] = []
        self._keep_warnings = limit("IMPORT_MAX_WARNINGS_KEPT")
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

    def warn(self, row, column: str | None, message: str) -> None:
        if len(self.warnings) < self._keep_warnings:
            self.warnings.append({"row": row, "column": column, "message": message})

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
                    problem = (
                        column(name),
                        f"The {name.replace('_', ' ')} is longer than {max_length} characters.",
                    )
                    break
        if problem is not None:
            self.problems.add(row, problem[0], problem[1], cells)
            return None
        extra_json = _EXTRA_JSON(extra) if extra else "{}"
        digest = row_hash(values, extra_json)
        crm_id = values[self._crm_i]
        key = crm_id or "#" + digest
        first = self.seen.get(key)
        if first is not None:
            self.duplicates += 1
            if crm_id:
                self.problems.add(
                    row, column("crm_id"), f"The CRM id {crm_id!r} is already used on row {first}.", cells
                )
            else:  # the same row twice, without an id: one record
                self.problems.warn(row, None, f"Row {row} repeats row {first}: imported once.")
            return None
        self.seen[key] = row
        return [key, digest, *values, extra_json]


def file_rows(rows: Iterable[tuple[int, list[str]]], shape: RowShape, checker: RowChecker) -> Iterator[list]:
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
                    context.set_forkserver_preload(["mapping.lists.normalizing"])
                    self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
                except (OSError, ValueError, AssertionError):
                    self.pool = None
        self.depth = workers + 1

    def submit(self, batch: list[list], write: Callable[[list[tuple]], None]) -> None:
        if self.pool is None:
            write(normalize_batch(batch))
            return
        self.pending.append((batch, self.pool.submit(normalized_columns, _raw_columns(batch)), write))
        while len(self.pending) > self.depth:
            self._write_oldest()

    def _write_oldest(self) -> None:
        batch, future, write = self.pending.popleft()
        write(_assemble(batch, future.result()))

    def drain(self) -> None:
        while self.pending:
            self._write_oldest()

    def close(self) -> None:
        if self.pool is not None:
            for _batch, future, _write in self.pending:
                future.cancel()
            self.pending.clear()
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


# ----------------------------------------------------------------------------------- writers


def _stored_hashes(account_list: AccountList) -> dict[str, str]:
    """key -> row_hash of every record of the list (about 200 MB for a million records), read in
    chunks (a server-side cursor on PostgreSQL) so that the rows are not held twice."""
    rows = AccountRecord.objects.filter(account_list=account_list).values_list("key", "row_hash")
    return dict(rows.iterator(chunk_size=50_000))


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _remove(account_list: AccountList, keys: list[str]) -> list[int]:
    """Delete the list's records with these keys; their ids. The delete goes through the ORM, so
    that the models' on_delete rules apply (overlaps and review decisions of a removed record go
    with it): a raw DELETE would leave their deferred foreign keys to fail the commit."""
    ids: list[int] = []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for chunk in _chunks(keys, 50_000):
                cursor.execute(
                    f"SELECT id FROM {AccountRecord._meta.db_table} WHERE account_list_id = %s AND key = ANY(%s)",  # nosec B608  # names from the models and code; values are query parameters
                    [account_list.pk, chunk],
                )
                ids.extend(r[0] for r in cursor.fetchall())
        size = 5000
    else:
        records = AccountRecord.objects.filter(account_list=account_list)
        for chunk in _chunks(keys, 500):
            ids.extend(records.filter(key__in=chunk).values_list("id", flat=True))
        size = 500
    ids.sort()
    for chunk in _chunks(ids, size):
        AccountRecord.objects.filter(pk__in=chunk).only("id").delete()
    return ids


class _PostgresWriter:
    """New rows by COPY straight into the list; edited rows by COPY into a staging table, then one
    UPDATE; removed records through the ORM. The unique (list, key) constraint guards every insert."""

    STAGE = "mapping_import_stage"

    def __init__(self, account_list: AccountList, *, empty: bool):
        self.account_list = account_list
        self.list_id = account_list.pk
        self.now = timezone.now()
        self.table = AccountRecord._meta.db_table
        self.empty = empty  # the list had no records: every record it will have is new
        self.added_keys: list[str] = []
        self.staged = 0

    def _copy(self, table: str, columns, rows: list[tuple], head: tuple = ()) -> None:
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                write_row = copy.write_row
                for row in rows:
                    write_row(head + row if head else row)

    def add(self, rows: list[tuple]) -> None:
        columns = ("account_list_id", "private", "created_at", "updated_at", *STORE_COLUMNS)
        self._copy(self.table, columns, rows, head=(self.list_id, False, self.now, self.now))
        if not self.empty:
            self.added_keys.extend(row[0] for row in rows)

    def edit(self, rows: list[tuple]) -> None:
        if not self.staged:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.STAGE}")
                cursor.execute(
                    f"CREATE TEMP TABLE {self.STAGE} ON COMMIT DROP AS "  # nosec B608  # names from the models and code; values are query parameters
                    f"SELECT {', '.join(STORE_COLUMNS)} FROM {self.table} WITH NO DATA"
                )
        self._copy(self.STAGE, STORE_COLUMNS, rows)
        self.staged += len(rows)

    def finish(self, *, gone: list[str]) -> tuple[list[int], list[int], list[int]]:
        """(added, edited, removed) ids; `gone` are the keys to remove."""
        t, s = self.table, self.STAGE
        added: list[int] = []
        edited: list[int] = []
        removed = _remove(self.account_list, gone)
        with connection.cursor() as cursor:
            if self.staged:
                cursor.execute(f"CREATE UNIQUE INDEX ON {s} (key)")
                cursor.execute(f"ANALYZE {s}")
                assignments = ", ".join(f"{c} = s.{c}" for c in _UPDATED_COLUMNS)
                cursor.execute(
                    f"UPDATE {t} r SET {assignments}, updated_at = %s FROM {s} s "  # nosec B608  # names from the models and code; values are query parameters
                    f"WHERE r.account_list_id = %s AND r.key = s.key RETURNING r.id",
                    [self.now, self.list_id],
                )
                edited = [r[0] for r in cursor.fetchall()]
                cursor.execute(f"DROP TABLE {s}")
            if self.empty:
                cursor.execute(f"SELECT id FROM {t} WHERE account_list_id = %s", [self.list_id])  # nosec B608  # names from the models and code; values are query parameters
                added = [r[0] for r in cursor.fetchall()]
            for keys in _chunks(self.added_keys, 50_000):
                sql = f"SELECT id FROM {t} WHERE account_list_id = %s AND key = ANY(%s)"  # nosec B608  # names from the models and code; values are query parameters
                cursor.execute(sql, [self.list_id, keys])
                added.extend(r[0] for r in cursor.fetchall())
        return sorted(added), sorted(edited), removed


class _GenericWriter:
    """Any database: bulk_create / bulk_update, ids looked up by key."""

    def __init__(self, account_list: AccountList):
        self.account_list = account_list
        self.added: list[int] = []
        self.edited: list[int] = []

    def _ids(self, keys: list[str]) -> dict[str, int]:
        ids: dict[str, int] = {}
        records = AccountRecord.objects.filter(account_list=self.account_list)
        for chunk in _chunks(keys, 500):
            ids.update(records.filter(key__in=chunk).values_list("key", "id"))
        return ids

    @staticmethod
    def _values(row: tuple) -> dict:
        values = dict(zip(STORE_COLUMNS, row, strict=True))
        values["extra"] = json.loads(values["extra"])  # the JSON field encodes it again
        return values

    def add(self, rows: list[tuple]) -> None:
        records = [AccountRecord(account_list=self.account_list, **self._values(row)) for row in rows]
        self.added.extend(r.pk for r in AccountRecord.objects.bulk_create(records, batch_size=500))

    def edit(self, rows: list[tuple]) -> None:
        ids = self._ids([row[0] for row in rows])
        now = timezone.now()
        records = [
            AccountRecord(id=ids[row[0]], account_list=self.account_list, updated_at=now, **self._values(row))
            for row in rows
        ]
        AccountRecord.objects.bulk_update(records, [*_UPDATED_COLUMNS, "updated_at"], batch_size=500)
        self.edited.extend(r.pk for r in records)

    def finish(self, *, gone: list[str]) -> tuple[list[int], list[int], list[int]]:
        return sorted(self.added), sorted(self.edited), _remove(self.account_list, gone)


def _writer(account_list: AccountList, *, empty: bool):
    if connection.vendor == "postgresql":
        return _PostgresWriter(account_list, empty=empty)
    return _GenericWriter(account_list)


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
    stored = _stored_hashes(account_list)
    writer = _writer(account_list, empty=not stored)
    batch_rows = limit("IMPORT_BATCH_ROWS")
    problems = checker.problems
    new: list[list] = []
    edited: list[list] = []
    imported = unchanged = 0
    normalizer = _Normalizer(expected_bytes=expected_bytes)

    def failing() -> bool:
        return bool(problems.count) and not skip_invalid_rows

    def flush(batch: list[list], write) -> list[list]:
        if batch and not failing():  # once failing, read on to report every problem but write nothing
            normalizer.submit(batch, write)
        return []

    try:
        for prepared in prepared_rows:
            imported += 1
            # A key comes at most once (the checker refuses repeats): what is left in `stored` at
            # the end is what the file lacks.
            old_hash = stored.pop(prepared[0], None) if stored else None
            if old_hash is None:
                new.append(prepared)
                if len(new) >= batch_rows:
                    new = flush(new, writer.add)
            elif old_hash == prepared[1]:
                unchanged += 1
            else:
                edited.append(prepared)
                if len(edited) >= batch_rows:
                    edited = flush(edited, writer.edit)
            if progress is not None and imported % batch_rows == 0:
                progress()
        new = flush(new, writer.add)
        edited = flush(edited, writer.edit)
        if not failing():
            normalizer.drain()
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
            "Every row has a problem: nothing to import.",
            problems=problems.kept,
            problem_count=problems.count,
        )
    added, edited, removed = writer.finish(gone=list(stored) if mode == "replace" else [])
    return IngestResult(
        rows_total=total,
        rows_imported=imported,
        rows_skipped=problems.rows_with_problems,
        rows_duplicate=checker.duplicates,
        added_ids=added,
        edited_ids=edited,
        removed_ids=removed,
        unchanged=unchanged,
        problems=problems.kept,
        problem_count=problems.count,
        warnings=problems.warnings,
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
