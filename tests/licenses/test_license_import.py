"""Installing signed license files: all-or-nothing, and every bad file refused
with a clear reason."""

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.utils import timezone

from licenses.licensefile import LicenseFileError
from licenses.models import Entitlement, LicenseFile
from licenses.services import license_file_import, license_file_verify
from organizations.models import Server
from tests.concurrency import after_racer
from tests.factories import license_text
from tests.history import history

pytestmark = pytest.mark.django_db

FULL = [
    "server",
    "organization=10",
    "supervisor:assignable=5",
    "agent:concurrent=50+10%",
    "marquee",
]


def _snapshot():
    return (
        list(LicenseFile.objects.order_by("pk").values_list("serial", "replaced_at")),
        Entitlement.objects.count(),
        Server.objects.count(),
    )


def test_import_creates_server_and_entitlements(vendor_key):
    lf = license_file_import(text=license_text(vendor_key, server_id="CIC-NEW", entitlements=FULL))
    assert lf.server.server_id == "CIC-NEW"
    lines = {
        (e.license_type, e.method): (e.quantity, e.overage_percent) for e in lf.entitlements.all()
    }
    assert lines == {
        ("server", ""): (None, 0),
        ("organization", ""): (10, 0),
        ("supervisor", "assignable"): (5, 0),
        ("agent", "concurrent"): (50, 10),
        ("marquee", ""): (None, 0),
    }
    assert lf.entitlements.get(license_type="agent").capacity == 55


def test_new_license_replaces_the_installed_one_and_keeps_it_as_history(vendor_key):
    first = license_file_import(text=license_text(vendor_key, server_id="CIC-A", entitlements=FULL))
    second = license_file_import(
        text=license_text(vendor_key, server_id="CIC-A", entitlements=["server", "organization=2"])
    )
    first.refresh_from_db()
    assert first.replaced_at is not None
    assert list(LicenseFile.objects.installed().filter(server__server_id="CIC-A")) == [second]
    assert list(
        Entitlement.objects.installed()
        .values_list("license_type", flat=True)
        .order_by("license_type")
    ) == [
        "organization",
        "server",
    ]


def _tamper(text, old, new):
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    "make_bad, reason, words",
    [
        (lambda t, k: "not a license at all", "malformed", "malformed"),
        (lambda t, k: t.replace("IWP-LICENSE 1", "IWP-LICENSE 9"), "malformed", "must start with"),
        (
            lambda t, k: _tamper(t, '"quantity": 10', '"quantity": 99'),
            "bad_signature",
            "does not verify",
        ),
        (
            lambda t, k: _tamper(t, '"customer": "Test Customer"', '"customer": "Test Customes"'),
            "bad_signature",
            "changed after",
        ),
        (
            lambda t, k: t[:-2] + ("X" if t[-2] != "X" else "Y") + t[-1],
            "bad_signature",
            "does not verify",
        ),
        (
            lambda t, k: license_text(
                Ed25519PrivateKey.generate(), server_id="CIC-A", entitlements=FULL
            ),
            "unknown_key",
            "not trusted",
        ),
    ],
    ids=[
        "garbage",
        "bad-header",
        "quantity-changed",
        "one-letter-changed",
        "last-byte-changed",
        "unknown-key",
    ],
)
def test_bad_files_are_refused_and_change_nothing(vendor_key, make_bad, reason, words):
    installed = license_file_import(
        text=license_text(vendor_key, server_id="CIC-A", entitlements=FULL)
    )
    good = license_text(vendor_key, server_id="CIC-A", entitlements=FULL)
    before = _snapshot()
    with pytest.raises(LicenseFileError) as exc:
        license_file_import(text=make_bad(good, vendor_key))
    assert exc.value.reason == reason
    assert words in exc.value.message
    assert _snapshot() == before
    assert LicenseFile.objects.installed().get(server__server_id="CIC-A") == installed


def test_every_single_byte_change_in_the_body_is_refused(vendor_key):
    good = license_text(vendor_key, server_id="CIC-A", entitlements=["server", "organization=1"])
    body_start = good.index("\n\n") + 2
    refused = 0
    for i in range(body_start, len(good)):
        bad = good[:i] + ("#" if good[i] != "#" else "$") + good[i + 1 :]
        with pytest.raises(LicenseFileError):
            license_file_import(text=bad)
        refused += 1
    assert refused == len(good) - body_start
    assert LicenseFile.objects.count() == 0


def test_expired_file_is_refused(vendor_key):
    today = timezone.localdate()
    text = license_text(
        vendor_key,
        server_id="CIC-A",
        entitlements=FULL,
        starts_on=today - timedelta(days=400),
        expires_on=today - timedelta(days=1),
    )
    with pytest.raises(LicenseFileError) as exc:
        license_file_import(text=text)
    assert exc.value.reason == "expired"
    serial = exc.value.message.split()[1]
    assert exc.value.message == (
        f"License {serial} for server CIC-A expired on {today - timedelta(days=1):%Y-%m-%d}. "
        "Ask the vendor for a renewed license file."
    )
    assert LicenseFile.objects.count() == 0 and Server.objects.count() == 0


