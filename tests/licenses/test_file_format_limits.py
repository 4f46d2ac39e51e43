"""Every limit of the license file format, from both sides: a file exactly at a limit installs
and grants what it says; one step past it is refused naming the field (test_malformed_files.py
has the refusals of far-off values on every install path)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from licenses.content import (
    IDENTIFIER_MAX_LENGTHS,
    MAX_OVERAGE_PERCENT,
    MAX_QUANTITY,
    EntitlementSpec,
)
from licenses.licensefile import LicenseFileError, sign_body
from licenses.models import Entitlement, LicenseFile
from licenses.services import license_file_import
from tests.factories import license_text

pytestmark = pytest.mark.django_db

REQUIRED = ["serial", "customer", "server_id", "issued", "starts", "expires", "entitlements"]


def _body(vendor_key, **kwargs):
    text = license_text(vendor_key, **{"server_id": "CIC-LIMIT", **kwargs})
    return json.loads(text.split("\n\n", 1)[1])


def _signed(vendor_key, data) -> bytes:
    return sign_body((json.dumps(data, indent=2, sort_keys=True) + "\n").encode(), vendor_key)


def _refused(data) -> str:
    with pytest.raises(LicenseFileError) as refused:
        license_file_import(text=data)
    assert refused.value.reason == "malformed"
    assert not LicenseFile.objects.exists() and not Entitlement.objects.exists()
    return refused.value.message


def _capacity(license_file, license_type="agent"):
    return license_file.entitlements.get(license_type=license_type).capacity


@pytest.mark.parametrize("key", REQUIRED)
def test_a_file_without_a_required_key_is_refused_naming_it(vendor_key, key):
    data = _body(vendor_key, entitlements=["server", "agent:concurrent=1"])
    del data[key]
    assert f"'{key}' is missing" in _refused(_signed(vendor_key, data))


@pytest.mark.parametrize(
    "body", [[], "a string", 42, None], ids=["list", "string", "number", "null"]
)
def test_a_body_that_is_not_an_object_is_refused(vendor_key, body):
    assert "the body is not a JSON object" in _refused(_signed(vendor_key, body))


@pytest.mark.parametrize(
    "quantity, shown",
    [("5", "'5'"), (True, "True"), (-1, None)],
    ids=["string", "bool", "negative"],
)
def test_a_quantity_that_is_not_a_whole_number_of_0_or_more_is_refused(vendor_key, quantity, shown):
    data = _body(vendor_key, entitlements=["server", "agent:concurrent=1"])
    data["entitlements"][1]["quantity"] = quantity
    message = _refused(_signed(vendor_key, data))
    assert "entitlement 2 (agent)" in message
    if shown is None:
        assert "needs a whole quantity of 0 or more" in message
    else:
        assert f"quantity is {shown}, not a whole number" in message


def test_overage_at_the_maximum_installs_and_one_percent_more_is_refused(vendor_key):
    at_limit = EntitlementSpec("agent", "concurrent", 10, overage_percent=MAX_OVERAGE_PERCENT)
    over = EntitlementSpec("agent", "concurrent", 10, overage_percent=MAX_OVERAGE_PERCENT + 1)
    assert MAX_OVERAGE_PERCENT == 1000
    message = _refused(
        license_text(vendor_key, server_id="CIC-LIMIT", entitlements=["server", over])
    )
    assert "entitlement 2 (agent) has an overage_percent outside 0..1000" in message
    installed = license_file_import(
        text=license_text(vendor_key, server_id="CIC-LIMIT", entitlements=["server", at_limit])
    )
    assert _capacity(installed) == 110  # 10 seats and 1000% more


def test_a_negative_overage_is_refused_and_none_grants_the_quantity(vendor_key):
    negative = EntitlementSpec("agent", "concurrent", 10, overage_percent=-1)
    assert "overage_percent outside 0..1000" in _refused(
        license_text(vendor_key, server_id="CIC-LIMIT", entitlements=["server", negative])
    )
    installed = license_file_import(
        text=license_text(
            vendor_key, server_id="CIC-LIMIT", entitlements=["server", "agent:concurrent=10"]
        )
    )
    assert _capacity(installed) == 10


def test_the_largest_quantity_installs_and_one_more_is_refused(vendor_key):
    assert "grants 10,000,001, above the maximum of 10,000,000 per entitlement" in _refused(
        license_text(
            vendor_key,
            server_id="CIC-LIMIT",
            entitlements=["server", EntitlementSpec("agent", "concurrent", MAX_QUANTITY + 1)],
        )
    )
    installed = license_file_import(
        text=license_text(
            vendor_key,
            server_id="CIC-LIMIT",
            entitlements=["server", EntitlementSpec("agent", "concurrent", MAX_QUANTITY)],
        )
    )
    assert _capacity(installed) == 10_000_000


def test_a_quantity_of_zero_installs_and_grants_no_seat(vendor_key):
    installed = license_file_import(
        text=license_text(
            vendor_key, server_id="CIC-LIMIT", entitlements=["server", "agent:concurrent=0"]
        )
    )
    assert _capacity(installed) == 0


@pytest.mark.parametrize("field", ["serial", "customer", "server_id"])
def test_a_name_as_long_as_its_column_installs_and_one_character_more_is_refused(vendor_key, field):
    limit = IDENTIFIER_MAX_LENGTHS[field]
    data = _body(vendor_key, entitlements=["server"])
    data[field] = "X" * (limit + 1)
    message = _refused(_signed(vendor_key, data))
    assert f"'{field}' has {limit + 1:,} characters, more than the {limit} allowed" in message
    data[field] = "X" * limit
    installed = license_file_import(text=_signed(vendor_key, data))
    assert (
        len(
            {
                "serial": installed.serial,
                "customer": installed.customer,
                "server_id": installed.server.server_id,
            }[field]
        )
        == limit
    )


def test_an_entitlement_valid_exactly_the_files_days_installs_and_a_day_more_is_refused(vendor_key):
    today = timezone.localdate()
    starts, expires = today - timedelta(days=1), today + timedelta(days=30)

    def line(**dates):
        return EntitlementSpec("agent", "concurrent", 1, **dates)

    for dates in (
        {"starts_on": starts - timedelta(days=1)},
        {"expires_on": expires + timedelta(days=1)},
    ):
        message = _refused(
            license_text(
                vendor_key,
                server_id="CIC-LIMIT",
                entitlements=["server", line(**dates)],
                starts_on=starts,
                expires_on=expires,
            )
        )
        assert "outside the file's own validity" in message
    installed = license_file_import(
        text=license_text(
            vendor_key,
            server_id="CIC-LIMIT",
            entitlements=["server", line(starts_on=starts, expires_on=expires)],
            starts_on=starts,
            expires_on=expires,
        )
    )
    entitlement = installed.entitlements.get(license_type="agent")
    assert (entitlement.starts_on, entitlement.expires_on) == (starts, expires)


def test_an_entitlement_of_one_day_installs_and_one_that_ends_before_it_starts_is_refused(
    vendor_key,
):
    today = timezone.localdate()
    backwards = EntitlementSpec(
        "agent", "concurrent", 1, starts_on=today, expires_on=today - timedelta(days=1)
    )
    assert "entitlement 2 (agent) starts after it expires" in _refused(
        license_text(vendor_key, server_id="CIC-LIMIT", entitlements=["server", backwards])
    )
    one_day = EntitlementSpec("agent", "concurrent", 1, starts_on=today, expires_on=today)
    installed = license_file_import(
        text=license_text(vendor_key, server_id="CIC-LIMIT", entitlements=["server", one_day])
    )
    assert installed.entitlements.get(license_type="agent").expires_on == today


def test_a_file_issued_today_installs_and_one_issued_tomorrow_is_refused(vendor_key):
    today = timezone.localdate()
    assert "is in the future" in _refused(
        license_text(
            vendor_key,
            server_id="CIC-LIMIT",
            entitlements=["server"],
            issued_on=today + timedelta(days=1),
        )
    )
    installed = license_file_import(
        text=license_text(
            vendor_key, server_id="CIC-LIMIT", entitlements=["server"], issued_on=today
        )
    )
    assert installed.issued_on == today
