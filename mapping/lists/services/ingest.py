"""The core of every import: rows in, validated, normalized, written to a list in one transaction,
with the change set of what it did.

Callers (services.imports) hold the transaction; this module only reads rows and writes records.
The list's key -> row_hash is loaded first, and each row sorted by its key: new, edited, or
unchanged. An unchanged row goes no further (not normalized, not written), so re-sending a file
writes nothing and a small churn writes only what changed; what is left of the loaded keys at the
end is what the file lacks (removed in replace mode). record_store.py writes the rows (COPY on
PostgreSQL, bulk_create/update elsewhere).
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

from mapping.conf import limit
from mapping.lists.columns import FIELDS
from mapping.lists.models import AccountList, AccountRecord
from mapping.lists.normalizing import RAW_INPUTS, normalized_columns
from mapping.lists.services.record_store import record_writer, stored_hashes
from prm.common.errors import ValidationFailed

# json.dumps(extra, sort_keys=True, ensure_ascii=False), without building an encoder per row. The
# text is part of the row hash: changing it would make every stored record look edited.
_EXTRA_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
MAX_LENGTHS = {name: AccountRecord._meta.get_field(name).max_length for name in FIELDS}


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
    stored = stored_hashes(account_list)
    writer = record_writer(account_list, empty=not stored)
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
