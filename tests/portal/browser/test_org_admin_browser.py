"""An organization administrator's journey in headless Chromium: list the users, assign a seat,
invite a user, remove a member after the confirmation page; change a member's role, add a
station and give it a seat, and a removed member's invitation withdrawn; and the same pages on a
phone."""

import re

import pytest

from notifications.models import OutboxMessage
from organizations.models import Membership, Station, User
from portal.models import Invitation
from seats.models import SeatAssignment
from seats.services.assignments import seat_assign
from seats.services.leases import lease_acquire
from tests.factories import OrganizationFactory, StationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # tests/factories.py
ASSIGNED, CONCURRENT = User.LicenseMethod.ASSIGNED, User.LicenseMethod.CONCURRENT


def member(org, username, role, method, name):
    first, last = name.split()
    user = UserFactory(username=username, license_method=method, first_name=first, last_name=last)
    Membership.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def world(licensed_server):
    server = licensed_server(
        server_id="CIC-DEMO-01",
        entitlements=[
            "server",
            "organization=5",
            "supervisor:assignable=2",
            "supervisor:concurrent=2",
            "agent:assignable=4",
            "agent:concurrent=3",
        ],
    )
    north = OrganizationFactory(server=server, name="Northwind Outsourcing")
    contoso = OrganizationFactory(server=server, name="Contoso Insurance")
    seat_assign(user=member(north, "omar.orgadmin", "org_admin", ASSIGNED, "Omar Okafor"))
    member(north, "nina.supervisor", "supervisor", CONCURRENT, "Nina Novak")
    seat_assign(user=member(north, "alice.agent", "agent", ASSIGNED, "Alice Andersen"))
    member(north, "carol.agent", "agent", ASSIGNED, "Carol Chen")
    seat_assign(user=member(north, "dan.agent", "agent", ASSIGNED, "Dan Dimitrov"))
    lease_acquire(user=member(north, "bob.agent", "agent", CONCURRENT, "Bob Brown"))
    seat_assign(station=StationFactory(organization=north, name="NW-Desk-01"))
    StationFactory(organization=north, name="NW-Desk-02")
    member(contoso, "erin.agent", "agent", ASSIGNED, "Erin Evans")
    return {"north": north}


def log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_org_admin_assigns_a_seat_invites_a_user_and_removes_a_member(
    world, open_browser, screenshot
):
    page = open_browser()
    log_in(page, "omar.orgadmin")
    page.click("nav.tabs >> text=Manage users and seats")
    rows = page.locator("table.holders tbody tr")
    assert rows.count() == 6  # Northwind's members, never Contoso's
    assert "erin.agent" not in page.content()
    carol = page.locator('tr[data-user="carol.agent"]')
    assert "none" in carol.inner_text()
    screenshot(page, "20-org-admin-1-users")

    carol.get_by_role("button", name="Assign seat").click()
    page.wait_for_load_state()
    assert page.locator(".messages").inner_text() == "carol.agent: 1 seat assigned."
    assert "Agent access" in page.locator('tr[data-user="carol.agent"]').inner_text()
    assert SeatAssignment.objects.active().filter(user__username="carol.agent").exists()
    screenshot(page, "20-org-admin-2-seat-assigned")

    page.click("text=Invite a user")
    page.fill("input[name=username]", "paula.agent")
    page.fill("input[name=email]", "paula@example.com")
    page.fill("input[name=first_name]", "Paula")
    page.fill("input[name=last_name]", "Pereira")
    page.select_option("select[name=license_method]", "concurrent")
    screenshot(page, "20-org-admin-3-invite")
    page.click("text=Add and send the invitation")
    page.wait_for_load_state()
    assert "Invitation e-mailed to paula@example.com" in page.locator(".messages").inner_text()
    assert "Waiting, link works until" in page.content()
    assert OutboxMessage.objects.filter(to=["paula@example.com"]).count() == 1
    screenshot(page, "20-org-admin-4-invited")

    page.click("nav.tabs >> text=Users")
    page.locator('tr[data-user="dan.agent"]').get_by_role("link", name="Manage").click()
    page.click("text=Remove from Northwind Outsourcing…")
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Remove dan.agent from Northwind Outsourcing?")
    assert Membership.objects.filter(user__username="dan.agent").exists()  # only asked
    screenshot(page, "20-org-admin-5-remove-confirm")
    page.click("text=Remove from the organization")
    page.wait_for_load_state()
    assert (
        page.locator(".messages").inner_text()
        == "dan.agent removed from Northwind Outsourcing; 1 seat(s) released."
    )
    assert page.locator('tr[data-user="dan.agent"]').count() == 0
    assert not Membership.objects.filter(user__username="dan.agent").exists()
    screenshot(page, "20-org-admin-6-removed")


