"""Every malformed license file is refused with one line that names the problem, on every path (the
import service, ``import_license``, the admin's *Install a license file*), and changes nothing.

Each file is signed with the trusted test vendor key by the real signing code (``sign_body``), its
JSON body changed before signing: a valid signature is no excuse for a bad file.
"""

import html
import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from licenses.licensefile import MAX_FILE_BYTES, LicenseFileError, sign_body
from licenses.models import Entitlement, LicenseFile
from licenses.services import license_file_import
from organizations.models import Server
from tests.factories import UserFactory, license_text

pytestmark = pytest.mark.django_db

FULL = [
    "server",
    "organization=10",
    "supervisor:assignable=5",
    "agent:concurrent=50+10%",
    "marquee",
]


def _json(data) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _line(data, license_type):
    return next(e for e in data["entitlements"] if e["type"] == license_type)


def _set(path, value):
    """A change to one field: ``path`` is a top-level key, or (license type, key) of a line."""

    def change(data, today):
        if isinstance(path, tuple):
            _line(data, path[0])[path[1]] = value(today) if callable(value) else value
        else:
            data[path] = value(today) if callable(value) else value
        return data

    return change


def _drop(path):
    def change(data, today):
        if isinstance(path, tuple):
            del _line(data, path[0])[path[1]]
        else:
            del data[path]
        return data

    return change


def _replace(old, new):
    """A change to the body's text (for what a dict cannot hold: duplicate keys, NaN, huge
    numbers)."""

    def change(data, today):
        text = _json(data)
        assert old in text
        return text.replace(old, new, 1)

    return change


