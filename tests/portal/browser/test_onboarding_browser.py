"""Administrators' daily journeys in headless Chromium (issue 12): invite a user who chooses a
password and, as a supervisor, sees the portal with no further step; preview a smaller license
and cancel; a first session told it was signed out elsewhere; "Forgot your password?"."""

import re

import pytest

from licenses.models import Entitlement
from notifications.models import OutboxMessage
from organizations.models import Membership, User
from seats.services.assignments import seat_assign
from tests.factories import OrganizationFactory, UserFactory, license_text

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a long new password 42"


@pytest.fixture
def world(licensed_server):
    server = licensed_server(
        server_id="CIC-ONBOARD-01",
        entitlements=[
            "server",
            "organization=3",
            "supervisor:concurrent=2",
            "agent:assignable=3",
            "agent:concurrent=3",
        ],
    )
    org = OrganizationFactory(server=server, name="Northwind Outsourcing")
    UserFactory(username="root", is_staff=True, is_superuser=True)
    return {"server": server, "org": org}


def test_invited_supervisor_chooses_a_password_and_sees_seat_usage(world, open_browser, screenshot):
    admin = open_browser()
    log_in(admin, "/admin/login/?next=/admin/organizations/user/add/", "root")
    admin.fill("input[name=username]", "nina.new")
    admin.fill("input[name=email]", "nina.new@example.com")
    admin.select_option("select[name=license_method]", "concurrent")
    admin.check("input[name=usable_password][value=false]")
    assert admin.is_checked("input[name=send_invitation]")
    admin.click("input[name=_continue]")
    admin.wait_for_load_state()
    assert "Invitation e-mailed to nina.new@example.com" in admin.content()

    nina = User.objects.get(username="nina.new")
    Membership.objects.create(user=nina, organization=world["org"], role="supervisor")
    admin.reload()
    features = admin.locator("table.portal-features")
    assert "Northwind Outsourcing" in features.inner_text()
    assert "Seat usage" in features.inner_text()
    assert "Waiting, link works until" in admin.content()
    screenshot(admin, "15-user-invitation-and-features")

    body = OutboxMessage.objects.get(to=["nina.new@example.com"]).body
    link = re.search(r"https?://[^/\s]+(/accounts/invitation/\S+/)", body).group(1)
    page = open_browser()
    page.goto(link)
    assert page.get_by_role("heading", name="Choose your password").is_visible()
    screenshot(page, "16-invitation-choose-password")
    page.fill("input[name=new_password1]", NEW_PASSWORD)
    page.fill("input[name=new_password2]", NEW_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/accounts/login/")
    assert "Your password is saved, nina.new" in page.content()

    log_in(page, "/accounts/login/", "nina.new", NEW_PASSWORD)
    assert page.url.endswith("/portal/")
    assert page.locator('tr[data-license="agent-concurrent"]').count() == 1
    assert "has not been given to you" not in page.content()


def test_a_smaller_license_is_previewed_and_cancelled_without_change(
    world, open_browser, screenshot, vendor_key, tmp_path
):
    org, server = world["org"], world["server"]
    for name in ("alice", "bob", "carol"):
        agent = UserFactory(username=name, license_method=User.LicenseMethod.ASSIGNED)
        Membership.objects.create(user=agent, organization=org, role="agent")
        seat_assign(user=agent)
    smaller = tmp_path / "smaller.lic"
    smaller.write_text(
        license_text(
            vendor_key,
            server_id=server.server_id,
            entitlements=["server", "organization=3", "agent:assignable=2"],
        )
    )
    before = sorted(
        Entitlement.objects.filter(license_file__server=server).values_list(
            "license_type", "method", "quantity"
        )
    )

    page = open_browser()
    log_in(page, "/admin/login/?next=/admin/licenses/licensefile/install/", "root")
    page.set_input_files("input[name=file]", str(smaller))
    page.click("input[value=Preview]")
    page.wait_for_load_state()
    row = page.locator("#preview-agent-assignable")
    assert "exceeded: 2 licensed" in row.inner_text()
    assert page.locator("#preview-exceeded").is_visible()
    screenshot(page, "17-license-preview")
    page.click("input[name=_cancel]")
    page.wait_for_load_state()
    after = sorted(
        Entitlement.objects.filter(license_file__server=server).values_list(
            "license_type", "method", "quantity"
        )
    )
    assert after == before


def test_the_first_session_is_told_it_was_signed_out_elsewhere(world, open_browser, screenshot):
    user = UserFactory(username="sam.super", license_method=User.LicenseMethod.CONCURRENT)
    Membership.objects.create(user=user, organization=world["org"], role="supervisor")
    first, second = open_browser(), open_browser()
    log_in(first, "/accounts/login/", "sam.super")
    assert first.url.endswith("/portal/")
    log_in(second, "/accounts/login/", "sam.super")
    assert second.url.endswith("/portal/")
    first.goto("/portal/")
    assert "/accounts/login/" in first.url
    message = first.get_by_text(
        re.compile(r"You were signed out because you signed in on another device at \d\d:\d\d")
    )
    assert message.is_visible()
    screenshot(first, "18-signed-out-elsewhere")


def test_forgot_your_password_from_the_login_page(world, open_browser):
    UserFactory(username="ann", email="ann@example.com")
    page = open_browser()
    page.goto("/accounts/login/")
    page.click("text=Forgot your password?")
    page.wait_for_load_state()
    assert "IWP Licensing" in page.title() and "Django" not in page.content()
    page.fill("input[name=email]", "ann@example.com")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.url.endswith("/accounts/password_reset/done/")
