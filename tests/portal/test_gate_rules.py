"""The portal's gate, rule by rule: which seats count for a user on a server, what each
membership narrows, and each refusal's sentence as the refused page shows it."""

import pytest

from organizations.models import Membership, User
from portal.features import Feature, feature_refusal, gate_context, membership_context
from tests.factories import OrganizationFactory, StationFactory, UserFactory

from .conftest import assign_seat, lease_seat

pytestmark = pytest.mark.django_db

CONCURRENT, ASSIGNED = User.LicenseMethod.CONCURRENT, User.LicenseMethod.ASSIGNED
NO_CONCURRENT_SEAT = (
    "Seat usage needs the Supervisor access (IWP_Supervisor) license: you hold no Supervisor "
    "access (IWP_Supervisor) seat on server {} (a Concurrent user takes one when logging in, and "
    "none was taken for this session)."
)
NO_ASSIGNED_SEAT = (
    "Seat usage needs the Supervisor access (IWP_Supervisor) license: you hold no Supervisor "
    "access (IWP_Supervisor) seat on server {} (an administrator assigns one to you or to your "
    "station)."
)


def refusal(feature, user, organization, station_id=None):
    """(missing license, sentence) of ``feature`` for ``user`` in ``organization``, or None."""
    membership = user.memberships.get(organization=organization)
    ctx = gate_context(user=user, server=organization.server, station_id=station_id)
    refused = feature_refusal(feature, membership_context(ctx, membership))
    return refused and (refused.license_type, refused.message)


def supervisor(organization, method, username="sam"):
    user = UserFactory(username=username, license_method=method)
    Membership.objects.create(user=user, organization=organization, role="supervisor")
    return user


@pytest.fixture
def two_servers(licensed_server):
    return (
        OrganizationFactory(server=licensed_server(server_id="CIC-A"), name="North"),
        OrganizationFactory(server=licensed_server(server_id="CIC-B"), name="South"),
    )


def test_a_concurrent_seat_counts_on_its_own_server_only(two_servers):
    north, south = two_servers
    sam = supervisor(north, CONCURRENT)
    Membership.objects.create(user=sam, organization=south, role="supervisor")
    lease_seat(user=sam, organization=north, license_type="supervisor")

    assert refusal(Feature.SEAT_USAGE, sam, north) is None
    assert refusal(Feature.SEAT_USAGE, sam, south) == (
        "supervisor",
        NO_CONCURRENT_SEAT.format("CIC-B"),
    )


def test_another_users_concurrent_seat_gives_nothing(two_servers):
    north, _ = two_servers
    sam, kim = supervisor(north, CONCURRENT), supervisor(north, CONCURRENT, "kim")
    lease_seat(user=kim, organization=north, license_type="supervisor")

    assert refusal(Feature.SEAT_USAGE, kim, north) is None
    assert refusal(Feature.SEAT_USAGE, sam, north) == (
        "supervisor",
        NO_CONCURRENT_SEAT.format("CIC-A"),
    )


def test_an_assigned_seat_counts_on_its_own_server_and_for_its_own_user_only(two_servers):
    north, south = two_servers
    sam, kim = supervisor(north, ASSIGNED), supervisor(south, ASSIGNED, "kim")
    Membership.objects.create(user=sam, organization=south, role="supervisor")
    assign_seat(user=sam, organization=north, license_type="supervisor")

    assert refusal(Feature.SEAT_USAGE, sam, north) is None
    # sam's seat is on CIC-A, and kim holds none of her own
    assert refusal(Feature.SEAT_USAGE, sam, south) == (
        "supervisor",
        NO_ASSIGNED_SEAT.format("CIC-B"),
    )
    assign_seat(user=sam, organization=south, license_type="supervisor")
    assert refusal(Feature.SEAT_USAGE, kim, south) == (
        "supervisor",
        NO_ASSIGNED_SEAT.format("CIC-B"),
    )