def _nested(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def _days(n):
    return lambda today: (today + timedelta(days=n)).isoformat()


CASES = [
    # The file itself
    pytest.param(lambda d, t: _json(d) + " " * MAX_FILE_BYTES, "over 1 MB", id="over-the-1-MB-cap"),
    pytest.param(
        lambda d, t: _json({**d, "customer": "Café"}).replace("\\u00e9", "é").encode("latin-1"),
        "not UTF-8",
        id="latin-1-not-utf-8",
    ),
    pytest.param(
        lambda d, t: "[" * 100_000 + "]" * 100_000,
        "nested more than 5 levels deep",
        id="json-nested-100000-deep",
    ),
    pytest.param(
        _set("notes", _nested(50)), "nested more than 5 levels deep", id="json-nested-50-deep"
    ),
    pytest.param(
        _set(("agent", "quantity"), _nested(3)),
        "nested more than 5 levels deep",
        id="json-nested-in-an-entitlement",
    ),
    pytest.param(
        _replace('"quantity": 50', '"quantity": ' + "9" * 5000),
        "a number has 5,000 digits, more than the 30 allowed",
        id="5000-digit-quantity",
    ),
    pytest.param(
        _replace('"customer"', '"notes": ' + "1" * 5000 + ', "customer"'),
        "a number has 5,000 digits",
        id="5000-digit-integer-anywhere",
    ),
    pytest.param(
        _replace('"overage_percent": 10', '"overage_percent": -' + "1" * 40),
        "a number has 40 digits",
        id="40-digit-negative-number",
    ),
    pytest.param(
        _replace('"serial": "MAL-1"', '"serial": "MAL-1", "serial": "MAL-2"'),
        "the key 'serial' appears twice in one object",
        id="duplicate-key",
    ),
    pytest.param(
        _replace('"quantity": 50', '"quantity": 50, "quantity": 5000'),
        "the key 'quantity' appears twice in one object",
        id="duplicate-key-in-an-entitlement",
    ),
    pytest.param(
        _replace('"quantity": 50', '"quantity": NaN'), "NaN is not a number", id="nan-quantity"
    ),
    pytest.param(
        _replace('"overage_percent": 10', '"overage_percent": -Infinity'),
        "-Infinity is not a number",
        id="infinite-overage",
    ),
    pytest.param(lambda d, t: _json([d]), "the body is not a JSON object", id="body-is-a-list"),
    pytest.param(lambda d, t: _json(d) + "}", "its body is not JSON", id="trailing-garbage"),
    # The fields' shapes
    pytest.param(_drop("serial"), "'serial' is missing", id="serial-missing"),
    pytest.param(
        _set("customer", 42), "'customer' must be a non-empty string", id="customer-a-number"
    ),
    pytest.param(
        _set("server_id", "   "), "'server_id' must be a non-empty string", id="server-id-blank"
    ),
    pytest.param(
        _set("entitlements", []), "'entitlements' must be a non-empty list", id="no-entitlements"
    ),
    pytest.param(
        _set("entitlements", {"type": "server"}),
        "'entitlements' must be a non-empty list",
        id="entitlements-an-object",
    ),
    pytest.param(
        _set("entitlements", ["server"]), "entitlement 1 is not an object", id="line-a-string"
    ),
    pytest.param(
        _set(("marquee", "type"), "seats"), "unknown type 'seats'", id="unknown-license-type"
    ),
    pytest.param(_set(("marquee", "type"), ["agent"]), "unknown type", id="type-a-list"),
    pytest.param(
        _set(("agent", "method"), 1), "has a method that is not a string", id="method-a-number"
    ),
    pytest.param(
        _drop(("agent", "method")),
        "(agent) needs method assignable or concurrent",
        id="agent-without-method",
    ),
    pytest.param(
        _set(("organization", "method"), "concurrent"),
        "(organization) takes no method",
        id="organization-with-method",
    ),
    pytest.param(
        _set(("marquee", "quantity"), 3),
        "(marquee) is a flag and takes no quantity",
        id="flag-with-quantity",
    ),
    pytest.param(
        _set(("marquee", "overage_percent"), 10),
        "(marquee) is a flag and takes no quantity",
        id="flag-with-overage",
    ),
    # Numbers
    pytest.param(
        _drop(("organization", "quantity")),
        "(organization) needs a whole quantity of 0 or more",
        id="counted-without-quantity",
    ),
    pytest.param(
        _set(("agent", "quantity"), -1),
        "(agent) needs a whole quantity of 0 or more",
        id="negative-quantity",
    ),
    pytest.param(
        _set(("agent", "quantity"), 5.0), "quantity is 5.0, not a whole number", id="float-qty"
    ),
    pytest.param(
        _set(("agent", "quantity"), True), "quantity is True, not a whole number", id="bool-qty"
    ),
    pytest.param(
        _set(("agent", "quantity"), "5"), "quantity is '5', not a whole number", id="string-qty"
    ),
    pytest.param(
        _set(("agent", "quantity"), 2**31),
        "grants 2,147,483,648, above the maximum of 10,000,000 per entitlement",
        id="quantity-2-to-the-31",
    ),
    pytest.param(
        _set(("supervisor", "quantity"), 10**18),
        "grants 1,000,000,000,000,000,000, above the maximum",
        id="quantity-10-to-the-18",
    ),
    pytest.param(
        _set(("organization", "quantity"), 10_000_001),
        "grants 10,000,001, above the maximum of 10,000,000",
        id="quantity-one-above-the-maximum",
    ),
    pytest.param(
        _set(("agent", "overage_percent"), 1001),
        "overage_percent outside 0..1000",
        id="overage-1001",
    ),
    pytest.param(
        _set(("agent", "overage_percent"), 2**31),
        "overage_percent outside 0..1000",
        id="overage-2-to-the-31",
    ),
    pytest.param(
        _set(("organization", "overage_percent"), 10**18),
        "overage_percent outside 0..1000",
        id="overage-10-to-the-18",
    ),
    pytest.param(
        _set(("agent", "overage_percent"), -1),
        "overage_percent outside 0..1000",
        id="negative-overage",
    ),
    pytest.param(
        _set(("agent", "overage_percent"), "10"),
        "overage_percent is '10', not a whole number",
        id="string-overage",
    ),
    pytest.param(
        lambda d, t: {**d, "entitlements": d["entitlements"] + [_line(d, "agent")]},
        "entitlement 6 repeats agent:concurrent",
        id="line-repeated",
    ),
    # Identifiers: the columns' lengths, and no invisible or control characters
    pytest.param(
        _set("serial", "S" * 101),
        "'serial' has 101 characters, more than the 100 allowed",
        id="serial-101-characters",
    ),
    pytest.param(
        _set("customer", "C" * 201),
        "'customer' has 201 characters, more than the 200 allowed",
        id="customer-201-characters",
    ),
    pytest.param(
        _set("server_id", "CIC-" + "X" * 97),
        "'server_id' has 101 characters, more than the 100 allowed",
        id="server-id-101-characters",
    ),
    pytest.param(
        _set("server_id", "X" * 100_000),
        "'server_id' has 100,000 characters",
        id="server-id-100000-characters",
    ),
    pytest.param(
        _set("customer", "Acme\x00Corp"), "'customer' contains U+0000", id="nul-in-customer"
    ),
    pytest.param(
        _set("server_id", "CIC-MAL\x00"), "'server_id' contains U+0000", id="nul-in-server-id"
    ),
    pytest.param(
        _set("server_id", "CIC-\u200bMAL"),
        "'server_id' contains U+200B (ZERO WIDTH SPACE)",
        id="zero-width-space-in-server-id",
    ),
    pytest.param(
        lambda d, t: _json({**d, "server_id": "CIC-M\u200bAL"}).replace("\\u200b", "\u200b"),
        "'server_id' contains U+200B (ZERO WIDTH SPACE)",
        id="zero-width-space-unescaped",
    ),
    pytest.param(
        _set("serial", "\ufeffMAL-1"),
        "'serial' contains U+FEFF (ZERO WIDTH NO-BREAK SPACE)",
        id="byte-order-mark-in-serial",
    ),
    pytest.param(
        _set("customer", "Acme \u202eproC"),
        "'customer' contains U+202E (RIGHT-TO-LEFT OVERRIDE)",
        id="direction-override-in-customer",
    ),
    pytest.param(
        _set("serial", "MAL\u20281"),
        "'serial' contains U+2028 (LINE SEPARATOR)",
        id="line-separator-in-serial",
    ),
    pytest.param(
        _set("customer", "Acme\u2029Corp"),
        "'customer' contains U+2029 (PARAGRAPH SEPARATOR)",
        id="paragraph-separator-in-customer",
    ),
    pytest.param(
        _set("server_id", "CIC\nMAL"), "'server_id' contains U+000A", id="newline-in-server-id"
    ),
    pytest.param(_set("customer", "Acme\tCorp"), "'customer' contains U+0009", id="tab-in-name"),
    pytest.param(
        _set("server_id", "CIC\u00a0MAL"),
        "'server_id' contains U+00A0 (NO-BREAK SPACE)",
        id="no-break-space-in-server-id",
    ),
    pytest.param(
        _set("customer", "Acme\ud800"),
        "'customer' contains U+D800 (a lone surrogate)",
        id="lone-surrogate-in-customer",
    ),
    pytest.param(
        _set("customer", "Acme\ue000"),
        "'customer' contains U+E000 (a private-use character)",
        id="private-use-character",
    ),
    # Dates: YYYY-MM-DD only; lines within the file's validity; issued not after today
    pytest.param(
        _set("expires", "2027W521"),
        "'expires' is '2027W521', not a date in the form YYYY-MM-DD",
        id="iso-week-date",
    ),
    pytest.param(
        _set(("server", "expires"), "20271231"),
        "entitlement 1 (server) expires is '20271231', not a date in the form YYYY-MM-DD",
        id="basic-format-date",
    ),
    pytest.param(
        _set("starts", "2026-01-01T00:00"), "'starts' is '2026-01-01T00:00'", id="date-and-time"
    ),
    pytest.param(_set("expires", "2027-02-30"), "'expires' is '2027-02-30'", id="no-such-day"),
    pytest.param(_set("issued", 20261127), "'issued' is 20261127, not a date", id="date-a-number"),
    pytest.param(
        _set("expires", "\uff12\uff10\uff12\uff17-12-31"), "not a date", id="full-width-digits"
    ),
    pytest.param(
        _drop(("marquee", "starts")), "(marquee) starts is None, not a date", id="line-no-start"
    ),
    pytest.param(
        _set(("agent", "expires"), "9999-12-31"),
        "entitlement 4 (agent) is valid",
        id="line-expires-after-the-file",
    ),
    pytest.param(
        _set(("server", "starts"), _days(-30)),
        "outside the file's own validity",
        id="line-starts-before-the-file",
    ),
    pytest.param(
        lambda d, t: _set(("marquee", "expires"), _days(10))(
            _set(("marquee", "starts"), _days(30))(d, t), t
        ),
        "(marquee) starts after it expires",
        id="line-starts-after-it-expires",
    ),
    pytest.param(
        lambda d, t: {**d, "expires": (t - timedelta(days=2)).isoformat()},
        "is after 'expires'",
        id="file-starts-after-it-expires",
    ),
    pytest.param(
        _set("issued", "2999-01-01"),
        "'issued' (2999-01-01) is in the future",
        id="issued-in-2999",
    ),
    pytest.param(_set("issued", _days(1)), "is in the future", id="issued-tomorrow"),
]


def _bad_file(vendor_key, change) -> bytes:
    today = timezone.localdate()
    good = license_text(vendor_key, server_id="CIC-MAL", entitlements=FULL, serial="MAL-1")
    body = change(json.loads(good.split("\n\n", 1)[1]), today)
    if isinstance(body, dict | list):
        body = _json(body)
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    return sign_body(body, vendor_key)


def _tables():
    return (
        list(LicenseFile.objects.order_by("pk").values_list("serial", "replaced_at")),
        LicenseFile.objects.count(),
        Entitlement.objects.count(),
        Server.objects.count(),
    )


def _through_the_service(data, tmp_path, client):
    with pytest.raises(LicenseFileError) as refused:
        license_file_import(text=data)
    assert refused.value.reason == "malformed"
    return refused.value.message


def _through_the_command(data, tmp_path, client):
    path = tmp_path / "bad.lic"
    path.write_bytes(data)
    with pytest.raises(CommandError) as refused:
        call_command("import_license", str(path))
    message = str(refused.value)
    assert message.startswith(f"{path} was refused (malformed): ")
    return message


def _through_the_admin(data, tmp_path, client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/licenses/licensefile/install/",
        {"file": SimpleUploadedFile("bad.lic", data), "server": ""},
    )
    assert response.status_code == 200
    [error] = response.context["form"].errors["file"]
    assert html.unescape(error) in html.unescape(response.content.decode())
    return error


@pytest.fixture(
    params=[_through_the_service, _through_the_command, _through_the_admin],
    ids=["service", "command", "admin"],
)
def install(request):
    return request.param


@pytest.mark.parametrize("change, words", CASES)
def test_malformed_file_is_refused_in_one_line_and_changes_nothing(
    vendor_key, tmp_path, client, install, change, words
):
    license_file_import(
        text=license_text(vendor_key, server_id="CIC-MAL", entitlements=FULL, serial="MAL-0")
    )
    data = _bad_file(vendor_key, change)
    before = _tables()
    message = install(data, tmp_path, client)
    assert words in message
    assert "\n" not in message and len(message) < 600
    assert _tables() == before


def test_the_table_has_at_least_forty_files():
    assert len(CASES) >= 40


def test_the_table_starts_from_a_file_that_installs(vendor_key):
    lf = license_file_import(text=_bad_file(vendor_key, lambda data, today: data))
    assert (lf.serial, lf.server.server_id, lf.entitlements.count()) == ("MAL-1", "CIC-MAL", 5)


def test_import_license_reads_no_more_than_the_cap_of_a_50_mb_file(vendor_key, tmp_path):
    good = license_text(vendor_key, server_id="CIC-BIG", entitlements=FULL).encode()
    path = tmp_path / "big.lic"
    with open(path, "wb") as f:
        f.write(good)
        f.truncate(50 * 1024 * 1024)  # padded with NUL bytes, no 50 MB in memory
    with pytest.raises(CommandError, match=r"refused \(malformed\).*over 1 MB"):
        call_command("import_license", str(path))
    assert not LicenseFile.objects.exists() and not Server.objects.exists()


def test_a_file_of_exactly_the_cap_is_read_whole(vendor_key, tmp_path):
    """The cap is a limit, not a truncation: a file at it is judged on all its bytes."""
    good = license_text(vendor_key, server_id="CIC-CAP", entitlements=FULL)
    padded = sign_body(
        (good.split("\n\n", 1)[1] + " " * MAX_FILE_BYTES).encode()[: MAX_FILE_BYTES - 200],
        vendor_key,
    )
    assert len(padded) <= MAX_FILE_BYTES
    (tmp_path / "cap.lic").write_bytes(padded)
    call_command("import_license", str(tmp_path / "cap.lic"))
    assert LicenseFile.objects.installed().filter(server__server_id="CIC-CAP").exists()


def test_a_str_with_a_lone_surrogate_is_refused_not_a_crash():
    with pytest.raises(LicenseFileError, match="not UTF-8"):
        license_file_import(text="IWP-LICENSE 1\n\ud800")
