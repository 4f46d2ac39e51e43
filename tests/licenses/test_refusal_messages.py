"""The exact words an administrator reads when a license file is refused, and the exact file the
vendor's tools write: each refusal is one sentence that names the field and says what to do,
word for word (test_malformed_files.py checks the refusals on every install path by their key
words; this file pins the whole sentence on the service path, which is fast)."""

import base64
import json
from datetime import date

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from licenses.content import MAX_DEPTH, MAX_NUMBER_DIGITS, parse_entitlement_spec
from licenses.licensefile import (
    MAX_FILE_BYTES,
    EntitlementSpec,
    LicenseContent,
    LicenseFileError,
    key_id_for,
    load_private_key,
    parse_public_keys,
    private_key_pem,
    public_key_b64,
    sign,
    sign_body,
    validate_content,
)
from licenses.models import Entitlement, LicenseFile
from licenses.services import license_file_import
from tests.factories import license_text

pytestmark = pytest.mark.django_db

AFTERWORD = "Nothing was changed; ask the vendor for a corrected file."


def _malformed(detail: str) -> str:
    return f"The license file is malformed: {detail}. {AFTERWORD}"


def _good(vendor_key) -> str:
    return license_text(
        vendor_key,
        server_id="CIC-WORDS",
        serial="WORDS-1",
        entitlements=["server", "organization=2", "agent:concurrent=5+10%", "marquee"],
    )


def _body(vendor_key) -> dict:
    return json.loads(_good(vendor_key).split("\n\n", 1)[1])


def _signed(vendor_key, body) -> bytes:
    if not isinstance(body, str | bytes):
        body = json.dumps(body, indent=2, sort_keys=True) + "\n"
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    return sign_body(body, vendor_key)


def _refusal(text) -> LicenseFileError:
    with pytest.raises(LicenseFileError) as refused:
        license_file_import(text=text)
    assert not LicenseFile.objects.exists() and not Entitlement.objects.exists()
    return refused.value


def _refused_as_malformed(text, detail: str) -> None:
    refusal = _refusal(text)
    assert (refusal.reason, refusal.message, refusal.detail) == (
        "malformed",
        _malformed(detail),
        detail,
    )


def _with(key, value):
    def change(data):
        data[key] = value
        return data

    return change


def _with_line(license_type, key, value):
    def change(data):
        next(e for e in data["entitlements"] if e["type"] == license_type)[key] = value
        return data

    return change


# A change to the good file's body, and the refusal's detail, word for word.
BODIES = [
    pytest.param(lambda d: [d], "the body is not a JSON object", id="body-a-list"),
    pytest.param(
        _with("entitlements", []), "'entitlements' must be a non-empty list", id="no-lines"
    ),
    pytest.param(
        _with("customer", "Acme\x00Corp"),
        "'customer' contains U+0000 (a control character), an invisible or control character "
        "(only visible characters and plain spaces are allowed)",
        id="nul-in-customer",
    ),
    pytest.param(
        _with("server_id", "CIC-\u0378"),
        "'server_id' contains U+0378 (an unassigned code point), an invisible or control "
        "character (only visible characters and plain spaces are allowed)",
        id="unassigned-code-point",
    ),
    pytest.param(
        _with_line("marquee", "type", "x" * 38),
        "entitlement 4 has an unknown type '" + "x" * 38 + "'",
        id="unknown-type-shown-whole-at-40-characters",
    ),
    pytest.param(
        _with_line("marquee", "type", "x" * 39),
        "entitlement 4 has an unknown type '" + "x" * 35 + "...'",
        id="unknown-type-cut-at-41-characters",
    ),
    pytest.param(
        _with_line("agent", "overage_percent", None),
        "entitlement 3 (agent) has an overage_percent outside 0..1000",
        id="overage-null",
    ),
    pytest.param(
        _with("notes", 10**MAX_NUMBER_DIGITS),
        f"a number has {MAX_NUMBER_DIGITS + 1} digits, more than the 30 allowed",
        id="number-of-31-digits",
    ),
    pytest.param(
        _with("notes", [[[[[1]]]]]),
        "its body is nested more than 5 levels deep",
        id="nested-6-levels",
    ),
]


@pytest.mark.parametrize("change, detail", BODIES)
def test_a_malformed_body_is_refused_in_these_words(vendor_key, change, detail):
    _refused_as_malformed(_signed(vendor_key, change(_body(vendor_key))), detail)


def test_a_file_that_is_not_utf8_is_refused_in_these_words(vendor_key):
    body = json.dumps({**_body(vendor_key), "customer": "Café"}, ensure_ascii=False)
    latin1 = _signed(vendor_key, body.encode("latin-1"))
    _refused_as_malformed(latin1, "it is not UTF-8 text")
    _refused_as_malformed("IWP-LICENSE 1\n\ud800", "it is not UTF-8 text")  # a str given


