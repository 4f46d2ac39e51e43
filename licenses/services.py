"""Writes the license decides: installing signed license files, and creating or reactivating an
organization, which the Organization license counts (under the server's row lock)."""

from __future__ import annotations

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from licenses.audit import acting_as
from organizations.models import Organization, Server, User

from .exceptions import LicenseLimitReached, LicenseMissing
from .keys import demo_key_id, trusted_public_keys
from .licensefile import LicenseContent, LicenseFileError, verify
from .models import Entitlement, LicenseFile, LicenseType
from .selectors import entitlement_valid, server_is_marquee_only
from .signals import license_installed


def license_file_verify(
    *, text: str | bytes, expected_server_id: str | None = None
) -> tuple[LicenseContent, str]:
    """Every rule the import checks, without writing, as of today (the server's time zone): the
    file's content and signing key id.

    Raises LicenseFileError (malformed, unknown_key, demo_key, bad_signature, wrong_server,
    expired, not_yet_valid, duplicate_serial). The preview calls it at upload and the import
    calls it again at install, so a file is never installed on an earlier verification.
    """
    day = timezone.localdate()
    try:
        content, key_id = verify(text, trusted_public_keys(), day=day)
    except LicenseFileError as exc:
        if exc.reason == "unknown_key" and exc.key_id == demo_key_id():
            raise LicenseFileError(
                "demo_key",
                f"The license file is signed with the public demo key ({exc.key_id}), which "
                "anybody can sign with: it is trusted only on a development machine (DEBUG and "
                "IWP_TRUST_DEMO_KEY on). Install a license file signed by the vendor.",
                key_id=exc.key_id,
            ) from None
        raise
    if expected_server_id is not None and content.server_id != expected_server_id:
        raise LicenseFileError(
            "wrong_server",
            f"License {content.serial} is issued for server {content.server_id}, not for server "
            f"{expected_server_id}. Install it on {content.server_id}, "
            f"or ask for a license for {expected_server_id}.",
        )
    if content.expires_on < day:
        raise LicenseFileError(
            "expired",
            f"License {content.serial} for server {content.server_id} "
            f"expired on {content.expires_on:%Y-%m-%d}. "
            "Ask the vendor for a renewed license file.",
        )
    if content.starts_on > day:
        raise LicenseFileError(
            "not_yet_valid",
            f"License {content.serial} for server {content.server_id} "
            f"is not valid until {content.starts_on:%Y-%m-%d}. "
            "Install it on or after that day.",
        )
    if LicenseFile.objects.filter(serial=content.serial).exists():
        raise _duplicate_serial(content)
    return content, key_id


def _duplicate_serial(content: LicenseContent) -> LicenseFileError:
    return LicenseFileError(
        "duplicate_serial",
        f"License {content.serial} is already installed (serials are used once). "
        "Nothing was changed; ask the vendor for a new file if the license has changed.",
    )


def license_file_import(
    *,
    text: str | bytes,
    acting_user: User | None = None,
    expected_server_id: str | None = None,
) -> LicenseFile:
    """Verify and install a license file, all or nothing; it replaces the server's installed file.

    Raises LicenseFileError as ``license_file_verify`` does. A refused file changes nothing:
    every rule is checked before the first write.
    """
    content, key_id = license_file_verify(text=text, expected_server_id=expected_server_id)
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
            license_installed.send(sender=LicenseFile, server_id=server.pk)
    except IntegrityError:
        # A concurrent import of the same serial won the race.
        raise _duplicate_serial(content) from None
    return license_file


def organization_check_room(
    *, server: Server, is_wallboard: bool = False, day: date | None = None
) -> None:
    """Raise LicenseLimitReached unless one more active organization fits on ``server``.

    A wallboard organization needs no Organization license, only Marquee: its members see the
    wallboard and nothing else (one per server, a unique constraint keeps it so). Writers call
    it holding the server row lock, so racing creators are serialized by PostgreSQL and each
    counts the organizations the others committed. Forms call it without the lock only to show
    the refusal early; the write checks again.
    """
    day = day or timezone.localdate()
    if is_wallboard:
        if entitlement_valid(server=server, license_type=LicenseType.MARQUEE, day=day) is None:
            raise LicenseMissing(
                f"A wallboard organization needs the Marquee license, and server "
                f"{server.server_id} has no valid one. Install a license file with Marquee.",
                server_id=server.server_id,
                license_type=LicenseType.MARQUEE,
            )
        return
    entitlement = entitlement_valid(server=server, license_type=LicenseType.ORGANIZATION, day=day)
    in_use = Organization.objects.counted().filter(server=server).count()
    capacity = entitlement.capacity if entitlement else 0
    if in_use < capacity:
        return
    if entitlement is None:
        marquee = server_is_marquee_only(server=server, day=day)
        detail = (
            "is Marquee-only (no Organization license)"
            if marquee
            else "has no valid Organization license"
        )
        message = (
            f"Server {server.server_id} {detail}: {in_use} of 0 organizations in use. "
            "Install a license file with an Organization entitlement"
            + (
                ", or make this the server's wallboard organization (its members see the "
                "wallboard only)."
                if marquee
                else "."
            )
        )
    else:
        message = (
            f"The Organization license of server {server.server_id} is used up: "
            f"{in_use} of {capacity} organizations in use. "
            "Deactivate an organization or install a license with more organizations."
        )
    raise LicenseLimitReached(
        message,
        server_id=server.server_id,
        license_type=LicenseType.ORGANIZATION,
        in_use=in_use,
        capacity=capacity,
    )


def organization_create(
    *,
    server: Server,
    name: str,
    is_active: bool = True,
    is_wallboard: bool = False,
    acting_user: User | None = None,
    day: date | None = None,
) -> Organization:
    """Create an organization on ``server``; an active one only if its Organization license
    has room (a wallboard organization: if the server has Marquee)."""
    with transaction.atomic(), acting_as(acting_user):
        server = Server.objects.select_for_update().get(pk=server.pk)
        if is_active:
            organization_check_room(server=server, is_wallboard=is_wallboard, day=day)
        organization = Organization(
            server=server, name=name, is_active=is_active, is_wallboard=is_wallboard
        )
        organization.full_clean()
        organization.save()
    return organization


def organization_update(
    *,
    organization: Organization,
    acting_user: User | None = None,
    day: date | None = None,
    **fields,
) -> Organization:
    """Change an organization's name or active flag; reactivating one needs room in the license."""
    with transaction.atomic(), acting_as(acting_user):
        server = Server.objects.select_for_update().get(pk=organization.server_id)
        current = Organization.objects.select_for_update().get(pk=organization.pk)
        if fields.get("is_active") and not current.is_active:
            organization_check_room(server=server, is_wallboard=current.is_wallboard, day=day)
        for name, value in fields.items():
            setattr(current, name, value)
        current.full_clean()
        current.save()
    return current
