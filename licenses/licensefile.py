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
from datetime import date

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .content import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NUMBER_DIGITS,
    MAX_QUANTITY,
    EntitlementSpec,
    LicenseContent,
    iso_date,
    malformed,
    parse_entitlement_spec,
    show,
    validate_content,
)
from .exceptions import LicenseFileError
from .models import LicenseType

# Callers import the content and its refusal from here, with the format.
__all__ = [
    "MAGIC",
    "MAX_FILE_BYTES",
    "MAX_QUANTITY",
    "EntitlementSpec",
    "LicenseContent",
    "LicenseFileError",
    "parse_entitlement_spec",
    "validate_content",
    "public_key_b64",
    "key_id_for",
    "load_private_key",
    "private_key_pem",
    "parse_public_keys",
    "sign_body",
    "sign",
    "verify",
]

MAGIC = "IWP-LICENSE 1"
_HEADER_RE = re.compile(
    r"\A" + re.escape(MAGIC) + r"\nKey-Id: ([0-9a-f]{16})\nSignature: ([A-Za-z0-9+/=]+)\n\n", re.S
)


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


def sign_body(body: bytes, private_key: Ed25519PrivateKey) -> bytes:
    """A signed license file whose body is ``body``, byte for byte."""
    signature = base64.b64encode(private_key.sign(body)).decode()
    key_id = key_id_for(private_key.public_key())
    return f"{MAGIC}\nKey-Id: {key_id}\nSignature: {signature}\n\n".encode() + body


def sign(content: LicenseContent, private_key: Ed25519PrivateKey) -> str:
    """The text of a signed license file for ``content``. It signs whatever it is given:
    issue_license runs ``validate_content`` first, so it never signs what import refuses."""
    body = json.dumps(_content_to_json(content), indent=2, sort_keys=True) + "\n"
    return sign_body(body.encode(), private_key).decode()


# --- reading a file ---------------------------------------------------------------------------


def _date(value, where: str) -> date:
    day = iso_date(value)
    if day is None:
        raise malformed(f"{where} is {show(value)}, not a date in the form YYYY-MM-DD")
    return day


def _whole(value, where: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise malformed(f"{where} is {show(value)}, not a whole number")
    return value


def _decoded(text: str | bytes) -> str:
    if isinstance(text, str):
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:
            raise malformed("it is not UTF-8 text") from None
    else:
        raw = text
    if len(raw) > MAX_FILE_BYTES:
        raise malformed(
            f"it is over {MAX_FILE_BYTES // (1024 * 1024)} MB, and a license file is a few "
            "kilobytes"
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise malformed("it is not UTF-8 text") from None


def _deeper_than(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _load_json(body: str):
    """The body as JSON, refusing duplicate keys, NaN and Infinity, numbers of more than
    MAX_NUMBER_DIGITS digits and nesting deeper than MAX_DEPTH."""

    def unique_keys(pairs):
        obj = {}
        for key, value in pairs:
            if key in obj:
                raise malformed(f"the key {show(key)} appears twice in one object")
            obj[key] = value
        return obj

    def whole_number(digits: str) -> int:
        n = len(digits.lstrip("-"))
        if n > MAX_NUMBER_DIGITS:
            raise malformed(f"a number has {n:,} digits, more than the {MAX_NUMBER_DIGITS} allowed")
        return int(digits)

    def constant(name: str):
        raise malformed(f"{name} is not a number a license file may hold")

    too_deep = False
    try:
        data = json.loads(
            body, object_pairs_hook=unique_keys, parse_int=whole_number, parse_constant=constant
        )
    except RecursionError:  # CPython's parser gives up around 1,000 levels
        too_deep = True
    except ValueError as exc:
        raise malformed(f"its body is not JSON ({exc})") from None
    if too_deep or _deeper_than(data, MAX_DEPTH):
        raise malformed(f"its body is nested more than {MAX_DEPTH} levels deep")
    return data


def _content_from_json(data) -> LicenseContent:
    """The content of a parsed body, checking only the JSON types (validate_content checks the
    rest)."""
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
    specs = []
    for i, item in enumerate(data["entitlements"], start=1):
        where = f"entitlement {i}"
        if not isinstance(item, dict):
            raise malformed(f"{where} is not an object")
        ltype, method = item.get("type"), item.get("method", "")
        if ltype not in LicenseType.values:
            raise malformed(f"{where} has an unknown type {show(ltype)}")
        if not isinstance(method, str):
            raise malformed(f"{where} ({ltype}) has a method that is not a string")
        specs.append(
            EntitlementSpec(
                license_type=ltype,
                method=method,
                quantity=_whole(item.get("quantity"), f"{where} ({ltype}) quantity"),
                overage_percent=_whole(
                    item.get("overage_percent", 0), f"{where} ({ltype}) overage_percent"
                ),
                starts_on=_date(item.get("starts"), f"{where} ({ltype}) starts"),
                expires_on=_date(item.get("expires"), f"{where} ({ltype}) expires"),
            )
        )
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
    text: str | bytes, trusted_keys: dict[str, Ed25519PublicKey], *, day: date
) -> tuple[LicenseContent, str]:
    """Parse and verify a license file, and check its content's rules as of ``day``; returns its
    content and signing key id.

    Raises LicenseFileError (malformed, unknown_key, bad_signature). Whether the file is valid
    on ``day`` (expired, not yet valid) is the import service's to say.
    """
    text = _decoded(text)
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
            key_id=key_id,
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
    content = _content_from_json(_load_json(body))
    validate_content(content, day=day)
    return content, key_id
