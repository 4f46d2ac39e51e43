"""How every export is written (downloads and scheduled reports): one CSV writer."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from urllib.parse import quote

from django.utils import timezone
from django.utils.text import slugify

CSV_BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only when it starts with one


def csv_safe(value: str) -> str:
    """A name typed by someone (user, station) must not become a spreadsheet formula when
    the CSV is opened."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_cell(value) -> str | int:
    """One cell as every export writes it: times in TIME_ZONE to the second, days as
    YYYY-MM-DD, text never a formula, a list joined with "; "."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return csv_safe(value)
    if isinstance(value, (list, tuple)):
        return "; ".join(str(csv_cell(v)) for v in value)
    return value


class _Echo:
    def write(self, value):
        return value


def csv_lines(rows: Iterable[Iterable]) -> Iterator[str]:
    """The one CSV writer of every export (downloads and scheduled reports): UTF-8 with a
    BOM, cells by ``csv_cell``; lazy, so a download streams."""
    writer = csv.writer(_Echo())
    yield CSV_BOM
    for row in rows:
        yield writer.writerow([csv_cell(v) for v in row])


def export_filename(organization, *parts) -> str:
    """``<organization>-<what>-<date>.csv``: the organization's name, slugified (it may stay
    non-ASCII: the header carries it as RFC 6266 ``filename*``)."""
    name = slugify(organization.name, allow_unicode=True) or f"organization-{organization.pk}"
    return "-".join([name, *map(str, parts)]) + ".csv"


def content_disposition(filename: str) -> str:
    """An attachment header with an ASCII ``filename`` for every client and, when the name
    is not ASCII, the UTF-8 ``filename*`` (RFC 6266) that browsers prefer."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_name))
    ascii_name = ascii_name.strip("-.") or "export.csv"
    if ascii_name == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
