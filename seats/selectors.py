"""Reads about seats in use. Every function runs a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db.models import Count

from licenses.models import LicenseType, Method
from licenses.selectors import ServerLicenseStatus, license_status
from organizations.models import Organization, Server

from .models import SeatAssignment, SeatLease


def usage_by_server(*, server_ids=None) -> dict[tuple[int, str, str], int]:
    """Seats in use now, keyed (server pk, license type, method); three GROUP BY queries in all.

    Organization: active organizations. Access licenses: active Assignable seats (users and
    stations) and active Concurrent seats.
    """
    usage: dict[tuple[int, str, str], int] = defaultdict(int)
    orgs = Organization.objects.active()
    assignments = SeatAssignment.objects.active()
    leases = SeatLease.objects.active()
    if server_ids is not None:
        orgs = orgs.filter(server_id__in=server_ids)
        assignments = assignments.filter(server_id__in=server_ids)
        leases = leases.filter(server_id__in=server_ids)
    for row in orgs.values("server_id").annotate(n=Count("id")).order_by():
        usage[(row["server_id"], LicenseType.ORGANIZATION.value, "")] = row["n"]
    for qs, method in ((assignments, Method.ASSIGNABLE.value), (leases, Method.CONCURRENT.value)):
        for row in qs.values("server_id", "license_type").annotate(n=Count("id")).order_by():
            usage[(row["server_id"], row["license_type"], method)] = row["n"]
    return usage


def license_status_with_usage(
    *, servers=None, day: date | None = None
) -> list[ServerLicenseStatus]:
    """License status (licenses.selectors.license_status) with the seats and organizations in use now."""
    server_list = list(servers if servers is not None else Server.objects.all())
    usage = usage_by_server(server_ids=[s.pk for s in server_list])
    return license_status(servers=server_list, day=day, usage=usage)
