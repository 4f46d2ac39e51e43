"""The seat API, /api/v1/ (django-ninja): desktop and device clients check a Concurrent seat out,
keep it with heartbeats and check it in, with the browser login's pools and rules.

Every request carries ``Authorization: Bearer <key>``; a key belongs to one server, and a user,
station or lease of another server is a 404. Requests per key are limited (IWP_API_RATE_LIMIT).
The OpenAPI document is generated from these functions and schemas: /api/v1/openapi.json.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import pghistory
from django.conf import settings
from django.utils import timezone
from ninja import Field, NinjaAPI, Schema, Status
from ninja.security import HttpBearer
from pydantic import field_validator

from licenses.models import Method, license_label
from organizations.models import Organization, User
from seats.models import LeaseSource, ReleaseReason, SeatLease
from seats.selectors import denials_on, license_status_with_usage
from seats.services.clients import ClientCheckoutRefused, client_checkout
from seats.services.leases import lease_heartbeat, lease_release

from .services import api_key_authenticate
from .throttling import KeyRateThrottle


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request, token):
        return api_key_authenticate(token)


api = NinjaAPI(
    title="IWP Licensing seat API",
    version="1",
    description=(
        "Check a Concurrent seat out for a desktop or device client, keep it with heartbeats, "
        "and check it in. Seats, limits and refusals are those of the browser login."
    ),
    urls_namespace="api-v1",
    auth=ApiKeyAuth(),
    throttle=[KeyRateThrottle(settings.IWP_API_RATE_LIMIT)],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


class CheckoutIn(Schema):
    username: str = Field(min_length=1, max_length=150, description="The user taking the seat.")
    client_id: str = Field(
        min_length=1,
        max_length=100,
        description="The client's own stable id; asking again with it returns the same lease.",
    )
    station: str | None = Field(
        default=None, max_length=100, description="The station the client runs at, if any."
    )

    @field_validator("username", "client_id", "station")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        # PostgreSQL stores no NUL in text (pages refuse it too: iwp_licensing.input_guard).
        if value is not None and "\x00" in value:
            raise ValueError("must not contain a NUL character (\\u0000)")
        return value


class SeatOut(Schema):
    id: int
    username: str
    server: str
    organization: str
    license_type: str
    method: str
    acquired_at: datetime
    expires_at: datetime | None = Field(
        description="Concurrent seats: released unless a heartbeat comes before this."
    )
    heartbeat_seconds: int | None = Field(
        description="How often to send a heartbeat (half the lease time); none for Assignable."
    )


class Problem(Schema):
    code: str
    detail: str


class Released(Problem):
    reason: str
    released_at: datetime


class HeartbeatOut(Schema):
    id: int
    expires_at: datetime
    heartbeat_seconds: int


class PoolOut(Schema):
    license_type: str
    license: str
    method: str
    licensed: int
    allowed: int = Field(description="What may be held: the count plus its overage allowance.")
    in_use: int
    available: int
    peak_today: int
    denials_today: int


class UsageOut(Schema):
    server: str
    pools: list[PoolOut]


# Refusals of a check-out that name what is not on the key's server; the others are 409s.
NOT_FOUND = {"unknown_user", "unknown_station"}


def _heartbeat_seconds() -> int:
    return max(settings.IWP_API_LEASE_SECONDS // 2, 1)


def _seat_out(seat, *, user: User, server_id: str) -> dict:
    concurrent = isinstance(seat, SeatLease)
    return {
        "id": seat.pk,
        "username": user.username,
        "server": server_id,
        "organization": Organization.objects.values_list("name", flat=True).get(
            pk=seat.organization_id
        ),
        "license_type": seat.license_type,
        "method": Method.CONCURRENT if concurrent else Method.ASSIGNABLE,
        "acquired_at": seat.acquired_at if concurrent else seat.assigned_at,
        "expires_at": seat.expires_at if concurrent else None,
        "heartbeat_seconds": _heartbeat_seconds() if concurrent else None,
    }


def _api_lease(request, lease_id: int) -> SeatLease | None:
    return SeatLease.objects.filter(
        pk=lease_id, server_id=request.auth.server_id, source=LeaseSource.API
    ).first()


@api.post(
    "/leases",
    response={200: SeatOut, 201: SeatOut, 404: Problem, 409: Problem},
    summary="Check a seat out",
)
def checkout(request, payload: CheckoutIn):
    """Concurrent users take a seat as the browser login does (201; 200 when this client holds
    it already). Assigned users get the seat assigned to them or their station (200). A refusal
    is a 409 with a code and the login's message; a user or station not of the key's server, a
    404."""
    server = request.auth.server
    try:
        with pghistory.context(api_key=request.auth.prefix):
            result = client_checkout(
                server=server,
                username=payload.username,
                client_id=payload.client_id,
                station_name=payload.station,
            )
    except ClientCheckoutRefused as refused:
        status = 404 if refused.code in NOT_FOUND else 409
        return Status(status, {"code": refused.code, "detail": refused.message})
    taken = isinstance(result.seat, SeatLease) and not result.retry
    return Status(
        201 if taken else 200,
        _seat_out(result.seat, user=result.user, server_id=server.server_id),
    )


@api.post(
    "/leases/{lease_id}/heartbeat",
    response={200: HeartbeatOut, 404: Problem, 410: Released},
    summary="Keep a seat",
)
def heartbeat(request, lease_id: int):
    """Move the lease's expiry forward (one UPDATE). A released lease is a 410 saying why."""
    expires_at = lease_heartbeat(lease_id=lease_id, server_id=request.auth.server_id)
    if expires_at is not None:
        return Status(
            200,
            {
                "id": lease_id,
                "expires_at": expires_at,
                "heartbeat_seconds": _heartbeat_seconds(),
            },
        )
    lease = _api_lease(request, lease_id)
    if lease is None:
        return Status(
            404, {"code": "unknown_lease", "detail": f"No seat API lease {lease_id} here."}
        )
    return Status(
        410,
        {
            "code": "released",
            "reason": lease.release_reason,
            "released_at": lease.released_at,
            "detail": f"This seat was released at "
            f"{timezone.localtime(lease.released_at):%Y-%m-%d %H:%M:%S}: "
            f"{lease.get_release_reason_display()}. Check out again.",
        },
    )