def test_at_a_station_both_the_users_own_seat_and_the_stations_count(two_servers):
    north, _ = two_servers
    sam, kim = supervisor(north, ASSIGNED), supervisor(north, ASSIGNED, "kim")
    assign_seat(user=sam, organization=north, license_type="supervisor")
    bare = StationFactory(organization=north, name="Bare desk")
    seated = StationFactory(organization=north, name="Seated desk")
    assign_seat(station=seated, organization=north, license_type="supervisor")

    assert refusal(Feature.SEAT_USAGE, sam, north, station_id=bare.pk) is None  # her own
    assert refusal(Feature.SEAT_USAGE, kim, north, station_id=seated.pk) is None  # the desk's
    assert refusal(Feature.SEAT_USAGE, kim, north, station_id=bare.pk) == (
        "supervisor",
        NO_ASSIGNED_SEAT.format("CIC-A"),
    )


def test_each_membership_on_one_server_is_judged_by_its_own_organization(licensed_server):
    """One server, one gate context, three memberships: the wallboard organization offers the
    wallboard only, and each refusal names its own organization."""
    server = licensed_server(server_id="CIC-ONE")
    first = OrganizationFactory(server=server, name="First")
    second = OrganizationFactory(server=server, name="Second")
    screens = OrganizationFactory(server=server, name="Screens", is_wallboard=True)
    sam = UserFactory(username="sam", license_method=ASSIGNED)
    Membership.objects.create(user=sam, organization=first, role="org_admin")
    Membership.objects.create(
        user=sam, organization=second, role="supervisor", withheld_features=["usage_history"]
    )
    Membership.objects.create(user=sam, organization=screens, role="agent")
    assign_seat(user=sam, organization=first, license_type="supervisor")

    assert refusal(Feature.MANAGE, sam, first) is None
    assert refusal(Feature.MANAGE, sam, second) == (
        None,
        "Manage users and seats is for organization administrators of Second.",
    )
    assert refusal(Feature.USAGE_HISTORY, sam, first) is None
    assert refusal(Feature.USAGE_HISTORY, sam, second) == (
        None,
        "History has been withheld from you in Second: an administrator gives it back on your "
        "membership.",
    )
    assert refusal(Feature.WALLBOARD, sam, screens) is None
    assert refusal(Feature.SEAT_HOLDERS, sam, screens) == (
        None,
        "Who holds what is not offered here: this is server CIC-ONE's wallboard organization, "
        "whose members see the wallboard only.",
    )
    assert refusal(Feature.SEAT_HOLDERS, sam, first) is None


def test_an_agent_is_told_supervisor_pages_are_for_supervisors(licensed_server):
    org = OrganizationFactory(server=licensed_server(server_id="CIC-AG"), name="North")
    ann = UserFactory(username="ann", license_method=ASSIGNED)
    Membership.objects.create(user=ann, organization=org, role="agent")
    assign_seat(user=ann, organization=org, license_type="agent")

    assert refusal(Feature.AGENT_PAGE, ann, org) is None
    assert refusal(Feature.SEAT_USAGE, ann, org) == (
        None,
        "Seat usage is for supervisors of this organization.",
    )


def test_a_license_the_server_lacks_is_named_with_the_server(licensed_server):
    org = OrganizationFactory(
        server=licensed_server(
            server_id="CIC-NOREP",
            entitlements=["server", "organization=2", "supervisor:assignable=5", "marquee"],
        )
    )
    sam = supervisor(org, ASSIGNED)
    assign_seat(user=sam, organization=org, license_type="supervisor")

    assert refusal(Feature.SEAT_USAGE, sam, org) is None
    assert refusal(Feature.SCHEDULED_REPORTS, sam, org) == (
        "scheduled_reports",
        "Scheduled reports needs the Scheduled Reports license, and server CIC-NOREP has no "
        "valid one.",
    )


