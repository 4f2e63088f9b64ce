"""Reading CSV and XLSX exports as a stream of rows.

`open_table(path, filename=...)` checks the file (size cap, format, encoding, delimiter, header)
and returns a reader whose `rows()` yields `(row_number, cells)` one at a time, so a file of any
size is never held whole in memory. Row numbers are those a spreadsheet shows: the header is row 1.
Anything wrong with the file as a whole raises `FileRejected` with a message naming the row.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from mapping.conf import limit
from prm.common.errors import ValidationFailed

DELIMITERS = (",", ";", "\t", "|")
_CHUNK = 1024 * 1024
_SAMPLE = 64 * 1024
# Bytes Windows-1252 leaves undefined: a file holding them is Latin-1.
_CP1252_HOLES = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
# Control characters text does not hold (tab, LF and CR aside); in Latin-1 the bytes Windows-1252
# leaves undefined decode to some of them.
_BINARY_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The first bytes of files people rename to .csv by mistake (a zip is tried as an XLSX).
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"OggS", "an audio or video file"),
    (b"fLaC", "an audio file"),
    (b"ID3\x03", "an audio file"),
    (b"ID3\x04", "an audio file"),
)
NOT_TEXT = (
    "This file is not a text CSV ({what}). Export the list from your CRM or spreadsheet as CSV "
    "(comma, semicolon or tab separated text) or as XLSX and upload that."
)


class FileRejected(ValidationFailed):
    """The file cannot be read at all (as opposed to problems on some of its rows)."""

    code = "invalid_file"

    def __init__(self, message: str, *, row: int | None = None, column: str | None = None):
        problem = {"row": row, "column": column, "message": message}
        super().__init__(message, extra={"problems": [problem]})
        self.row = row
        self.column = column


@dataclass
class FileInfo:
    format: str  # "csv" or "xlsx"
    size: int
    checksum: str  # SHA-256, hex
    encoding: str = ""
    delimiter: str = ""
    headers: list[str] = field(default_factory=list)


def _clean_headers(raw: list[str]) -> list[str]:
    """Blank headers get a name, repeated ones a suffix: every column can be told apart."""
    headers: list[str] = []
    seen: Counter[str] = Counter()
    for position, value in enumerate(raw, start=1):
        # Control characters (a NUL is refused by PostgreSQL's jsonb) become spaces.
        text = _BINARY_CHARS.sub(" ", str(value or "").replace("\ufeff", ""))
        header = " ".join(text.split()) or f"Column {position}"
        seen[header] += 1
        if seen[header] > 1:
            header = f"{header} ({seen[header]})"
        headers.append(header)
    return headers


def _trim_trailing_blanks(cells: list[str]) -> list[str]:
    end = len(cells)
    while end and not cells[end - 1]:
        end -= 1
    return cells[:end] if end != len(cells) else cells


# ----------------------------------------------------------------------------------------- detect


def _scan(path: str) -> tuple[str, bool, bool]:
    """One pass over the file: its checksum, whether it is valid UTF-8, whether it has bytes
    Windows-1252 does not define."""
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    has_holes = False
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            if is_utf8:
                try:
                    utf8.decode(chunk, final=False)
                except UnicodeDecodeError:
                    is_utf8 = False
            if not has_holes and any(hole in chunk for hole in _CP1252_HOLES):
                has_holes = True
    if is_utf8:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    return digest.hexdigest(), is_utf8, has_holes


def detect_encoding(head: bytes, *, is_utf8: bool, has_holes: bool) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    # UTF-16 without a byte-order mark: every other byte of ASCII text is NUL.
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(b"\x00") >= len(sample) // 3:
        evens, odds = sample[0::2].count(b"\x00"), sample[1::2].count(b"\x00")
        if odds > evens * 4:
            return "utf-16-le"
        if evens > odds * 4:
            return "utf-16-be"
    if is_utf8:
        return "utf-8"
    return "latin-1" if has_holes else "cp1252"


def detect_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same, largest number of cells."""
    lines = text.splitlines(keepends=True)
    if len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut in the middle
    sample = "".join(lines[:50])
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [row for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter) if row]
        except csv.Error:
            continue
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        consistent = sum(1 for row in rows if len(row) == width)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _binary_kind(head: bytes) -> str | None:
    """What a file is when its first bytes are those of a known binary format."""
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            return what
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return "an image, audio or video file"
    if head[4:8] == b"ftyp":
        return "an image or video file"
    return None