def test_org_admin_changes_a_role_adds_a_station_and_a_removed_members_invitation_stops(
    world, open_browser, screenshot
):
    page = open_browser()
    log_in(page, "omar.orgadmin")
    page.click("nav.tabs >> text=Manage users and seats")
    page.locator('tr[data-user="alice.agent"]').get_by_role("link", name="Manage").click()
    page.click("text=Make them a supervisor")
    page.wait_for_load_state()
    assert page.locator(".messages").inner_text() == (
        "alice.agent is now a supervisor of Northwind Outsourcing; their Agent access (IWP_Agent) "
        "Assignable seat was exchanged for a Supervisor access (IWP_Supervisor) Assignable seat."
    )
    assert "Make them an agent" in page.locator("#role").inner_text()
    assert Membership.objects.get(user__username="alice.agent").role == "supervisor"
    assert list(
        SeatAssignment.objects.active()
        .filter(user__username="alice.agent")
        .values_list("license_type", flat=True)
    ) == ["supervisor"]
    screenshot(page, "20-org-admin-10-role-changed")

    page.click("nav.tabs >> text=Stations")
    page.click("text=Add a station")
    page.fill("input[name=name]", "nw-desk-01")
    page.click("text=Add the station")
    page.wait_for_load_state()
    assert (
        "Northwind Outsourcing has a station named “nw-desk-01” already: choose another name."
        == page.locator(".errorlist").inner_text()
    )
    page.fill("input[name=name]", "NW-Desk-03")
    page.click("text=Add the station")
    page.wait_for_load_state()
    assert (
        page.locator(".messages")
        .inner_text()
        .startswith("Station NW-Desk-03 added to Northwind Outsourcing.")
    )
    desk = page.locator('tr[data-station="NW-Desk-03"]')
    desk.get_by_role("button", name="Assign Agent seat").click()
    page.wait_for_load_state()
    assert page.locator(".messages").inner_text() == "NW-Desk-03: seat assigned."
    assert SeatAssignment.objects.active().filter(station__name="NW-Desk-03").exists()
    assert Station.objects.filter(organization=world["north"], name="NW-Desk-03").exists()
    screenshot(page, "20-org-admin-11-station-added")

    page.click("nav.tabs >> text=Users")
    page.click("text=Invite a user")
    page.fill("input[name=username]", "quinn.agent")
    page.fill("input[name=email]", "quinn@example.com")
    page.click("text=Add and send the invitation")
    page.wait_for_load_state()
    page.click("text=Remove from Northwind Outsourcing…")
    page.click("text=Remove from the organization")
    page.wait_for_load_state()
    assert (
        page.locator(".messages")
        .inner_text()
        .startswith("quinn.agent removed from Northwind Outsourcing")
    )
    mail = OutboxMessage.objects.get(to=["quinn@example.com"])
    link = re.search(r"(/accounts/invitation/\S+/)", mail.body).group(1)
    assert Invitation.objects.get(user__username="quinn.agent").withdrawn_at is not None

    quinn = open_browser()
    quinn.goto(link)
    assert quinn.get_by_role("heading", name="This invitation was withdrawn").is_visible()
    assert "This invitation was withdrawn on " in quinn.locator(".card").inner_text()
    assert quinn.locator("input[name=new_password1]").count() == 0
    screenshot(quinn, "20-org-admin-12-invitation-withdrawn")


def test_org_admin_pages_fit_a_phone(world, open_browser, screenshot):
    page = open_browser(viewport=(390, 844))
    log_in(page, "omar.orgadmin")
    org = world["north"].pk
    page.goto(f"/portal/org/{org}/manage/")
    assert no_sideways_scroll(page)
    screenshot(page, "20-org-admin-7-users-phone")
    for path in (
        "stations/",
        "stations/add/",
        "sessions/",
        "invite/",
        f"users/{User.objects.get(username='alice.agent').pk}/",
        f"users/{User.objects.get(username='alice.agent').pk}/unassign/",
    ):
        page.goto(f"/portal/org/{org}/manage/{path}")
        assert no_sideways_scroll(page), path
        if path == "stations/":
            assert (
                "Release Agent seat…" in page.locator('tr[data-station="NW-Desk-01"]').inner_text()
            )
            screenshot(page, "20-org-admin-9-stations-phone")
    screenshot(page, "20-org-admin-8-confirm-phone")
