"""Writing prepared records into a list, inside the import's transaction: on PostgreSQL new rows by COPY
straight into the list and edited rows by COPY into a staging table and one UPDATE; elsewhere by
bulk_create/update. Also the list's stored key -> row_hash, which sorts each incoming row."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.db import connection
from django.utils import timezone

from mapping.lists.columns import FIELDS
from mapping.lists.models import AccountList, AccountRecord
from mapping.lists.normalizing import NORM_COLUMNS

# The order of the values of one prepared row, and of the columns written.
STORE_COLUMNS = ("key", "row_hash", *FIELDS, "extra", *NORM_COLUMNS)


_UPDATED_COLUMNS = tuple(c for c in STORE_COLUMNS if c != "key")


def stored_hashes(account_list: AccountList) -> dict[str, str]:
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


def record_writer(account_list: AccountList, *, empty: bool):
    if connection.vendor == "postgresql":
        return _PostgresWriter(account_list, empty=empty)
    return _GenericWriter(account_list)