def test_a_server_without_its_server_license_refuses_everything_with_503(licensed_server):
    org = OrganizationFactory(
        server=licensed_server(server_id="CIC-NOSRV", entitlements=["organization=2", "marquee"])
    )
    sam = supervisor(org, ASSIGNED)
    ctx = membership_context(
        gate_context(user=sam, server=org.server), sam.memberships.get(organization=org)
    )
    for feature in (Feature.SEAT_USAGE, Feature.WALLBOARD, Feature.AGENT_PAGE):
        refused = feature_refusal(feature, ctx)
        assert (refused.license_type, refused.status, refused.message) == (
            "server",
            503,
            "Server CIC-NOSRV has no valid Server license, so the portal does not run for its "
            "organizations.",
        )


def test_a_marquee_only_server_offers_its_supervisors_the_wallboard_only(licensed_server):
    org = OrganizationFactory(
        server=licensed_server(server_id="CIC-MQ", entitlements=["server", "marquee"])
    )
    sam = supervisor(org, ASSIGNED)
    ann = UserFactory(username="ann", license_method=ASSIGNED)
    Membership.objects.create(user=ann, organization=org, role="agent")

    assert refusal(Feature.WALLBOARD, sam, org) is None  # no seat needed
    assert refusal(Feature.SEAT_USAGE, sam, org) == (
        "organization",
        "Seat usage needs the Organization license: server CIC-MQ has only a Marquee license, so "
        "only the wallboard is available.",
    )
    assert refusal(Feature.WALLBOARD, ann, org) == (
        None,
        "Wallboard is for supervisors of this organization.",
    )


def test_a_wallboard_organization_needs_marquee_and_nothing_else(licensed_server):
    with_marquee = licensed_server(server_id="CIC-WB", entitlements=["server", "marquee"])
    without = licensed_server(server_id="CIC-WBX", entitlements=["server", "organization=2"])
    screens = OrganizationFactory(server=with_marquee, name="Screens", is_wallboard=True)
    lapsed = OrganizationFactory(server=without, name="Screens", is_wallboard=True)
    tv = UserFactory(username="tv", license_method=ASSIGNED)
    Membership.objects.create(user=tv, organization=screens, role="agent")
    Membership.objects.create(user=tv, organization=lapsed, role="agent")

    assert refusal(Feature.WALLBOARD, tv, screens) is None  # an agent, with no seat
    assert refusal(Feature.WALLBOARD, tv, lapsed) == (
        "marquee",
        "The wallboard needs the Marquee license: server CIC-WBX has no valid one.",
    )


def test_a_supervisor_seat_opens_the_agent_page_while_its_license_is_valid(licensed_server):
    """sam supervises North and is an agent in South, on one server: his Supervisor seat is the
    one he needs, and it opens his agent page too. On a server whose Supervisor license is not
    valid (a seat left from before), it does not."""
    server = licensed_server(server_id="CIC-ONE")
    north = OrganizationFactory(server=server, name="North")
    south = OrganizationFactory(server=server, name="South")
    sam = supervisor(north, ASSIGNED)
    Membership.objects.create(user=sam, organization=south, role="agent")
    assign_seat(user=sam, organization=north, license_type="supervisor")
    assert refusal(Feature.AGENT_PAGE, sam, south) is None

    lapsed = OrganizationFactory(
        server=licensed_server(
            server_id="CIC-AGONLY",
            entitlements=["server", "organization=2", "agent:assignable=2"],
        ),
        name="East",
    )
    kim = UserFactory(username="kim", license_method=ASSIGNED)
    Membership.objects.create(user=kim, organization=lapsed, role="agent")
    assign_seat(user=kim, organization=lapsed, license_type="supervisor")
    assert refusal(Feature.AGENT_PAGE, kim, lapsed) == (
        "agent",
        "My license needs the Agent access (IWP_Agent) license: you hold no Agent access "
        "(IWP_Agent) seat on server CIC-AGONLY (an administrator assigns one to you or to your "
        "station).",
    )
