"""Installing signed license files."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from iwp_licensing.audit import acting_as
from organizations.models import Server

from ..keys import trusted_public_keys
from ..licensefile import LicenseFileError, verify
from ..models import Entitlement, LicenseFile


def license_file_import(
    *,
    text: str | bytes,
    acting_user=None,
    expected_server_id: str | None = None,
    day: date | None = None,
) -> LicenseFile:
    """Verify and install a license file, all or nothing; it replaces the server's installed file.

    Raises LicenseFileError (malformed, unknown_key, bad_signature, wrong_server, expired,
    not_yet_valid, duplicate_serial). A refused file changes nothing.
    """
    day = day or timezone.localdate()
    content, key_id = verify(text, trusted_public_keys())
    if expected_server_id is not None and content.server_id != expected_server_id:
        raise LicenseFileError(
            "wrong_server",
            f"License {content.serial} is issued for server {content.server_id}, not for server "
            f"{expected_server_id}. Install it on {content.server_id}, or ask for a license for {expected_server_id}.",
        )
    if content.expires_on < day:
        raise LicenseFileError(
            "expired",
            f"License {content.serial} for server {content.server_id} expired on {content.expires_on:%Y-%m-%d}. "
            "Ask the vendor for a renewed license file.",
        )
    if content.starts_on > day:
        raise LicenseFileError(
            "not_yet_valid",
            f"License {content.serial} for server {content.server_id} is not valid until {content.starts_on:%Y-%m-%d}. "
            "Install it on or after that day.",
        )
    duplicate = LicenseFileError(
        "duplicate_serial",
        f"License {content.serial} is already installed (serials are used once). "
        "Nothing was changed; ask the vendor for a new file if the license has changed.",
    )
    if LicenseFile.objects.filter(serial=content.serial).exists():
        raise duplicate
    text = text.decode() if isinstance(text, bytes) else text
    try:
        with transaction.atomic(), acting_as(acting_user):
            server, _ = Server.objects.get_or_create(server_id=content.server_id)
            server = Server.objects.select_for_update().get(pk=server.pk)
            now = timezone.now()
            for previous in LicenseFile.objects.installed().filter(server=server):
                previous.replaced_at = now
                previous.save(update_fields=["replaced_at"])
            license_file = LicenseFile.objects.create(
                server=server,
                serial=content.serial,
                customer=content.customer,
                issued_on=content.issued_on,
                key_id=key_id,
                content=text,
                installed_by=acting_user,
            )
            for spec in content.entitlements:
                Entitlement.objects.create(
                    license_file=license_file,
                    license_type=spec.license_type,
                    method=spec.method,
                    quantity=spec.quantity,
                    overage_percent=spec.overage_percent,
                    starts_on=spec.starts_on,
                    expires_on=spec.expires_on,
                )
    except IntegrityError:
        # A concurrent import of the same serial won the race.
        raise duplicate from None
    return license_file
