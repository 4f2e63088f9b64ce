"""Match two CSV/XLSX files with the engine, without a database.

    python manage.py match_files LEFT.csv RIGHT.csv --out PAIRS.csv

Columns are recognized like an import does (Salesforce, HubSpot, Dynamics, Pipedrive, plain
headers). PAIRS.csv has `left_id,right_id,score,reasons`; an id is the file's id column if it has
one ("id", "Account ID", "Record ID"...) and the 1-based data row number otherwise.
"""

import csv
import sys
import time

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from mapping.engine import match
from mapping.lists.columns import header_key, recognize_headers
from mapping.lists.parsing import inspect_file, open_table
from prm.common.errors import ApplicationError

# Engine input column <- record field from the header recognizer.
_ENGINE_FIELDS = {
    "name": "name",
    "website": "website",
    "domain": "domain",
    "country": "country",
    "region": "region",
    "city": "city",
    "postal_code": "postal_code",
    "crm_id": "crm_id",
}  # not the owner's e-mail: the list owner's rep, not the account (see mapping.lists.normalizing)
_ID_HEADERS = {"id", "record id", "account id", "company id", "organization id", "crm id", "accountid"}


def read_accounts(path: str) -> pd.DataFrame:
    """A file as an engine input frame, indexed by its id column or the 1-based data row number."""
    info = inspect_file(path, filename=path)
    table = open_table(path, info)
    headers = table.headers
    mapping = recognize_headers(headers)
    if "name" not in mapping:
        raise CommandError(
            f"{path}: no column can serve as the account name (headers: {', '.join(headers)})."
        )
    id_column = next((h for h in headers if header_key(h) in _ID_HEADERS), None) or mapping.get("crm_id")
    positions = {field: headers.index(header) for field, header in mapping.items() if field in _ENGINE_FIELDS}
    id_position = headers.index(id_column) if id_column else None
    ids, columns = [], {_ENGINE_FIELDS[f]: [] for f in positions}
    for number, (_row, cells) in enumerate(table.rows(), start=1):
        cells = cells + [""] * (len(headers) - len(cells))
        ids.append(cells[id_position].strip() if id_position is not None else str(number))
        for field, position in positions.items():
            columns[_ENGINE_FIELDS[field]].append(cells[position])
    frame = pd.DataFrame(columns, index=pd.Index(ids, name="id"))
    if not frame.index.is_unique:
        dupes = frame.index[frame.index.duplicated()].unique()[:5]
        raise CommandError(f"{path}: the id column {id_column!r} repeats ids ({', '.join(map(str, dupes))}).")
    return frame


class Command(BaseCommand):
    help = "Match two account files (CSV or XLSX) and write the matched pairs as CSV."

    def add_arguments(self, parser):
        parser.add_argument("left")
        parser.add_argument("right")
        parser.add_argument("--out", required=True, help="where to write the pairs (CSV); '-' for stdout")
        parser.add_argument("--include-review", action="store_true", help="also write pairs that need review")

    def handle(self, *args, left, right, out, include_review, **options):
        started = time.perf_counter()
        try:
            left_frame, right_frame = read_accounts(left), read_accounts(right)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        pairs = match(left_frame, right_frame)
        if not include_review:
            pairs = pairs[pairs["status"] == "match"]
        fh = sys.stdout if out == "-" else open(out, "w", newline="", encoding="utf-8")
        try:
            writer = csv.writer(fh)
            writer.writerow(["left_id", "right_id", "score", "reasons"])
            for row in pairs.itertuples(index=False):
                writer.writerow([row.left_id, row.right_id, f"{row.score:.4f}", row.reasons])
        finally:
            if fh is not sys.stdout:
                fh.close()
        self.stderr.write(
            f"{len(left_frame)} x {len(right_frame)} accounts, {len(pairs)} pairs "
            f"in {time.perf_counter() - started:.2f} s"
        )
