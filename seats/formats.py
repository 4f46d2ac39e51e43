"""The CSV file an administrator uploads, read as spreadsheets write it.

Excel saves "CSV" with a comma or, in many European locales, a semicolon; "Unicode text" with
tabs in UTF-16; and in the Windows code page (cp1252) unless told "CSV UTF-8", which then starts
with a byte order mark. ``SniffedCSV`` is a django-import-export format that accepts all of these:
it says it is binary, so import-export hands it the uploaded bytes undecoded (as it does for
XLSX) and it picks the encoding itself, then the delimiter (``csv.Sniffer``, restricted to comma,
semicolon and tab). Whatever it cannot read becomes an ``ImportFileError`` whose messages name
the line and say what to do; the admin shows them on the form (``seats/admin/csv_import.py``).
"""

import codecs
import csv
import io

import tablib
from import_export.formats.base_formats import CSV

DELIMITERS = ",;\t"
EMPTY_FILE = "The file is empty: it needs a header row and a line per user (download the template)."
SAVE_AS_CSV = "In Excel choose File › Save As › “CSV UTF-8 (Comma delimited) (*.csv)”."

# What a file that is not text begins with, and what to call it.
NOT_TEXT_SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook (.xlsx), an OpenDocument spreadsheet (.ods) or a zip file",
    b"\xd0\xcf\x11\xe0": "an Excel 97–2003 workbook (.xls)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}


class ImportFileError(ValueError):
    """The uploaded file as a whole cannot be imported; ``messages`` say why, for the
    administrator (line, column, what to do)."""

    def __init__(self, *messages: str):
        super().__init__(" ".join(messages))
        self.messages = list(messages)


def decode(data: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte order mark), UTF-16 with one, else
    Windows-1252 (Western European, what Excel writes for "CSV")."""
    if data.startswith(codecs.BOM_UTF8):
        encodings = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ["utf-16"]
    else:
        for signature, kind in NOT_TEXT_SIGNATURES.items():
            if data.startswith(signature):
                raise ImportFileError(
                    f"This is not a CSV file: it looks like {kind}. {SAVE_AS_CSV}"
                )
        if b"\x00" in data:
            line = data.count(b"\n", 0, data.index(b"\x00")) + 1
            raise ImportFileError(
                f"Line {line}: this is not a text file (it contains a NUL byte). {SAVE_AS_CSV}"
            )
        encodings = ["utf-8", "cp1252"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            error = exc
    line = data.count(b"\n", 0, error.start) + 1
    raise ImportFileError(
        f"Line {line}: the byte 0x{data[error.start]:02X} is neither UTF-8 nor Windows-1252, "
        f"so the file's characters cannot be read. {SAVE_AS_CSV}"
    )


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: what ``csv.Sniffer`` finds in the first lines, unless the header
    row splits into more columns with another (column names never contain a delimiter, values
    may: a semicolon file whose every row holds one "Doe, John" is consistent with commas too)."""
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column, or nothing consistent
        sniffed = ","
    header = text.splitlines()[0]

    def width(delimiter):
        return len(next(csv.reader([header], delimiter=delimiter), []))

    widest = max(DELIMITERS, key=width)
    return sniffed if width(sniffed) >= width(widest) else widest


def read_rows(text: str, delimiter: str) -> tuple[list[str], list[list[str]]]:
    """The header row and the rows, each cell stripped; a row's index + 2 is its line when no
    value spans lines. Blank rows are kept (the resource skips them) so the numbers stay the
    spreadsheet's. Nameless columns with no value (Excel's trailing ";;") are dropped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, too_long, start = [], [], 1
    try:
        for row in reader:
            rows.append([cell.strip() for cell in row])
            if len(rows) > 1 and len(row) > len(rows[0]) and any(rows[-1][len(rows[0]) :]):
                too_long.append((start, len(row)))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(
            f"Line {start}: this line is not valid CSV ({exc}). A value in double "
            "quotes must end with a double quote, and a double quote inside it is written twice."
        ) from None
    header = rows[0]
    if not any(header):
        raise ImportFileError(
            "Line 1 is empty: the first line must be the header row (download the template)."
        )
    name = {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]
    if too_long:
        raise ImportFileError(
            *(
                f"Line {line}: {count} values, but the header row (line 1) names "
                f"{len(header)} column{'s' if len(header) != 1 else ''}. A value that contains "
                f"a {name} must be in double quotes."
                for line, count in too_long[:10]
            )
        )
    keep = [
        i
        for i, column in enumerate(header)
        if column or any(i < len(row) and row[i] for row in rows[1:])
    ]
    nameless = [i for i in keep if not header[i]]
    if nameless:
        first = next(
            n for n, row in enumerate(rows[1:], 2) if nameless[0] < len(row) and row[nameless[0]]
        )
        raise ImportFileError(
            f"Line 1 (the header row): column {nameless[0] + 1} has no name, but line {first} "
            "has a value in it. Name the column or delete it."
        )
    width = len(header)
    return [header[i] for i in keep], [
        [(row + [""] * (width - len(row)))[i] for i in keep] for row in rows[1:]
    ]


class SniffedCSV(CSV):
    """CSV in UTF-8 (with or without BOM), UTF-16 or Windows-1252, delimited by comma,
    semicolon or tab, into a ``tablib.Dataset`` with the first row as headers."""

    # The preview checks every row (about 15 ms each) within one request, under gunicorn's 30 s.
    MAX_ROWS = 1000
    MAX_BYTES = 2 * 1024 * 1024

    def get_title(self):
        return "CSV (comma, semicolon or tab; UTF-8 or Windows-1252)"

    def is_binary(self):
        return True  # import-export then hands over bytes: the encoding is detected here

    def get_read_mode(self):
        return "rb"

    def can_export(self):
        return False

    def create_dataset(self, in_stream, **kwargs):
        if in_stream is None:  # a cache storage that has dropped the file
            raise ImportFileError("The uploaded file is no longer on the server: upload it again.")
        if isinstance(in_stream, bytes):
            if len(in_stream) > self.MAX_BYTES:
                raise ImportFileError(
                    f"The file has {len(in_stream):,} bytes, more than the "
                    f"{self.MAX_BYTES:,} one import takes: split it into smaller files."
                )
            in_stream = decode(in_stream)
        if not in_stream.strip():
            raise ImportFileError(EMPTY_FILE)
        headers, rows = read_rows(in_stream, sniff_delimiter(in_stream))
        filled = [line for line, row in enumerate(rows, 2) if any(row)]
        if not filled:
            raise ImportFileError(
                "The file has only its header row (line 1): add a line per user below it."
            )
        if len(filled) > self.MAX_ROWS:
            raise ImportFileError(
                f"Line {filled[self.MAX_ROWS]}: the file has {len(filled):,} users, more than the "
                f"{self.MAX_ROWS:,} one import takes: split it into smaller files."
            )
        return tablib.Dataset(*rows, headers=headers)
