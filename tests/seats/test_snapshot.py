"""The daily usage snapshot (seats.services.snapshots), taken by seats.tasks.take_usage_snapshot."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from licenses.models import LicenseType, Method
from seats.models import DailySeatUsage, SeatAssignment, SeatDenial
from seats.services.snapshots import usage_snapshot_take
from seats.tasks import take_usage_snapshot

from ..compliance.conftest import hold_assignable, organizations
from .seat_helpers import login, member, setup_server


def row(server, org, license_type, method):
    return DailySeatUsage.objects.get(
        day=timezone.localdate(),
        server=server,
        organization=org,
        license_type=license_type,
        method=method,
    )


@pytest.mark.django_db
def test_snapshot_records_licensed_and_in_use_per_server_and_organization(licensed_server):
    server = licensed_server(
        server_id="CIC-SNAP",
        entitlements=["server", "organization=4", "agent:assignable=10", "agent:concurrent=5"],
    )
    a, b = organizations(server, 2)
    hold_assignable(server, a, LicenseType.AGENT, 3)
    hold_assignable(server, b, LicenseType.AGENT, 1, stations=1)
    today = timezone.localdate()

    take_usage_snapshot.apply(args=[today.isoformat()]).get()

    whole = row(server, None, LicenseType.AGENT, Method.ASSIGNABLE)
    assert (whole.licensed, whole.in_use, whole.peak) == (10, 5, 5)
    assert (
        row(server, a, "agent", "assignable").in_use,
        row(server, b, "agent", "assignable").in_use,
    ) == (3, 2)
    assert (
        row(server, a, "agent", "concurrent").in_use == 0
    )  # licensed but unused: a zero row for the charts
    orgs = row(server, None, LicenseType.ORGANIZATION, "")
    assert (orgs.licensed, orgs.in_use) == (4, 2)


@pytest.mark.django_db
def test_snapshot_keeps_the_peak_and_counts_the_days_denials(
    licensed_server, django_assert_max_num_queries
):
    server = licensed_server(
        server_id="CIC-PEAK", entitlements=["server", "organization=4", "agent:assignable=10"]
    )
    [org] = organizations(server, 1)
    hold_assignable(server, org, LicenseType.AGENT, 4)
    today = timezone.localdate()
    DailySeatUsage.objects.create(
        day=today,
        server=server,
        organization=None,
        license_type="agent",
        method="assignable",
        peak=7,
    )
    for _ in range(2):
        SeatDenial.objects.create(
            server=server,
            organization=org,
            license_type="agent",
            method="assignable",
            message="full",
        )
    SeatDenial.objects.filter(
        pk=SeatDenial.objects.create(
            server=server,
            organization=org,
            license_type="agent",
            method="assignable",
            message="yesterday",
        ).pk
    ).update(created_at=timezone.now() - timedelta(days=1))
    usage_snapshot_take(day=today)
    whole = row(server, None, "agent", "assignable")
    assert (whole.in_use, whole.peak, whole.denials) == (4, 7, 2)
    assert row(server, org, "agent", "assignable").denials == 2

    # Seats released later the same day: in_use falls, the peak stays; a rerun adds no rows and
    # counts no denial twice.
    SeatAssignment.objects.filter(organization=org).update(released_at=timezone.now())
    count = DailySeatUsage.objects.count()
    with django_assert_max_num_queries(13):
        usage_snapshot_take(day=today)
    assert DailySeatUsage.objects.count() == count
    whole.refresh_from_db()
    assert (whole.in_use, whole.peak, whole.denials) == (0, 7, 2)
    assert row(server, org, "agent", "assignable").peak == 4


def test_a_missed_day_is_snapshot_from_what_was_held_that_day_not_now(licensed_server):
    day = timezone.localdate() - timedelta(days=3)
    noon = timezone.make_aware(datetime.combine(day, time(12)))
    with time_machine.travel(noon, tick=False):
        server, organization = setup_server(licensed_server, ["agent:concurrent=5"])
        member(organization, "bob")
        client = Client()
        assert login(client, "bob").status_code == 302
    with time_machine.travel(noon + timedelta(days=1), tick=False):
        client.post("/accounts/logout/")  # the next day

    usage_snapshot_take(day=day)
    usage_snapshot_take(day=timezone.localdate())
    rows = DailySeatUsage.objects.filter(
        server=server, organization=None, license_type="agent", method="concurrent"
    )
    assert {r.day: r.in_use for r in rows} == {day: 1, timezone.localdate(): 0}


@pytest.mark.django_db
def test_the_servers_denials_are_the_sum_of_its_organizations_and_none_is_zero(licensed_server):
    server = licensed_server(
        server_id="CIC-DENY",
        entitlements=["server", "organization=4", "agent:assignable=1", "agent:concurrent=1"],
    )
    north, south = organizations(server, 2)
    for org, n in ((north, 2), (south, 1)):
        for _ in range(n):
            SeatDenial.objects.create(
                server=server, organization=org, license_type="agent", method="assignable"
            )
    usage_snapshot_take(day=timezone.localdate())
    assert row(server, None, "agent", "assignable").denials == 3
    assert row(server, north, "agent", "assignable").denials == 2
    assert row(server, south, "agent", "assignable").denials == 1
    assert row(server, None, "agent", "concurrent").denials == 0
    assert row(server, north, "agent", "concurrent").denials == 0


@pytest.mark.django_db
def test_seats_held_where_nothing_is_licensed_any_more_are_recorded_with_zero_licensed(
    licensed_server,
):
    # The license now offers no Agent seat (and no access license at all), yet Agent seats are
    # still held: the chart shows them against a licensed count of 0, for the server and for the
    # organization; the organization, active on a server with no access license, gets no row.
    server = licensed_server(server_id="CIC-NOAGENT", entitlements=["server", "organization=4"])
    [org] = organizations(server, 1)
    hold_assignable(server, org, LicenseType.AGENT, 2)

    usage_snapshot_take(day=timezone.localdate())

    whole = row(server, None, "agent", "assignable")
    assert (whole.licensed, whole.in_use) == (0, 2)
    mine = row(server, org, "agent", "assignable")
    assert (mine.licensed, mine.in_use) == (0, 2)
    assert not DailySeatUsage.objects.filter(method="concurrent").exists()


@pytest.mark.django_db
def test_an_organizations_row_shows_the_servers_licensed_count_beside_its_own_use(
    licensed_server,
):
    server = licensed_server(
        server_id="CIC-SHARE", entitlements=["server", "organization=4", "agent:assignable=10"]
    )
    [org] = organizations(server, 1)
    hold_assignable(server, org, LicenseType.AGENT, 3)

    usage_snapshot_take(day=timezone.localdate())

    mine = row(server, org, "agent", "assignable")
    assert (mine.licensed, mine.in_use, mine.peak) == (10, 3, 3)


@pytest.mark.django_db
def test_refusals_where_nothing_is_licensed_get_rows_of_their_own(licensed_server):
    server = licensed_server(
        server_id="CIC-NOCONC", entitlements=["server", "organization=4", "agent:assignable=2"]
    )
    [org] = organizations(server, 1)
    SeatDenial.objects.create(
        server=server, organization=org, license_type="agent", method="concurrent"
    )
    usage_snapshot_take(day=timezone.localdate())
    for organization in (None, org):
        refused = row(server, organization, "agent", "concurrent")
        assert (refused.licensed, refused.in_use, refused.peak, refused.denials) == (0, 0, 0, 1)


@pytest.mark.django_db
def test_a_seat_taken_after_an_earlier_snapshot_raises_the_peak_of_that_day_only(licensed_server):
    server = licensed_server(
        server_id="CIC-LATER", entitlements=["server", "organization=4", "agent:assignable=10"]
    )
    [org] = organizations(server, 1)
    today = timezone.localdate()
    yesterday = DailySeatUsage.objects.create(  # an imported day, as its source recorded it
        day=today - timedelta(days=1),
        server=server,
        organization=None,
        license_type="agent",
        method="assignable",
        licensed=10,
        in_use=5,
        peak=2,
    )
    usage_snapshot_take(day=today)
    assert row(server, None, "agent", "assignable").peak == 0
    hold_assignable(server, org, LicenseType.AGENT, 3)  # assigned without a login's peak

    usage_snapshot_take(day=today)

    whole, own = row(server, None, "agent", "assignable"), row(server, org, "agent", "assignable")
    assert (whole.in_use, whole.peak, own.in_use, own.peak) == (3, 3, 3, 3)
    yesterday.refresh_from_db()
    assert (yesterday.in_use, yesterday.peak) == (5, 2)


@pytest.mark.django_db
def test_an_organization_gone_since_an_earlier_snapshot_today_keeps_no_seats_in_its_row(
    licensed_server,
):
    """Its row is not written again (it is no longer active): the day's counts start from zero,
    so the seats it gave back do not stay counted."""
    server = licensed_server(
        server_id="CIC-GONE", entitlements=["server", "organization=4", "agent:assignable=10"]
    )
    [org] = organizations(server, 1)
    hold_assignable(server, org, LicenseType.AGENT, 2)
    today = timezone.localdate()
    usage_snapshot_take(day=today)
    assert row(server, org, "agent", "assignable").in_use == 2

    SeatAssignment.objects.filter(organization=org).update(released_at=timezone.now())
    org.is_active = False
    org.save()
    usage_snapshot_take(day=today)

    gone = row(server, org, "agent", "assignable")
    assert (gone.in_use, gone.peak, gone.denials) == (0, 2, 0)


@pytest.mark.django_db
def test_an_organization_refused_today_and_gone_since_shows_the_servers_count_beside_it(
    licensed_server,
):
    server = licensed_server(
        server_id="CIC-REFGONE", entitlements=["server", "organization=4", "agent:assignable=10"]
    )
    [org] = organizations(server, 1)
    SeatDenial.objects.create(
        server=server, organization=org, license_type="agent", method="assignable"
    )
    org.is_active = False
    org.save()

    usage_snapshot_take(day=timezone.localdate())

    refused = row(server, org, "agent", "assignable")
    assert (refused.licensed, refused.in_use, refused.denials) == (10, 0, 1)
