"""What a license file says (its content, independent of the file format), and the rules that
content keeps, written once: ``issue_license`` checks them before it signs and every import after
the signature verifies (docs/license-file.md)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from organizations.models import Server

from .exceptions import LicenseFileError
from .models import ACCESS_TYPES, COUNTED_TYPES, FLAG_TYPES, LicenseFile, LicenseType, Method


@dataclass(frozen=True)
class EntitlementSpec:
    license_type: str
    method: str = ""
    quantity: int | None = None
    overage_percent: int = 0
    starts_on: date | None = None
    expires_on: date | None = None

    @property
    def label(self) -> str:
        label = self.license_type
        if self.method:
            label += f":{self.method}"
        return label


@dataclass(frozen=True)
class LicenseContent:
    serial: str
    customer: str
    server_id: str
    issued_on: date
    starts_on: date
    expires_on: date
    entitlements: tuple[EntitlementSpec, ...] = field(default_factory=tuple)


_SPEC_RE = re.compile(
    r"(?P<type>[a-z_]+)(?::(?P<method>[a-z]+))?(?:=(?P<qty>[0-9]+)(?:\+(?P<over>[0-9]+)%)?)?"
)


# The most a counted entitlement may grant: far above any contact center, and far below what the
# database's counters hold, so no count the product accepts can overflow them.
MAX_QUANTITY = 10_000_000
MAX_OVERAGE_PERCENT = 1000

# Limits of the file itself (docs/license-file.md). A real file is about 1 KB, three levels deep
# (body, entitlements, entitlement) with numbers of a few digits; far beyond that is an attack or
# an accident, refused before it reaches the database. Numbers up to 30 digits are still read, so
# that a refusal of 10**18 names its field; longer ones are refused while parsing.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 5
MAX_NUMBER_DIGITS = 30
# Serial, customer and server id: as long as the columns they are stored in.
IDENTIFIER_MAX_LENGTHS = {
    "serial": LicenseFile._meta.get_field("serial").max_length,
    "customer": LicenseFile._meta.get_field("customer").max_length,
    "server_id": Server._meta.get_field("server_id").max_length,
}


def parse_entitlement_spec(spec: str) -> EntitlementSpec:
    """``agent:concurrent=50+10%``, ``organization=5``, ``server``, ``marquee`` ...
    (issue_license --entitlement)."""
    m = _SPEC_RE.fullmatch(spec.strip())
    if not m:
        raise ValueError(
            f"entitlement {spec!r}: expected e.g. server, organization=5, agent:concurrent=50+10%"
        )
    ltype, method, qty, over = m["type"], m["method"] or "", m["qty"], m["over"]
    try:
        LicenseType(ltype)
    except ValueError:
        raise ValueError(
            f"entitlement {spec!r}: unknown license {ltype!r}; "
            f"one of {', '.join(LicenseType.values)}"
        ) from None
    if ltype in ACCESS_TYPES:
        if method not in (Method.ASSIGNABLE, Method.CONCURRENT):
            raise ValueError(
                f"entitlement {spec!r}: {ltype} needs a method, "
                f"{ltype}:assignable=N or {ltype}:concurrent=N"
            )
    elif method:
        raise ValueError(f"entitlement {spec!r}: {ltype} has no method")
    if ltype in COUNTED_TYPES and qty is None:
        raise ValueError(f"entitlement {spec!r}: {ltype} is counted, give a quantity ({ltype}=N)")
    if ltype in FLAG_TYPES and qty is not None:
        raise ValueError(f"entitlement {spec!r}: {ltype} is a flag and takes no quantity")
    for number in (qty, over):
        if number is not None and len(number) > MAX_NUMBER_DIGITS:
            raise ValueError(f"entitlement {spec!r}: {len(number):,} digits is too many")
    if qty is not None and int(qty) > MAX_QUANTITY:
        raise ValueError(
            f"entitlement {spec!r}: {int(qty):,} is above the maximum of {MAX_QUANTITY:,} "
            "per entitlement"
        )
    return EntitlementSpec(
        license_type=ltype,
        method=method,
        quantity=int(qty) if qty is not None else None,
        overage_percent=int(over) if over else 0,
    )


_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_date(value) -> date | None:
    """``value`` as a date if it is one written YYYY-MM-DD, else None. (date.fromisoformat also
    takes 20271231 and 2027W521.)"""
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def malformed(detail: str) -> LicenseFileError:
    return LicenseFileError(
        "malformed",
        f"The license file is malformed: {detail}. Nothing was changed; "
        "ask the vendor for a corrected file.",
        detail=detail,
    )


def show(value) -> str:
    """A value quoted for a one-line message, however long or strange it is."""
    text = ascii(value)
    return text if len(text) <= 40 else text[:36] + "...'"


def _invisible(char: str) -> bool:
    """Control, format (zero-width, direction), surrogate, private-use or unassigned characters,
    line and paragraph separators, and spaces other than the plain one: they make an id look
    like another, or break a log line."""
    category = unicodedata.category(char)
    return category[0] == "C" or category in ("Zl", "Zp") or (category == "Zs" and char != " ")


def _describe(char: str) -> str:
    name = unicodedata.name(char, "") or {
        "Cc": "a control character",
        "Cs": "a lone surrogate",
        "Co": "a private-use character",
        "Cn": "an unassigned code point",
    }.get(unicodedata.category(char), "unnamed")
    return f"U+{ord(char):04X} ({name})"


def _check_identifier(name: str, value) -> None:
    if not isinstance(value, str) or not value.strip():
        raise malformed(f"'{name}' must be a non-empty string")
    limit = IDENTIFIER_MAX_LENGTHS[name]
    if len(value) > limit:
        raise malformed(f"'{name}' has {len(value):,} characters, more than the {limit} allowed")
    for char in value:
        if _invisible(char):
            raise malformed(
                f"'{name}' contains {_describe(char)}, an invisible or control character "
                "(only visible characters and plain spaces are allowed)"
            )


def _check_entitlement(spec: EntitlementSpec, where: str, content: LicenseContent) -> None:
    ltype, method = spec.license_type, spec.method
    qty, over = spec.quantity, spec.overage_percent
    if ltype in ACCESS_TYPES and method not in (Method.ASSIGNABLE, Method.CONCURRENT):
        raise malformed(f"{where} ({ltype}) needs method assignable or concurrent")
    if ltype not in ACCESS_TYPES and method:
        raise malformed(f"{where} ({ltype}) takes no method")
    if ltype in COUNTED_TYPES and (not isinstance(qty, int) or isinstance(qty, bool) or qty < 0):
        raise malformed(f"{where} ({ltype}) needs a whole quantity of 0 or more")
    if ltype in COUNTED_TYPES and qty > MAX_QUANTITY:
        raise malformed(
            f"{where} ({ltype}) grants {qty:,}, above the maximum of {MAX_QUANTITY:,} "
            "per entitlement"
        )
    if ltype in FLAG_TYPES and (qty is not None or over):
        raise malformed(f"{where} ({ltype}) is a flag and takes no quantity")
    if not isinstance(over, int) or isinstance(over, bool) or not 0 <= over <= MAX_OVERAGE_PERCENT:
        raise malformed(
            f"{where} ({ltype}) has an overage_percent outside 0..{MAX_OVERAGE_PERCENT}"
        )
    starts = spec.starts_on or content.starts_on
    expires = spec.expires_on or content.expires_on
    if starts > expires:
        raise malformed(f"{where} ({ltype}) starts after it expires")
    if starts < content.starts_on or expires > content.expires_on:
        raise malformed(
            f"{where} ({ltype}) is valid {starts} to {expires}, outside the file's own validity "
            f"({content.starts_on} to {content.expires_on}); an entitlement must lie within it"
        )


def validate_content(content: LicenseContent, *, day: date) -> None:
    """The rules of a license file's content, written once: issue_license checks them before it
    signs, and every import after it verifies the signature (``day``: the day of signing or of
    import). Raises LicenseFileError ("malformed") naming the field."""
    for name in ("serial", "customer", "server_id"):
        _check_identifier(name, getattr(content, name))
    if content.starts_on > content.expires_on:
        raise malformed(f"'starts' ({content.starts_on}) is after 'expires' ({content.expires_on})")
    if content.issued_on > day:
        raise malformed(f"'issued' ({content.issued_on}) is in the future (today is {day})")
    if not content.entitlements:
        raise malformed("'entitlements' must be a non-empty list")
    seen = set()
    for i, spec in enumerate(content.entitlements, start=1):
        if spec.license_type not in LicenseType.values:
            raise malformed(f"entitlement {i} has an unknown type {show(spec.license_type)}")
        _check_entitlement(spec, f"entitlement {i}", content)
        if (spec.license_type, spec.method) in seen:
            raise malformed(f"entitlement {i} repeats {spec.label}")
        seen.add((spec.license_type, spec.method))
