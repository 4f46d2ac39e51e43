"""Portal test data: a licensed server, an organization, supervisors and agents holding seats."""

import pytest
from django.utils import timezone

from organizations.models import Membership, User
from seats.models import SeatAssignment, SeatLease
from seats.rules import required_license
from tests.factories import MembershipFactory, OrganizationFactory, StationFactory, UserFactory

from ..notifications.conftest import smtp_server  # noqa: F401  (fixture)


def queries(client, url) -> int:
    """How many queries one GET of ``url`` runs (it must answer 200)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, url
    return len(captured)


def assign_seat(*, user=None, station=None, organization, license_type):
    return SeatAssignment.objects.create(
        server=organization.server,
        organization=organization,
        license_type=license_type,
        user=user,
        station=station,
    )


def lease_seat(*, user, organization, license_type, session_key="", last_seen_at=None):
    return SeatLease.objects.create(
        server=organization.server,
        organization=organization,
        license_type=license_type,
        user=user,
        session_key=session_key,
        last_seen_at=last_seen_at or timezone.now(),
    )


@pytest.fixture
def org(licensed_server):
    return OrganizationFactory(server=licensed_server(), name="Acme Support")


@pytest.fixture
def make_member():
    """A member of ``organization`` with ``role``; ``seat`` gives them the seat
    their method requires, ``withheld`` the portal features an administrator withheld."""

    def make(
        organization,
        *,
        role=Membership.Role.SUPERVISOR,
        method=User.LicenseMethod.ASSIGNED,
        seat=True,
        withheld=(),
        username=None,
    ):
        kwargs = {"username": username} if username else {}
        user = UserFactory(license_method=method, **kwargs)
        MembershipFactory(
            user=user, organization=organization, role=role, withheld_features=list(withheld)
        )
        license_type = required_license([role])
        if seat:
            if method == User.LicenseMethod.CONCURRENT:
                lease_seat(user=user, organization=organization, license_type=license_type)
            else:
                assign_seat(user=user, organization=organization, license_type=license_type)
        return user

    return make


@pytest.fixture
def supervisor(org, make_member):
    return make_member(org, username="sam.supervisor")


@pytest.fixture
def populate():
    """Add ``n`` agents to an organization, a third of them Concurrent and logged in,
    a third assigned."""

    def populate(organization, n, *, prefix="agent"):
        users = User.objects.bulk_create(
            [
                User(
                    username=f"{prefix}{organization.pk}-{i:05d}",
                    email=f"{prefix}{i}@example.com",
                    license_method=User.LicenseMethod.CONCURRENT
                    if i % 3 == 0
                    else User.LicenseMethod.ASSIGNED,
                )
                for i in range(n)
            ]
        )
        Membership.objects.bulk_create(
            [Membership(user=u, organization=organization, role="agent") for u in users]
        )
        now = timezone.now()
        SeatLease.objects.bulk_create(
            [
                SeatLease(
                    server=organization.server,
                    organization=organization,
                    license_type="agent",
                    user=u,
                    last_seen_at=now,
                )
                for i, u in enumerate(users)
                if i % 3 == 0
            ]
        )
        SeatAssignment.objects.bulk_create(
            [
                SeatAssignment(
                    server=organization.server,
                    organization=organization,
                    license_type="agent",
                    user=u,
                )
                for i, u in enumerate(users)
                if i % 3 == 1
            ]
        )
        stations = [
            StationFactory(organization=organization, name=f"{prefix}-station-{i}")
            for i in range(min(n // 10, 5))
        ]
        for s in stations:
            assign_seat(station=s, organization=organization, license_type="agent")
        return users

    return populate
