"""Shared set-up for the seat tests: a licensed server, an organization and its members."""

from organizations.models import Membership
from seats.models import SeatPool
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

PASSWORD = "correct horse battery"


def member(organization, username, *, role=Membership.Role.AGENT, method="concurrent", **extra):
    user = UserFactory(username=username, license_method=method, **extra)
    MembershipFactory(user=user, organization=organization, role=role)
    return user


def setup_server(licensed_server, entitlements, server_id="CIC-SEATS"):
    server = licensed_server(
        server_id=server_id, entitlements=["server", "organization=5", *entitlements]
    )
    organization = OrganizationFactory(server=server, name="Northwind")
    return server, organization


def pool_in_use(server, license_type, method):
    return (
        SeatPool.objects.filter(server=server, license_type=license_type, method=method)
        .values_list("in_use", flat=True)
        .first()
        or 0
    )


def login(client, username, station=""):
    return client.post(
        "/accounts/login/", {"username": username, "password": PASSWORD, "station": station}
    )


def peak_written_by_another_process(organization, n, day):
    """What a process that wrote no peak today writes after a take leaves ``n`` Agent Concurrent
    seats in use on the organization's server, all of them the organization's."""
    from seats.services import pools

    pools._peak_written.clear()
    pools.daily_peak_raise(
        day=day,
        server_id=organization.server_id,
        license_type="agent",
        method="concurrent",
        server_in_use=n,
        capacity=None,
        organization_in_use={organization.pk: n},
    )
