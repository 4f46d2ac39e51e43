"""Seat usage at /portal/: licensed, configured, in use, available, today's peak and denials, per
license and method."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from organizations.models import User
from seats.models import DailySeatUsage, SeatDenial
from tests.factories import OrganizationFactory

from .conftest import assign_seat, queries

pytestmark = pytest.mark.django_db


def row(html, key):
    """The cells of the usage row of ``key`` (e.g. "agent-concurrent") as text."""
    match = re.search(rf'<tr class="[^"]*" data-license="{key}">(.*?)</tr>', html, re.S)
    assert match, f"no row {key}"
    return [
        " ".join(re.sub(r"<[^>]+>", " ", c).split())
        for c in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)
    ]


def test_usage_shows_allowed_configured_in_use_available_peak_and_denials(
    client, org, supervisor, make_member
):
    other_org = OrganizationFactory(server=org.server, name="Other tenant")
    for _ in range(2):
        make_member(org, role="agent", method=User.LicenseMethod.CONCURRENT)  # 2 logged in
    make_member(
        org, role="agent", method=User.LicenseMethod.CONCURRENT, seat=False
    )  # configured, not logged in
    make_member(
        other_org, role="agent", method=User.LicenseMethod.CONCURRENT
    )  # the other tenant's seat
    make_member(org, role="agent")  # one Assignable agent seat
    DailySeatUsage.objects.create(
        day=timezone.localdate(),
        server=org.server,
        organization=org,
        license_type="agent",
        method="concurrent",
        licensed=3,
        in_use=2,
        peak=3,
        denials=1,
    )
    SeatDenial.objects.create(
        server=org.server,
        organization=org,
        license_type="agent",
        method="concurrent",
        message="Agent access — Concurrent: 3 of 3 in use",
    )
    client.force_login(supervisor)
    html = client.get("/portal/").content.decode()
    assert "Acme Support" in html and "Other tenant" not in html
    # License, method, allowed, configured, in use, server in use (and in percent of the seats
    # the server allows), available, peak, denials, status
    assert row(html, "agent-concurrent")[:9] == [
        "Agent access IWP_Agent",
        "Concurrent",
        "3",
        "3",
        "2",
        "3 100%",
        "0",
        "3",
        "1",
    ]
    assert row(html, "agent-assignable")[:7] == [
        "Agent access IWP_Agent",
        "Assignable",
        "3",
        "1",
        "1",
        "1 33%",
        "2",
    ]
    assert row(html, "supervisor-assignable")[2:7] == ["2", "1", "1", "1 50%", "1"]
    assert "Organizations on this server: 2 of 3 licensed" in html


def test_exceeded_count_is_marked(client, org, supervisor, make_member):
    # 4 Assignable agent seats on a license of 3 (written directly, as a smaller file
    # would leave them)
    for _ in range(4):
        assign_seat(
            user=make_member(org, role="agent", seat=False), organization=org, license_type="agent"
        )
    client.force_login(supervisor)
    html = client.get("/portal/").content.decode()
    cells = row(html, "agent-assignable")
    assert cells[2] == "3" and cells[5] == "4 133%" and cells[9] == "✖ Exceeded"
    assert (
        "4 in use on the server at most today (4 now), 3 licensed — the count is exceeded, "
        "beyond the overage allowance"
    ) in html


def test_expiring_license_is_marked(client, licensed_server, make_member):
    today = timezone.localdate()
    org = OrganizationFactory(
        server=licensed_server(server_id="CIC-EXP", expires_on=today + timedelta(days=5))
    )
    client.force_login(make_member(org))
    html = client.get("/portal/").content.decode()
    assert (
        row(html, "supervisor-assignable")[9]
        == f"◷ Expires {(today + timedelta(days=5)).day} {today + timedelta(days=5):%b}"
    )
    assert "Every license below expires on" in html and "in 5 days" in html


def test_supervisor_of_two_organizations_sees_both(client, licensed_server, make_member):
    server = licensed_server()
    first, second = (
        OrganizationFactory(server=server, name="First"),
        OrganizationFactory(server=server, name="Second"),
    )
    user = make_member(first)
    from organizations.models import Membership

    Membership.objects.create(user=user, organization=second, role="supervisor")
    client.force_login(user)
    html = client.get("/portal/").content.decode()
    assert "First" in html and "Second" in html


@pytest.mark.parametrize("path", ["/portal/", "/portal/org/{org}/"])
def test_usage_page_query_count_does_not_grow_with_users(client, org, supervisor, populate, path):
    client.force_login(supervisor)
    url = path.format(org=org.pk)
    populate(org, 10)
    small = queries(client, url)
    populate(org, 600, prefix="more")
    assert queries(client, url) == small
    assert small <= 20


def test_portal_home_of_a_supervisor_of_two_organizations_keeps_its_query_count(
    client, licensed_server, make_member, populate
):
    from organizations.models import Membership

    server = licensed_server()
    first, second = (
        OrganizationFactory(server=server, name="First"),
        OrganizationFactory(server=server, name="Second"),
    )
    user = make_member(first)
    Membership.objects.create(user=user, organization=second, role="supervisor")
    client.force_login(user)
    populate(first, 10)
    small = queries(client, "/portal/")
    populate(second, 400, prefix="more")
    assert queries(client, "/portal/") == small
