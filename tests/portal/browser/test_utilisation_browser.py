"""Utilisation alerts as a supervisor sees them in headless Chromium: the seat usage page and the
wallboard show the percent in use and the alert threshold reached, in words, a symbol and colours
that keep WCAG AA contrast (4.5:1) in the light and the dark scheme; the wallboard's refresh moves
the state without a reload; the supervisor opts in to the alert mail from their profile."""

import pytest
from playwright.sync_api import expect

from organizations.models import User
from seats.services.leases import lease_acquire, lease_release
from tests.factories import OrganizationFactory

from .journeys import log_in, member
from .test_layout_and_accessibility_browser import (
    CONTRAST,
    DESKTOP,
    PORTAL_STATUS,
    WALLBOARD_STATUS,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pool_at_ninety(licensed_server):
    """Nine of ten Agent Concurrent seats held, and a supervisor with an e-mail address."""
    server = licensed_server(
        server_id="CIC-BUSY",
        entitlements=[
            "server",
            "organization=3",
            "supervisor:concurrent=2",
            "agent:concurrent=10",
            "marquee",
        ],
    )
    org = OrganizationFactory(server=server, name="Tailspin Support")
    supervisor = member(org, "tess.supervisor", "supervisor", User.LicenseMethod.CONCURRENT)
    supervisor.email = "tess@tailspin.example"
    supervisor.save()
    agents = [
        member(org, f"agent{i}.concurrent", "agent", User.LicenseMethod.CONCURRENT)
        for i in range(9)
    ]
    leases = [lease_acquire(user=agent)[0] for agent in agents]
    return {"org": org, "leases": leases}


def test_the_threshold_reached_shows_in_words_and_keeps_aa_contrast(
    pool_at_ninety, open_browser, screenshot
):
    org = pool_at_ninety["org"]
    page = open_browser(viewport=DESKTOP)
    log_in(page, "tess.supervisor")
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.goto(f"/portal/org/{org.pk}/")
        row = page.locator('tr[data-license="agent-concurrent"]')
        badge = row.locator(".badge.threshold")
        expect(badge).to_have_text("◔ ≥ 90%")
        assert badge.locator(".icon").get_attribute("aria-hidden") == "true"
        expect(row.locator(".utilisation")).to_have_text("90%")
        for name, url, selector in (
            ("seat-usage", f"/portal/org/{org.pk}/", PORTAL_STATUS),
            ("wallboard", f"/portal/org/{org.pk}/wallboard/", WALLBOARD_STATUS),
        ):
            page.goto(url)
            ratios = page.evaluate(CONTRAST, selector)
            low = [(r["text"], round(r["ratio"], 2)) for r in ratios if r["ratio"] < 4.5]
            assert not low, f"{url} in {scheme}: below 4.5:1: {low}"
            assert any("≥ 90%" in r["text"] for r in ratios), f"{url}: no threshold measured"
            screenshot(page, f"threshold-{scheme}-{name}", full_page=False)


def test_the_wallboard_moves_the_threshold_state_on_refresh(
    pool_at_ninety, open_browser, screenshot
):
    page = open_browser(viewport=(1600, 900))
    log_in(page, "tess.supervisor")
    page.goto(f"/portal/org/{pool_at_ninety['org'].pk}/wallboard/")
    tile = page.locator('.tile[data-key="agent-concurrent"]')
    expect(tile.locator(".state-text")).to_have_text("≥ 90%")
    expect(tile.locator(".utilisation")).to_have_text("90%")
    screenshot(page, "wallboard-threshold", full_page=False)

    lease_release(leases=pool_at_ninety["leases"][:1])  # 8 of 10
    page.evaluate("window.iwpWallboardRefresh()")
    expect(tile.locator(".state-text")).to_have_text("≥ 80%")
    expect(tile.locator(".utilisation")).to_have_text("80%")
    lease_release(leases=pool_at_ninety["leases"][1:3])  # 6 of 10: below every threshold
    page.evaluate("window.iwpWallboardRefresh()")
    expect(tile.locator(".utilisation")).to_have_text("60%")
    expect(tile.locator(".state")).to_be_hidden()


def test_a_supervisor_opts_in_to_the_alert_mail_from_their_profile(pool_at_ninety, open_browser):
    page = open_browser(viewport=DESKTOP)
    log_in(page, "tess.supervisor")
    page.get_by_role("link", name="tess.supervisor").click()
    expect(page.get_by_role("heading", name="My profile")).to_be_visible()
    box = page.get_by_label("E-mail me when my organization's seats reach an alert threshold")
    expect(box).not_to_be_checked()
    box.check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text(
        "Saved: utilisation alerts are mailed to tess@tailspin.example."
    )
    expect(box).to_be_checked()
    assert User.objects.get(username="tess.supervisor").threshold_alert_mail