def test_a_file_of_exactly_1_mb_installs_and_one_byte_more_is_refused(vendor_key):
    good = _good(vendor_key).encode()
    header, body = good.split(b"\n\n", 1)
    padding = MAX_FILE_BYTES - len(good)
    at_cap = sign_body(body + b" " * padding, vendor_key)
    assert len(at_cap) == MAX_FILE_BYTES
    over = sign_body(body + b" " * (padding + 1), vendor_key)
    _refused_as_malformed(over, "it is over 1 MB, and a license file is a few kilobytes")
    assert license_file_import(text=at_cap).serial == "WORDS-1"


def test_a_body_nested_5_levels_deep_and_a_30_digit_number_are_read(vendor_key):
    """The limits themselves are allowed: an unknown key is ignored, whatever it holds."""
    data = _body(vendor_key)
    data["notes"] = [[[[10 ** (MAX_NUMBER_DIGITS - 1)]]]]  # body, then 4 lists: 5 levels
    assert MAX_DEPTH == 5 and len(str(data["notes"][0][0][0][0])) == 30
    installed = license_file_import(text=_signed(vendor_key, data))
    assert installed.entitlements.count() == 4


def test_a_file_valid_for_one_day_installs(vendor_key):
    today = timezone.localdate()
    installed = license_file_import(
        text=license_text(
            vendor_key,
            server_id="CIC-WORDS",
            entitlements=["server"],
            starts_on=today,
            expires_on=today,
        )
    )
    assert installed.entitlements.get().expires_on == today


# --- the header: what the administrator reads before the body is looked at --------------------


def test_a_file_without_the_header_is_refused_in_these_words():
    refusal = _refusal("not a license at all")
    assert (refusal.reason, refusal.message) == (
        "malformed",
        "The license file is malformed: it must start with 'IWP-LICENSE 1', a Key-Id line, "
        "a Signature line and a blank line. Ask the vendor for the file as issued.",
    )


def test_a_file_signed_with_an_unknown_key_names_the_key_and_the_setting():
    stranger = Ed25519PrivateKey.generate()
    key_id = key_id_for(stranger.public_key())
    refusal = _refusal(license_text(stranger, server_id="CIC-WORDS", entitlements=["server"]))
    assert (refusal.reason, refusal.key_id, refusal.message) == (
        "unknown_key",
        key_id,
        f"The license file is signed with key {key_id}, which is not trusted here. "
        "Add the vendor's public key to IWP_LICENSE_PUBLIC_KEYS, "
        "or ask for a file signed with a trusted key.",
    )


def _bad_signature(vendor_key) -> str:
    return (
        "The license file's signature does not verify with key "
        f"{key_id_for(vendor_key.public_key())}: the file was changed after it was signed. "
        "Install the file exactly as issued."
    )


def test_a_changed_body_is_refused_in_these_words(vendor_key):
    refusal = _refusal(_good(vendor_key).replace('"quantity": 2', '"quantity": 3'))
    assert (refusal.reason, refusal.message) == ("bad_signature", _bad_signature(vendor_key))


def test_a_signature_line_with_data_after_its_padding_is_refused(vendor_key):
    """The signature is read strictly: base64 that a lenient decoder would still turn into the
    right 64 bytes is a changed file too."""
    good = _good(vendor_key)
    signature = good.split("Signature: ", 1)[1].split("\n", 1)[0]
    assert signature.endswith("==")
    refusal = _refusal(good.replace(signature, signature + "AAAA", 1))
    assert (refusal.reason, refusal.message) == ("bad_signature", _bad_signature(vendor_key))


# --- the rules issue_license checks before it signs (validate_content on a LicenseContent) -----


def _content(**changes) -> LicenseContent:
    fields = {
        "serial": "S-1",
        "customer": "Acme",
        "server_id": "CIC-1",
        "issued_on": date(2026, 1, 2),
        "starts_on": date(2026, 1, 1),
        "expires_on": date(2026, 12, 31),
        "entitlements": (EntitlementSpec("server"),),
        **changes,
    }
    return LicenseContent(**fields)


@pytest.mark.parametrize(
    "changes, detail",
    [
        ({"entitlements": ()}, "'entitlements' must be a non-empty list"),
        (
            {"entitlements": (EntitlementSpec("seats"),)},
            "entitlement 1 has an unknown type 'seats'",
        ),
        ({"customer": "   "}, "'customer' must be a non-empty string"),
        ({"server_id": 42}, "'server_id' must be a non-empty string"),
        (
            {"entitlements": (EntitlementSpec("agent", "concurrent", quantity=True),)},
            "entitlement 1 (agent) needs a whole quantity of 0 or more",
        ),
        (
            {"entitlements": (EntitlementSpec("agent", "concurrent", 5, overage_percent=True),)},
            "entitlement 1 (agent) has an overage_percent outside 0..1000",
        ),
    ],
    ids=["no-lines", "unknown-type", "blank-customer", "number-server-id", "bool-qty", "bool-over"],
)
def test_content_issue_license_would_sign_is_refused_in_these_words(changes, detail):
    with pytest.raises(LicenseFileError) as refused:
        validate_content(_content(**changes), day=date(2026, 6, 1))
    assert (refused.value.reason, refused.value.message, refused.value.detail) == (
        "malformed",
        _malformed(detail),
        detail,
    )


