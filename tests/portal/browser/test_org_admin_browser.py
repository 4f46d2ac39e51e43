"""An organization administrator's journey in headless Chromium: list the users, assign a seat,
invite a user, remove a member after the confirmation page; and the same pages on a phone."""

import pytest

from notifications.models import OutboxMessage
from organizations.models import Membership, User
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


def test_org_admin_pages_fit_a_phone(world, open_browser, screenshot):
    page = open_browser(viewport=(390, 844))
    log_in(page, "omar.orgadmin")
    org = world["north"].pk
    page.goto(f"/portal/org/{org}/manage/")
    assert no_sideways_scroll(page)
    screenshot(page, "20-org-admin-7-users-phone")
    for path in (
        "stations/",
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
