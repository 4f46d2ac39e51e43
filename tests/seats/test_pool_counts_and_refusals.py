"""What seats/services/pools.py tells: a pool's seats in use as committed, read for the one
server, license and method asked; and the refusal's figures, which every seat path carries on
(the admin's bulk assignment, a membership change, the seat API's check-out)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from licenses.exceptions import LicenseLimitReached
from seats.models import DailySeatUsage
from seats.services.assignments import seat_assign, seat_assign_bulk, user_seats_release
from seats.services.leases import lease_acquire
from seats.services.login import client_seats_take
from seats.services.pools import pool_in_use, refusal

from .seat_helpers import member, peak_written_by_another_process, setup_server

pytestmark = pytest.mark.django_db


def test_a_pools_count_is_the_one_of_its_server_license_and_method(licensed_server):
    entitlements = ["agent:assignable=3", "supervisor:assignable=3", "agent:concurrent=3"]
    one, north = setup_server(licensed_server, entitlements, server_id="CIC-ONE")
    two, south = setup_server(licensed_server, entitlements, server_id="CIC-TWO")
    seat_assign_bulk(
        users=[member(north, f"n{i}", method="assigned") for i in range(2)]
        + [member(north, "boss", method="assigned", role="supervisor")]
        + [member(south, "s0", method="assigned")]
    )
    client_seats_take(user=member(south, "bob"), server_id=two.pk, client_id="pc-1")

    def count(server, license_type, method):
        return pool_in_use(server_id=server.pk, license_type=license_type, method=method)

    assert count(one, "agent", "assignable") == 2
    assert count(one, "supervisor", "assignable") == 1
    assert count(one, "agent", "concurrent") == 0
    assert count(two, "agent", "assignable") == 1
    assert count(two, "agent", "concurrent") == 1


def test_a_refused_check_out_carries_the_pools_server_license_method_and_figures(
    licensed_server,
):
    server, organization = setup_server(licensed_server, ["agent:concurrent=1"])
    client_seats_take(user=member(organization, "ann"), server_id=server.pk, client_id="a")
    with pytest.raises(LicenseLimitReached) as refused:
        client_seats_take(user=member(organization, "bob"), server_id=server.pk, client_id="b")
    full = refused.value
    assert full.message == (
        "No Agent access (IWP_Agent) Concurrent seat is free on server CIC-SEATS: 1 of 1 in use. "
        "Try again when someone logs out."
    )
    assert (full.server_id, full.license_type, full.method, full.code) == (
        "CIC-SEATS",
        "agent",
        "concurrent",
        "pool_full",
    )
    assert (full.in_use, full.capacity) == (1, 1)


def test_a_refusal_without_advice_ends_with_its_count():
    one = refusal(
        server_name="CIC-SEATS", license_type="agent", method="assignable", in_use=2, capacity=2
    )
    assert one.message == (
        "No Agent access (IWP_Agent) Assignable seat is free on server CIC-SEATS: 2 of 2 in use."
    )


def test_the_released_seats_returned_are_the_rows_as_saved(licensed_server, admin_user):
    """What an administrator's release hands back (the admin's message, the audit) is what the
    release wrote: who, when, why, and whose seat of which organization."""
    server, organization = setup_server(
        licensed_server, ["agent:concurrent=2", "agent:assignable=2"]
    )
    ann, bob = member(organization, "ann"), member(organization, "bob", method="assigned")
    lease_acquire(user=ann, session_key="s-ann")
    seat_assign(user=bob)
    released = user_seats_release(user=ann, acting_user=admin_user) + user_seats_release(
        user=bob, acting_user=admin_user
    )
    fields = (
        "pk",
        "server_id",
        "organization_id",
        "license_type",
        "user_id",
        "released_at",
        "release_reason",
        "released_by_id",
    )
    assert [[getattr(s, f) for f in fields] for s in released] == [
        [getattr(type(s).objects.get(pk=s.pk), f) for f in fields] for s in released
    ]
    assert [(s.user.username, s.organization_id, s.released_by) for s in released] == [
        ("ann", organization.pk, admin_user),
        ("bob", organization.pk, admin_user),
    ]
    assert released[0].session_key == "s-ann" and released[1].station_id is None


def test_a_lower_count_written_by_another_process_never_lowers_the_days_peak(licensed_server):
    server, organization = setup_server(licensed_server, ["agent:concurrent=5"])
    day = timezone.localdate()

    def write(n):
        peak_written_by_another_process(organization, n, day)

    write(3)
    write(1)
    assert dict(DailySeatUsage.objects.filter(day=day).values_list("organization_id", "peak")) == {
        None: 3,
        organization.pk: 3,
    }
    write(4)
    assert set(DailySeatUsage.objects.filter(day=day).values_list("peak", flat=True)) == {4}


def test_a_refused_assignment_of_an_unshared_pool_reads_no_shares(licensed_server):
    """A full pool nobody has a share in is refused by its take statement alone: no pool lock, no
    share check, no second take."""
    server, organization = setup_server(licensed_server, ["agent:assignable=1"])
    seat_assign(user=member(organization, "ann", method="assigned"))
    bob = member(organization, "bob", method="assigned")
    with CaptureQueriesContext(connection) as captured, pytest.raises(LicenseLimitReached):
        seat_assign(user=bob)
    statements = [q["sql"] for q in captured.captured_queries]
    assert not [s for s in statements if "seats_poolshare" in s]
    assert len([s for s in statements if "seats_seatpool" in s]) == 1


def test_an_assignment_on_a_server_with_no_license_yet_is_refused_with_no_seats():
    """A server added before its license file: it has no pools, so there is no seat to assign,
    and the refusal says 0 of 0."""
    from organizations.models import Server
    from seats.models import SeatAssignment
    from tests.factories import OrganizationFactory

    organization = OrganizationFactory(
        server=Server.objects.create(server_id="CIC-BARE"), name="Northwind"
    )
    with pytest.raises(LicenseLimitReached) as refused:
        seat_assign(user=member(organization, "bob", method="assigned"))
    assert refused.value.message == (
        "No Agent access (IWP_Agent) Assignable seat is free on server CIC-BARE: 0 of 0 in use. "
        "Nothing was assigned."
    )
    assert (refused.value.in_use, refused.value.capacity, refused.value.code) == (0, 0, "pool_full")
    assert not SeatAssignment.objects.exists()