@api.delete("/leases/{lease_id}", response={204: None, 404: Problem}, summary="Check a seat in")
def checkin(request, lease_id: int):
    """Give the seat back. Checking in a lease already released changes nothing (204)."""
    lease = _api_lease(request, lease_id)
    if lease is None:
        return Status(
            404, {"code": "unknown_lease", "detail": f"No seat API lease {lease_id} here."}
        )
    if lease.released_at is None:
        with pghistory.context(api_key=request.auth.prefix):
            lease_release(leases=[lease], reason=ReleaseReason.CHECKED_IN)
    return Status(204, None)


@api.get("/usage", response=UsageOut, summary="This server's seat pools")
def usage(request):
    """Each seat pool of the key's server: allowed, in use, available, today's peak and denials."""
    server = request.auth.server
    day = timezone.localdate()
    [status] = license_status_with_usage(servers=[server], day=day)
    denials = Counter()
    for (_s, _o, license_type, method), n in denials_on(day, server_ids=[server.pk]).items():
        denials[(license_type, method)] += n
    pools = []
    for row in status.rows:
        e = row.entitlement
        if not e.method or row.licensed is None:
            continue
        pools.append(
            {
                "license_type": e.license_type,
                "license": license_label(e.license_type),
                "method": e.method,
                "licensed": row.licensed,
                "allowed": row.capacity or 0,
                "in_use": row.in_use or 0,
                "available": max((row.capacity or 0) - (row.in_use or 0), 0),
                "peak_today": max(row.peak_today or 0, row.in_use or 0),
                "denials_today": denials.get((e.license_type, e.method), 0),
            }
        )
    return {"server": server.server_id, "pools": pools}