def test_not_yet_valid_file_is_refused(vendor_key):
    today = timezone.localdate()
    text = license_text(
        vendor_key, server_id="CIC-A", entitlements=FULL, starts_on=today + timedelta(days=3)
    )
    with pytest.raises(LicenseFileError) as exc:
        license_file_import(text=text)
    assert exc.value.reason == "not_yet_valid"
    serial = exc.value.message.split()[1]
    assert exc.value.message == (
        f"License {serial} for server CIC-A is not valid until "
        f"{today + timedelta(days=3):%Y-%m-%d}. Install it on or after that day."
    )
    assert LicenseFile.objects.count() == 0


def test_serial_already_installed_is_refused(vendor_key):
    text = license_text(vendor_key, server_id="CIC-A", entitlements=FULL, serial="SER-1")
    license_file_import(text=text)
    before = _snapshot()
    again = license_text(vendor_key, server_id="CIC-A", entitlements=["server"], serial="SER-1")
    with pytest.raises(LicenseFileError) as exc:
        license_file_import(text=again)
    assert exc.value.reason == "duplicate_serial"
    assert exc.value.message == (
        "License SER-1 is already installed (serials are used once). "
        "Nothing was changed; ask the vendor for a new file if the license has changed."
    )
    assert _snapshot() == before
    with pytest.raises(LicenseFileError) as previewed:  # the upload's preview says so already
        license_file_verify(text=again)
    assert (previewed.value.reason, previewed.value.message) == (
        exc.value.reason,
        exc.value.message,
    )


def test_the_file_records_who_installed_it(vendor_key, admin_user):
    text = license_text(vendor_key, server_id="CIC-A", entitlements=FULL)
    assert license_file_import(text=text, acting_user=admin_user).installed_by == admin_user
    assert LicenseFile.objects.get().installed_by == admin_user


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_one_file_at_once_install_it_once(vendor_key):
    """Both verify the file before either has installed it; the second waits for the first's lock
    on the server, then fails the serial's unique constraint: refused as a file already
    installed, and the first's file stays the server's, whole."""
    text = license_text(vendor_key, server_id="CIC-A", entitlements=FULL, serial="SER-RACE")
    Server.objects.create(server_id="CIC-A")  # the lock the second waits for
    refused = after_racer(
        lambda: license_file_import(text=text), lambda: license_file_import(text=text)
    )
    assert isinstance(refused, LicenseFileError), refused
    assert (refused.reason, refused.message) == (
        "duplicate_serial",
        "License SER-RACE is already installed (serials are used once). "
        "Nothing was changed; ask the vendor for a new file if the license has changed.",
    )
    installed = LicenseFile.objects.get()
    assert (installed.serial, installed.replaced_at) == ("SER-RACE", None)
    assert installed.entitlements.count() == 5


def test_file_for_another_server_is_refused_when_a_server_is_expected(vendor_key):
    text = license_text(vendor_key, server_id="CIC-B", entitlements=FULL)
    with pytest.raises(LicenseFileError) as exc:
        license_file_import(text=text, expected_server_id="CIC-A")
    assert exc.value.reason == "wrong_server"
    assert "CIC-B" in exc.value.message and "CIC-A" in exc.value.message
    assert LicenseFile.objects.count() == 0


def test_rotated_keys_both_verify(settings, vendor_key):
    from licenses.licensefile import public_key_b64

    new_key = Ed25519PrivateKey.generate()
    settings.IWP_LICENSE_PUBLIC_KEYS = [
        public_key_b64(vendor_key.public_key()),
        public_key_b64(new_key.public_key()),
    ]
    license_file_import(text=license_text(vendor_key, server_id="CIC-A", entitlements=FULL))
    lf = license_file_import(text=license_text(new_key, server_id="CIC-A", entitlements=FULL))
    assert lf.is_installed


def test_import_is_recorded_in_the_audit_trail_with_the_actor(vendor_key):
    from tests.factories import UserFactory

    admin = UserFactory(username="root-admin", is_staff=True, is_superuser=True)
    lf = license_file_import(
        text=license_text(vendor_key, server_id="CIC-A", entitlements=FULL), acting_user=admin
    )
    [entry] = history(lf)
    assert (entry.label, entry.actor) == ("insert", "root-admin")
    assert history(lf.entitlements.get(license_type="server"))[0].actor == "root-admin"


def test_a_signed_file_granting_more_than_the_maximum_is_refused_and_changes_nothing(vendor_key):
    """Made by hand (issue_license refuses to sign it), with a valid signature."""
    from licenses.licensefile import EntitlementSpec

    text = license_text(
        vendor_key,
        server_id="CIC-BIG",
        entitlements=["server", EntitlementSpec("agent", "concurrent", 25_000_000)],
    )
    with pytest.raises(LicenseFileError) as refused:
        license_file_import(text=text)
    assert refused.value.reason == "malformed"
    assert "grants 25,000,000, above the maximum of 10,000,000 per entitlement" in str(
        refused.value
    )
    assert not Server.objects.filter(server_id="CIC-BIG").exists()
