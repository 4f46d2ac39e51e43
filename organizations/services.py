"""Writes to the tenancy tree. The Organization count is enforced here, under a row lock."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from iwp_licensing.audit import acting_as
from seats.exceptions import LicenseLimitReached
from seats.models import LicenseType
from seats.selectors import entitlement_valid, server_is_marquee_only

from .models import Organization, Server


def organization_check_room(*, server: Server, day: date | None = None) -> None:
    """Raise LicenseLimitReached unless one more active organization fits on ``server``.

    Writers call it holding the server row lock, so racing creators are serialized by
    PostgreSQL and each counts the organizations the others committed. Forms call it without
    the lock only to show the refusal early; the write checks again.
    """
    day = day or timezone.localdate()
    entitlement = entitlement_valid(server=server, license_type=LicenseType.ORGANIZATION, day=day)
    in_use = Organization.objects.active().filter(server=server).count()
    capacity = entitlement.capacity if entitlement else 0
    if in_use < capacity:
        return
    if entitlement is None:
        detail = (
            "is Marquee-only (no Organization license)"
            if server_is_marquee_only(server=server, day=day)
            else "has no valid Organization license"
        )
        message = (
            f"Server {server.server_id} {detail}: {in_use} of 0 organizations in use. "
            "Install a license file with an Organization entitlement."
        )
    else:
        message = (
            f"The Organization license of server {server.server_id} is used up: {in_use} of {capacity} "
            "organizations in use. Deactivate an organization or install a license with more organizations."
        )
    raise LicenseLimitReached(
        message,
        server_id=server.server_id,
        license_type=LicenseType.ORGANIZATION,
        in_use=in_use,
        capacity=capacity,
    )


def organization_create(
    *, server: Server, name: str, is_active: bool = True, acting_user=None, day: date | None = None
) -> Organization:
    """Create an organization on ``server``; an active one only if its Organization license has room."""
    with transaction.atomic(), acting_as(acting_user):
        server = Server.objects.select_for_update().get(pk=server.pk)
        if is_active:
            organization_check_room(server=server, day=day)
        organization = Organization(server=server, name=name, is_active=is_active)
        organization.full_clean()
        organization.save()
    return organization


def organization_update(
    *, organization: Organization, acting_user=None, day: date | None = None, **fields
) -> Organization:
    """Change an organization's name or active flag; reactivating one needs room in the license."""
    with transaction.atomic(), acting_as(acting_user):
        server = Server.objects.select_for_update().get(pk=organization.server_id)
        current = Organization.objects.select_for_update().get(pk=organization.pk)
        if fields.get("is_active") and not current.is_active:
            organization_check_room(server=server, day=day)
        for name, value in fields.items():
            setattr(current, name, value)
        current.full_clean()
        current.save()
    return current
