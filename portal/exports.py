"""How every export is written (downloads and scheduled reports): one CSV writer."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from django.utils import timezone

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