def looks_binary(text: str) -> bool:
    """Text decoded from the start of a file holds control characters no text file has: a few
    stray ones are row problems, more than one in 200 characters is not text."""
    controls = len(_BINARY_CHARS.findall(text))
    return controls >= max(4, len(text) // 200)


def inspect_file(path: str, *, filename: str = "") -> FileInfo:
    """Refuse what cannot be imported; describe what can (format, encoding, delimiter, headers)."""
    size = os.path.getsize(path)
    if size > limit("IMPORT_MAX_BYTES"):
        raise FileRejected(
            f"The file is {size / 1e6:.1f} MB; the largest file accepted is {limit('IMPORT_MAX_BYTES') / 1e6:.0f} MB."
        )
    if size == 0:
        raise FileRejected("The file is empty.")
    with open(path, "rb") as fh:
        head = fh.read(_SAMPLE)
    lower = filename.lower()
    if head.startswith(b"PK\x03\x04") or lower.endswith((".xlsx", ".xlsm")):
        return _inspect_xlsx(path, size=size)
    if head.startswith(b"\xd0\xcf\x11\xe0") or lower.endswith(".xls"):
        raise FileRejected("Old Excel files (.xls) are not supported: save the sheet as .xlsx or .csv.")
    if what := _binary_kind(head):
        raise FileRejected(NOT_TEXT.format(what=f"it is {what}"))
    checksum, is_utf8, has_holes = _scan(path)
    info = FileInfo(format="csv", size=size, checksum=checksum)
    info.encoding = detect_encoding(head, is_utf8=is_utf8, has_holes=has_holes)
    text = head.decode(info.encoding, errors="ignore")
    if not text.strip("\ufeff\r\n\t ,;|\x00"):
        raise FileRejected("The file is empty.")
    if looks_binary(text):
        raise FileRejected(NOT_TEXT.format(what="it holds binary data, such as NUL bytes"))
    info.delimiter = detect_delimiter(text)
    info.headers = CsvTable(path, info).headers
    return info


def _inspect_xlsx(path: str, *, size: int) -> FileInfo:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    info = FileInfo(format="xlsx", size=size, checksum=digest.hexdigest())
    check_xlsx_container(path)
    info.headers = XlsxTable(path, info).headers
    return info


def check_xlsx_container(path: str) -> None:
    """An XLSX is a zip of XML parts. Refuse what is not one, and zip bombs: parts that unpack to
    far more than the file (or than any sheet we would accept) is."""
    not_xlsx = "This file is not an Excel workbook (.xlsx). Save it as .xlsx or .csv and try again."
    if not zipfile.is_zipfile(path):
        raise FileRejected(not_xlsx)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRejected(not_xlsx) from None
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise FileRejected(not_xlsx)
    unpacked = sum(info.file_size for info in infos)
    too_much = unpacked > limit("IMPORT_MAX_UNPACKED_BYTES")
    ratio = limit("IMPORT_MAX_COMPRESSION_RATIO")
    too_packed = any(
        info.file_size > 1024 * 1024 and info.file_size > ratio * max(info.compress_size, 1) for info in infos
    )
    if too_much or too_packed:
        raise FileRejected(
            "This workbook unpacks to far more data than it holds (a zip bomb?); it was not opened."
        )


# ----------------------------------------------------------------------------------------- read


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read, for the progress bar."""

    def __init__(self, raw):
        self.raw = raw
        self.count = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = self.raw.readinto(buffer)
        self.count += n or 0
        return n


class CsvTable:
    def __init__(self, path: str, info: FileInfo):
        self.path = path
        self.info = info
        self._counter: _CountingReader | None = None
        self.headers = self._read_headers()

    def _reader(self, fh):
        max_field = limit("IMPORT_MAX_FIELD_CHARS")
        # The limit is per process; every import uses the same one.
        csv.field_size_limit(max_field)
        text = io.TextIOWrapper(fh, encoding=self.info.encoding, newline="", errors="strict")
        return csv.reader(text, delimiter=self.info.delimiter, strict=True)

    def _read_headers(self) -> list[str]:
        with open(self.path, "rb") as fh:
            reader = self._reader(fh)
            for row_number, cells in self._rows(reader):
                del row_number
                return _clean_headers(_trim_trailing_blanks(cells))
        raise FileRejected("The file is empty.")

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Data rows (after the header), blank lines skipped."""
        with open(self.path, "rb", buffering=0) as raw:
            self._counter = _CountingReader(raw)
            buffered = io.BufferedReader(self._counter, buffer_size=_CHUNK)
            reader = self._reader(buffered)
            first = True
            for row_number, cells in self._rows(reader):
                if first:
                    first = False
                    continue
                yield row_number, cells

    def _rows(self, reader) -> Iterator[tuple[int, list[str]]]:
        row_number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise self._explain(exc, row_number + 1) from None
            except UnicodeDecodeError:
                raise FileRejected(
                    f"Row {row_number + 1}: the text is not valid {self.info.encoding}.", row=row_number + 1
                ) from None
            row_number += 1
            if not any(cell.strip() for cell in cells):
                if row_number == 1:
                    row_number = 0  # blank lines before the header do not count
                continue
            yield row_number, cells

    def _explain(self, exc: csv.Error, row: int) -> FileRejected:
        text = str(exc)
        if "field larger than field limit" in text:
            return FileRejected(
                f"Row {row}: a cell is longer than {limit('IMPORT_MAX_FIELD_CHARS'):,} characters. "
                'This is usually a quote (") that is never closed.',
                row=row,
            )
        if "unexpected end of data" in text:
            return FileRejected(
                f'Row {row}: a quoted cell is never closed (a " without its closing ").', row=row
            )
        if "expected after" in text:
            return FileRejected(
                f"Row {row}: a quoted cell has text after its closing quote; double the quotes inside a "
                'quoted cell ("").',
                row=row,
            )
        if "NUL" in text:
            return FileRejected(f"Row {row}: the file contains NUL bytes; is it really a CSV?", row=row)
        return FileRejected(f"Row {row}: the CSV is malformed ({text}).", row=row)

    def fraction_read(self) -> float:
        if not self._counter or not self.info.size:
            return 0.0
        return min(self._counter.count / self.info.size, 1.0)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class XlsxTable:
    """The first worksheet of a workbook, read in openpyxl's streaming (read-only) mode."""

    def __init__(self, path: str, info: FileInfo):
        self.path = path
        self.info = info
        self._done = 0
        self._total = 0
        self.headers = self._read_headers()

    def _open(self):
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
            sheet = workbook.worksheets[0]
        except Exception:  # openpyxl raises many kinds (KeyError, XML errors ...) for a broken file
            raise FileRejected(
                "This file could not be read as an Excel workbook (.xlsx). Save it again as .xlsx or .csv."
            ) from None
        return workbook, sheet

    def _iter(self, sheet) -> Iterator[tuple[int, list[str]]]:
        header_seen = False
        try:
            for row_number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_cell_text(v) for v in values]
                if not any(cell.strip() for cell in cells):
                    continue
                if not header_seen:
                    header_seen = True
                yield row_number, cells
        except FileRejected:
            raise
        except Exception:
            raise FileRejected("The workbook is damaged and could not be read to the end.") from None

    def _read_headers(self) -> list[str]:
        workbook, sheet = self._open()
        try:
            for _row_number, cells in self._iter(sheet):
                return _clean_headers(_trim_trailing_blanks(cells))
        finally:
            workbook.close()
        raise FileRejected("The workbook's first sheet is empty.")

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        workbook, sheet = self._open()
        try:
            self._total = sheet.max_row or 0
            first = True
            for row_number, cells in self._iter(sheet):
                self._done = row_number
                if first:
                    first = False
                    continue
                # Empty cells at the end of a row are not cells the header lacks.
                yield row_number, _trim_trailing_blanks(cells)
        finally:
            workbook.close()

    def fraction_read(self) -> float:
        return min(self._done / self._total, 1.0) if self._total else 0.0


def open_table(path: str, info: FileInfo) -> CsvTable | XlsxTable:
    return XlsxTable(path, info) if info.format == "xlsx" else CsvTable(path, info)
