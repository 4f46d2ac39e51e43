"""End to end in headless Chromium: a supervisor logs in, sees the usage, opens the chart,
downloads the CSV; an agent logs in and sees their seat; a login refused for lack of a Concurrent
seat shows the message.

Each main page is saved under docs/screenshots/ (the README shows them).
"""

import csv
import io

import pytest
from playwright.sync_api import expect

from .journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supervisor_sees_usage_opens_the_chart_and_downloads_the_csv(
    world, open_browser, screenshot
):
    page = open_browser()
    log_in(page, "nina.supervisor")
    assert page.url.endswith("/portal/")
    row = page.locator('tr[data-license="agent-concurrent"]')
    assert row.locator("td").nth(1).inner_text() == "Concurrent"
    assert row.locator("td").nth(2).inner_text() == "3"  # allowed
    assert row.locator("td").nth(4).inner_text() == "1"  # Northwind's bob is logged in
    # With Contoso's two, the server's pool is full: 3 of the 3 seats it allows (3 + 20%).
    assert row.locator("td").nth(5).inner_text() == "3\n100%"
    assert "Contoso Insurance" not in page.content()
    assert page.get_by_text("expires on").first.is_visible()
    screenshot(page, "01-seat-usage")

    page.click("nav.tabs >> text=Who holds what")
    assert page.get_by_role("cell", name="bob.agent").count() or "bob.agent" in page.content()
    screenshot(page, "02-who-holds-what")

    page.click("nav.tabs >> text=History")
    page.click("text=90 days")
    chart = page.locator('section[data-series="agent-concurrent"] svg.chart')
    assert chart.is_visible()
    assert chart.locator("polyline.peak").count() == 1
    screenshot(page, "03-history")

    with page.expect_download() as download_info:
        page.click("text=Download history (CSV)")
    download = download_info.value
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))
    assert rows[0] == ["day", "license", "method", "licensed", "in use", "peak", "denials"]
    assert len(rows) > 90  # 90 days of at least one license

    page.click("nav.tabs >> text=Compliance")
    screenshot(page, "04-compliance")
    page.click("nav.tabs >> text=Scheduled reports")
    assert "Weekly seat usage" in page.content()
    screenshot(page, "05-scheduled-reports")


def test_wallboard_refreshes_its_figures_without_reloading(world, open_browser, screenshot):
    page = open_browser(viewport=(1600, 900))
    log_in(page, "nina.supervisor")
    page.goto(f"/portal/org/{world['north'].pk}/wallboard/")
    tile = page.locator('.tile[data-key="agent-concurrent"] .in-use')
    assert tile.inner_text() == "1"
    page.evaluate("window.marker = 'same page'")
    from seats.services.leases import lease_release

    lease_release(user=world["bob"], acting_user=None)
    page.evaluate("window.iwpWallboardRefresh()")
    expect(tile).to_have_text("0")  # polls without eval, which the policy refuses
    assert page.evaluate("window.marker") == "same page"  # no full reload
    screenshot(page, "06-wallboard", full_page=False)


def test_portal_is_readable_on_a_phone(world, open_browser, screenshot):
    page = open_browser(viewport=(390, 844))
    log_in(page, "nina.supervisor")
    assert page.locator("h1", has_text="Northwind Outsourcing").is_visible()
    # Nothing but the table scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "07-seat-usage-phone")


def test_agent_logs_in_and_sees_their_seat(world, open_browser, screenshot, settings):
    page = open_browser()
    log_in(
        page, "bob.agent"
    )  # Concurrent, already holding a seat elsewhere: the seat passes to this session
    assert page.url.endswith("/portal/")
    text = page.locator("#my-license").inner_text()
    assert "Concurrent" in text and "Agent access (IWP_Agent)" in text
    assert f"{settings.IWP_CONCURRENT_IDLE_MINUTES} minutes" in text
    assert page.locator("nav.tabs").count() == 0  # no supervisor features
    screenshot(page, "08-agent-own-license")


def test_login_refused_without_a_free_concurrent_seat_shows_the_message(
    world, open_browser, screenshot
):
    page = open_browser()
    log_in(page, "carol.agent")  # the three Concurrent Agent seats (3 + 20% = 3) are all held
    assert "/accounts/login/" in page.url
    message = page.locator(".errorlist").inner_text()
    assert "CIC-DEMO-01" in message and "3 of 3 in use" in message and "Agent access" in message
    screenshot(page, "09-login-refused", full_page=False)