@pytest.mark.parametrize(
    "spec, words",
    [
        (
            "seats=4",
            "entitlement 'seats=4': unknown license 'seats'; one of server, organization, "
            "supervisor, agent, marquee, scheduled_reports",
        ),
        ("server:concurrent", "entitlement 'server:concurrent': server has no method"),
        (
            "agent:concurrent=10000001",
            "entitlement 'agent:concurrent=10000001': 10,000,001 is above the maximum of "
            "10,000,000 per entitlement",
        ),
        (
            "agent:concurrent=" + "9" * 30,
            f"entitlement 'agent:concurrent={'9' * 30}': {int('9' * 30):,} is above the maximum "
            "of 10,000,000 per entitlement",
        ),
        (
            "agent:concurrent=" + "9" * 31,
            f"entitlement 'agent:concurrent={'9' * 31}': 31 digits is too many",
        ),
    ],
    ids=["unknown", "flag-with-method", "one-above-the-maximum", "30-digits", "31-digits"],
)
def test_an_entitlement_spec_issue_license_cannot_sign_is_refused_in_these_words(spec, words):
    with pytest.raises(ValueError) as refused:
        parse_entitlement_spec(spec)
    assert str(refused.value) == words


# --- keys --------------------------------------------------------------------------------------


def test_a_private_key_that_is_not_pem_is_refused_naming_the_format():
    with pytest.raises(LicenseFileError) as refused:
        load_private_key(b"not a key")
    assert refused.value.reason == "bad_key"
    assert refused.value.message.startswith("The private key is not an unencrypted PKCS8 PEM key: ")


def test_a_private_key_of_another_algorithm_is_refused_naming_the_command_that_makes_one():
    other = private_key_pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(LicenseFileError) as refused:
        load_private_key(other)
    assert (refused.value.reason, refused.value.message) == (
        "bad_key",
        "The private key is not an Ed25519 key (make one with generate_license_key).",
    )


def test_trusted_keys_skip_blank_entries_and_read_every_key_after_them(vendor_key):
    other = Ed25519PrivateKey.generate().public_key()
    keys = parse_public_keys(["", "  ", f" {public_key_b64(vendor_key.public_key())} ", ""])
    keys.update(parse_public_keys([" ", public_key_b64(other)]))
    assert {key_id: public_key_b64(key) for key_id, key in keys.items()} == {
        key_id_for(vendor_key.public_key()): public_key_b64(vendor_key.public_key()),
        key_id_for(other): public_key_b64(other),
    }


@pytest.mark.parametrize("suffix", ["AAAA", "!"], ids=["data-after-padding", "stray-character"])
def test_a_trusted_key_that_is_not_strict_base64_is_refused_naming_the_setting(vendor_key, suffix):
    value = public_key_b64(vendor_key.public_key()) + suffix
    assert len(base64.b64decode(value)) == 32  # a lenient decoder would take it
    with pytest.raises(ValueError) as refused:
        parse_public_keys([value])
    assert str(refused.value) == (
        f"IWP_LICENSE_PUBLIC_KEYS: {value!r} is not the base64 of a 32-byte Ed25519 public key"
    )


# --- the file the vendor's tools write ---------------------------------------------------------


def test_sign_writes_the_documented_header_and_a_sorted_two_space_indented_body(vendor_key):
    content = _content(
        entitlements=(
            EntitlementSpec("server"),
            EntitlementSpec(
                "agent",
                "concurrent",
                50,
                overage_percent=10,
                starts_on=date(2026, 2, 1),
                expires_on=date(2026, 6, 30),
            ),
            EntitlementSpec("organization", quantity=0),
        )
    )
    text = sign(content, vendor_key)
    header, body = text.split("\n\n", 1)
    magic, key_line, signature_line = header.split("\n")
    assert (magic, key_line) == ("IWP-LICENSE 1", f"Key-Id: {key_id_for(vendor_key.public_key())}")
    signature = base64.b64decode(signature_line.removeprefix("Signature: "), validate=True)
    vendor_key.public_key().verify(signature, body.encode())
    assert body == (
        "{\n"
        '  "customer": "Acme",\n'
        '  "entitlements": [\n'
        "    {\n"
        '      "expires": "2026-12-31",\n'
        '      "starts": "2026-01-01",\n'
        '      "type": "server"\n'
        "    },\n"
        "    {\n"
        '      "expires": "2026-06-30",\n'
        '      "method": "concurrent",\n'
        '      "overage_percent": 10,\n'
        '      "quantity": 50,\n'
        '      "starts": "2026-02-01",\n'
        '      "type": "agent"\n'
        "    },\n"
        "    {\n"
        '      "expires": "2026-12-31",\n'
        '      "quantity": 0,\n'
        '      "starts": "2026-01-01",\n'
        '      "type": "organization"\n'
        "    }\n"
        "  ],\n"
        '  "expires": "2026-12-31",\n'
        '  "issued": "2026-01-02",\n'
        '  "serial": "S-1",\n'
        '  "server_id": "CIC-1",\n'
        '  "starts": "2026-01-01"\n'
        "}\n"
    )
