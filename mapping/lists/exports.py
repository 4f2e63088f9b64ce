"""CSV out: quoted the standard way, and safe to open in a spreadsheet."""

import csv

from django.http import StreamingHttpResponse

from mapping.lists.services.ingest import csv_safe


class _Echo:
    def write(self, value):
        return value


def csv_lines(rows):
    """Encode rows as CSV lines one at a time (for a StreamingHttpResponse)."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_MINIMAL)
    yield "\ufeff"  # so that spreadsheets read the file as UTF-8
    for row in rows:
        yield writer.writerow(row)


__all__ = ["csv_lines", "csv_safe"]


def csv_response(rows, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
