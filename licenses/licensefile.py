"""The signed license file format (see docs/license-file.md): build, sign, parse and verify.

A file is a short header and a JSON body; the Ed25519 signature covers the body's exact bytes,
so changing any byte of it (or of the signature) makes verification fail.

    IWP-LICENSE 1
    Key-Id: 5d2c9e0f4b1a7c33
    Signature: <base64 of the 64-byte Ed25519 signature>

    {"customer": ..., "entitlements": [...], ...}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .models import ACCESS_TYPES, COUNTED_TYPES, FLAG_TYPES, LicenseType, Method

MAGIC = "IWP-LICENSE 1"
_HEADER_RE = re.compile(
    r"\A" + re.escape(MAGIC) + r"\nKey-Id: ([0-9a-f]{16})\nSignature: ([A-Za-z0-9+/=]+)\n\n", re.S
)


class LicenseFileError(Exception):
    """A license file was refused. ``reason`` is a short code; the message says what to do."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


# --- keys -------------------------------------------------------------------------------------


def public_key_b64(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def key_id_for(public_key: Ed25519PublicKey) -> str:
    """A short, stable id of a public key, carried in every file it signs (so keys can rotate)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise LicenseFileError(
            "bad_key", f"The private key is not an unencrypted PKCS8 PEM key: {exc}"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise LicenseFileError(
            "bad_key", "The private key is not an Ed25519 key (make one with generate_license_key)."
        )
    return key


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def parse_public_keys(values: list[str]) -> dict[str, Ed25519PublicKey]:
    """Trusted keys by key id, from base64 strings of 32 raw bytes (IWP_LICENSE_PUBLIC_KEYS)."""
    keys = {}
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            raw = base64.b64decode(value, validate=True)
            key = Ed25519PublicKey.from_public_bytes(raw)
        except (binascii.Error, ValueError) as exc:
            raise ValueError(
                f"IWP_LICENSE_PUBLIC_KEYS: {value!r} "
                "is not the base64 of a 32-byte Ed25519 public key"
            ) from exc
        keys[key_id_for(key)] = key
    return keys


# --- content ----------------------------------------------------------------------------------


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
    r"^(?P<type>[a-z_]+)(?::(?P<method>[a-z]+))?(?:=(?P<qty>\d+)(?:\+(?P<over>\d+)%)?)?$"
)


# The most a counted entitlement may grant: far above any contact center, and far below what the
# database's counters hold, so no count the product accepts can overflow them.
MAX_QUANTITY = 10_000_000


def parse_entitlement_spec(spec: str) -> EntitlementSpec:
    """``agent:concurrent=50+10%``, ``organization=5``, ``server``, ``marquee`` ...
    (issue_license --entitlement)."""
    m = _SPEC_RE.match(spec.strip())
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


def _content_to_json(content: LicenseContent) -> dict:
    return {
        "serial": content.serial,
        "customer": content.customer,
        "server_id": content.server_id,
        "issued": content.issued_on.isoformat(),
        "starts": content.starts_on.isoformat(),
        "expires": content.expires_on.isoformat(),
        "entitlements": [
            {
                "type": e.license_type,
                **({"method": e.method} if e.method else {}),
                **({"quantity": e.quantity} if e.quantity is not None else {}),
                **({"overage_percent": e.overage_percent} if e.overage_percent else {}),
                "starts": (e.starts_on or content.starts_on).isoformat(),
                "expires": (e.expires_on or content.expires_on).isoformat(),
            }
            for e in content.entitlements
        ],
    }


def sign(content: LicenseContent, private_key: Ed25519PrivateKey) -> str:
    """The text of a signed license file for ``content``."""
    body = json.dumps(_content_to_json(content), indent=2, sort_keys=True) + "\n"
    signature = base64.b64encode(private_key.sign(body.encode())).decode()
    key_id = key_id_for(private_key.public_key())
    return f"{MAGIC}\nKey-Id: {key_id}\nSignature: {signature}\n\n{body}"


def _date(value, where: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise LicenseFileError(
            "malformed", f"The license file is malformed: {where} is not a date (YYYY-MM-DD)."
        ) from None


def _content_from_json(data) -> LicenseContent:
    def malformed(msg):
        return LicenseFileError("malformed", f"The license file is malformed: {msg}.")

    if not isinstance(data, dict):
        raise malformed("the body is not a JSON object")
    for key in ("serial", "customer", "server_id", "issued", "starts", "expires", "entitlements"):
        if key not in data:
            raise malformed(f"'{key}' is missing")
    for key in ("serial", "customer", "server_id"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise malformed(f"'{key}' must be a non-empty string")
    if not isinstance(data["entitlements"], list) or not data["entitlements"]:
        raise malformed("'entitlements' must be a non-empty list")
    specs, seen = [], set()
    for i, item in enumerate(data["entitlements"], start=1):
        where = f"entitlement {i}"
        if not isinstance(item, dict):
            raise malformed(f"{where} is not an object")
        try:
            ltype = LicenseType(item.get("type")).value
        except ValueError:
            raise malformed(f"{where} has an unknown type {item.get('type')!r}") from None
        method = item.get("method", "")
        qty = item.get("quantity")
        over = item.get("overage_percent", 0)
        if ltype in ACCESS_TYPES and method not in (Method.ASSIGNABLE, Method.CONCURRENT):
            raise malformed(f"{where} ({ltype}) needs method assignable or concurrent")
        if ltype not in ACCESS_TYPES and method:
            raise malformed(f"{where} ({ltype}) takes no method")
        if ltype in COUNTED_TYPES and (
            not isinstance(qty, int) or isinstance(qty, bool) or qty < 0
        ):
            raise malformed(f"{where} ({ltype}) needs a whole quantity of 0 or more")
        if ltype in COUNTED_TYPES and qty > MAX_QUANTITY:
            raise malformed(
                f"{where} ({ltype}) grants {qty:,}, above the maximum of {MAX_QUANTITY:,} "
                "per entitlement"
            )
        if ltype in FLAG_TYPES and (qty is not None or over):
            raise malformed(f"{where} ({ltype}) is a flag and takes no quantity")
        if not isinstance(over, int) or isinstance(over, bool) or not 0 <= over <= 1000:
            raise malformed(f"{where} ({ltype}) has an overage_percent outside 0..1000")
        starts, expires = (
            _date(item.get("starts"), f"{where} starts"),
            _date(item.get("expires"), f"{where} expires"),
        )
        if starts > expires:
            raise malformed(f"{where} ({ltype}) starts after it expires")
        if (ltype, method) in seen:
            raise malformed(f"{where} repeats {ltype}{':' + method if method else ''}")
        seen.add((ltype, method))
        specs.append(EntitlementSpec(ltype, method, qty, over, starts, expires))
    return LicenseContent(
        serial=data["serial"].strip(),
        customer=data["customer"].strip(),
        server_id=data["server_id"].strip(),
        issued_on=_date(data["issued"], "'issued'"),
        starts_on=_date(data["starts"], "'starts'"),
        expires_on=_date(data["expires"], "'expires'"),
        entitlements=tuple(specs),
    )


def verify(
    text: str | bytes, trusted_keys: dict[str, Ed25519PublicKey]
) -> tuple[LicenseContent, str]:
    """Parse and verify a license file; returns its content and signing key id.

    Raises LicenseFileError (malformed, unknown_key, bad_signature). Dates are checked by the
    import service, which knows what day it is.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise LicenseFileError(
                "malformed", "The license file is malformed: it is not UTF-8 text."
            ) from None
    m = _HEADER_RE.match(text)
    if not m:
        raise LicenseFileError(
            "malformed",
            f"The license file is malformed: it must start with '{MAGIC}', a Key-Id line, "
            "a Signature line and a blank line. Ask the vendor for the file as issued.",
        )
    key_id, signature_b64 = m.group(1), m.group(2)
    body = text[m.end() :]
    key = trusted_keys.get(key_id)
    if key is None:
        raise LicenseFileError(
            "unknown_key",
            f"The license file is signed with key {key_id}, which is not trusted here. "
            "Add the vendor's public key to IWP_LICENSE_PUBLIC_KEYS, "
            "or ask for a file signed with a trusted key.",
        )
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key.verify(signature, body.encode())
    except (binascii.Error, InvalidSignature):
        raise LicenseFileError(
            "bad_signature",
            f"The license file's signature does not verify with key {key_id}: "
            "the file was changed after it was signed. Install the file exactly as issued.",
        ) from None
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise LicenseFileError(
            "malformed", f"The license file is malformed: its body is not JSON ({exc})."
        ) from None
    return _content_from_json(data), key_id
