"""Layout and accessibility in headless Chromium, as a person would notice them: no page scrolls
sideways on a laptop (1366 px) or a phone (390 px) even with very long names; a table wider than
the screen says it scrolls; the history chart's text stays readable on a phone; status colours
keep WCAG AA contrast (4.5:1) in the light and the dark scheme; full, over-the-allowance,
exceeded and expiring pools look different (colour, symbol and words); the wallboard marks a full
pool; deleting a scheduled report asks first, also without JavaScript."""

from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from organizations.models import User
from portal.models import ScheduledReport
from portal.services import invitation_send, invitation_token, scheduled_report_create
from seats.services.assignments import seat_assign
from seats.services.leases import lease_acquire
from tests.factories import (
    MembershipFactory,
    OrganizationFactory,
    ServerFactory,
    StationFactory,
    UserFactory,
    install_license,
)

from .journeys import log_in, log_in_as, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP, PHONE = (1366, 900), (390, 844)
# 200 characters, 95 of them without a space: what widened the page to 3,167 px.
LONG_NAME = (
    "Northwind Outsourcing and Customer Experience Services "
    "NorthwindOutsourcingCustomerExperienceServicesInternationalHoldingsLimitedPartnershipEuropeW"
    "est Division of the Greater Metropolitan Area Centres"
)
assert len(LONG_NAME) == 200

# Every element that scrolls sideways must be marked: the hint above it shown (tables.js) and
# the box labelled as scrolling. Returns the page's width and what is wrong.
MEASURE = """() => {
  const unmarked = [];
  for (const el of document.querySelectorAll("body *")) {
    const s = getComputedStyle(el);
    if (!["auto", "scroll"].includes(s.overflowX) || el.scrollWidth <= el.clientWidth + 1) continue;
    const hint = el.previousElementSibling;
    const shown = hint && hint.classList.contains("scroll-hint") && hint.offsetParent !== null;
    if (!shown || !/scrolls sideways/.test(el.getAttribute("aria-label") || "")) {
      const what = `${el.tagName.toLowerCase()}.${el.className}`;
      unmarked.push(`${what} (${el.scrollWidth} px in ${el.clientWidth} px)`);
    }
  }
  const cut = [...document.querySelectorAll("h1, h2")]
    .filter((h) => h.scrollWidth > h.clientWidth + 1).map((h) => h.textContent.slice(0, 40));
  const scrolling = [...document.querySelectorAll(".table-wrap")]
    .filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.dataset.label);
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    unmarked,
    cut,
    scrolling,
  };
}"""


def assert_fits(page, what, tables_fit=False):
    """No sideways page scroll, nothing cut, any scrolling box marked; ``tables_fit``: no table
    scrolls at all (a laptop)."""
    m = page.evaluate(MEASURE)
    assert m["scrollWidth"] <= m["innerWidth"], (
        f"{what}: the page is {m['scrollWidth']} px wide in a {m['innerWidth']} px window"
    )
    assert not m["unmarked"], f"{what}: scrolls sideways without saying so: {m['unmarked']}"
    assert not m["cut"], f"{what}: headings cut off: {m['cut']}"
    if tables_fit:
        assert not m["scrolling"], f"{what}: tables scroll sideways: {m['scrolling']}"


@pytest.fixture
def long_names(world):
    """The demo with names as long as the fields allow."""
    north = world["north"]
    north.name = LONG_NAME
    north.save()
    long_user = member(
        north,
        "k" * 40 + ".agent.with.a.very.long.login.name@example-contact-center.com",
        "agent",
        User.LicenseMethod.ASSIGNED,
        first_name="Maximiliana-Alexandrina",
    )
    long_user.last_name = "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaft"
    long_user.save()
    StationFactory(organization=north, name="NW-" + "Floor2-EastWing-" * 5 + "Desk-01")
    report = scheduled_report_create(
        organization=north,
        name="Monthly seat usage for the board of directors and the outsourcing partners' account "
        "managers",
        frequency="monthly",
        recipients="contact-center-leadership-distribution-list@northwind-outsourcing.example.com, "
        "b@example.com",
        acting_user=world["nina"],
    )
    return {**world, "report": report}


def portal_pages(world):
    org, report = world["north"].pk, world["report"].pk
    return {
        "seat-usage-all": "/portal/",
        "seat-usage": f"/portal/org/{org}/",
        "holders-users": f"/portal/org/{org}/holders/",
        "holders-stations": f"/portal/org/{org}/holders/?view=stations",
        "holders-sessions": f"/portal/org/{org}/holders/?view=sessions",
        "history": f"/portal/org/{org}/history/?days=90",
        "compliance": f"/portal/org/{org}/compliance/",
        "reports": f"/portal/org/{org}/reports/",
        "report-edit": f"/portal/org/{org}/reports/{report}/",
        "report-delete": f"/portal/org/{org}/reports/{report}/delete/",
        "wallboard": f"/portal/org/{org}/wallboard/",
        "password-change": "/accounts/password_change/",
    }


def test_no_page_scrolls_sideways_on_a_laptop_or_a_phone_even_with_long_names(
    long_names, open_browser, screenshot, live_server
):
    world = long_names
    bob = world["bob"]
    # Somebody whose only organization is on a server with no license: the portal's 503 page.
    stranded = MembershipFactory(
        organization=OrganizationFactory(server=ServerFactory(server_id="CIC-NOLICENSE")),
        role="supervisor",
        user__username="stranded.supervisor",
    ).user
    uid = urlsafe_base64_encode(force_bytes(bob.pk))
    reset_link = f"/accounts/reset/{uid}/{default_token_generator.make_token(bob)}/"
    # Somebody created without a password, invited to choose one: the invitation's page.
    invitee = UserFactory(
        username="maximiliana.alexandrina." + "w" * 60,
        first_name="Maximiliana-Alexandrina",
        last_name="Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaft",
    )
    invitee.set_unusable_password()
    invitee.save()
    invitation = invitation_send(user=invitee, acting_user=None, site_url=live_server.url)
    visitor_pages = {
        "login": "/accounts/login/",
        "password-reset": "/accounts/password_reset/",
        "password-reset-done": "/accounts/password_reset/done/",
        "password-reset-confirm": reset_link,
        "password-reset-expired": "/accounts/reset/MQ/expired-token/",
        "invitation": reverse("invitation_accept", args=[invitation_token(invitation)]),
        "invitation-expired": "/accounts/invitation/not-a-token/",
    }
    # One browser per person, signed in once; each page is measured at both widths.
    supervisor, agent, unlicensed, visitor = (open_browser(viewport=DESKTOP) for _ in range(4))
    log_in(supervisor, "nina.supervisor")
    log_in_as(agent, bob, live_server.url)
    log_in_as(unlicensed, stranded, live_server.url)
    org = world["north"].pk
    for viewport in (DESKTOP, PHONE):
        size, width = ("phone" if viewport == PHONE else "desktop"), viewport[0]
        for page in (supervisor, agent, unlicensed, visitor):
            page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        for name, url in portal_pages(world).items():
            supervisor.goto(url)
            assert_fits(supervisor, f"{name} at {width} px", tables_fit=viewport == DESKTOP)
            if name in ("seat-usage", "holders-users"):
                screenshot(supervisor, f"layout-{size}-{name}")
        # The name is whole on the page: it wraps, nothing is cut.
        supervisor.goto(f"/portal/org/{org}/")
        heading = supervisor.locator("h1", has_text=LONG_NAME[:60]).inner_text()
        assert heading.startswith(LONG_NAME)

        for name, url in {
            "agent-own-license": "/portal/me/",
            "refused": f"/portal/org/{org}/",
        }.items():
            agent.goto(url)
            assert_fits(agent, f"{name} at {width} px")
        assert unlicensed.goto("/portal/").status == 503
        assert_fits(unlicensed, f"unlicensed at {width} px")
        for name, url in visitor_pages.items():
            visitor.goto(url)
            assert_fits(visitor, f"{name} at {width} px")
        visitor.goto("/accounts/login/")
        visitor.fill("input[name=username]", "nobody")
        visitor.fill("input[name=password]", "wrong")
        visitor.click("button[type=submit]")
        assert_fits(visitor, f"login refused at {width} px")


def test_a_table_wider_than_the_screen_says_it_scrolls_sideways(
    long_names, open_browser, screenshot
):
    """Between a phone (where tables stack) and a laptop, the ten columns of seat usage do not
    fit: the box is outlined and labelled, and a hint says so."""
    page = open_browser(viewport=(700, 800))
    log_in(page, "nina.supervisor")
    page.goto(f"/portal/org/{long_names['north'].pk}/")
    wrap = page.locator(".table-wrap").first
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")  # it does scroll here
    expect(page.get_by_text("Scroll sideways to see every column")).to_be_visible()
    assert wrap.get_attribute("aria-label") == "Seat usage, scrolls sideways"
    assert wrap.get_attribute("tabindex") == "0"  # the keyboard can scroll it too
    assert_fits(page, "seat usage at 700 px")
    screenshot(page, "layout-tablet-seat-usage", full_page=False)
    # Wide enough again: the hint goes away with the scrolling.
    page.set_viewport_size({"width": 1366, "height": 800})
    expect(page.get_by_text("Scroll sideways to see every column")).to_be_hidden()
    assert wrap.get_attribute("aria-label") is None


def test_the_history_chart_is_readable_on_a_phone(world, open_browser, screenshot):
    page = open_browser(viewport=PHONE)
    log_in(page, "nina.supervisor")
    page.goto(f"/portal/org/{world['north'].pk}/history/?days=90")
    chart = page.locator('section[data-series="agent-concurrent"] svg.chart')
    chart.scroll_into_view_if_needed()
    labels = chart.evaluate(
        """svg => [...svg.querySelectorAll("text")].map((t) => {
          const r = t.getBoundingClientRect();
          // The size on screen: the computed size times the scale the SVG is drawn at.
          const size = parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
          return {text: t.textContent, size, left: r.left, right: r.right, top: r.top};
        })"""
    )
    assert len(labels) >= 9  # three dates and six seat counts
    too_small = [(label["text"], round(label["size"], 1)) for label in labels if label["size"] < 11]
    assert not too_small, f"axis text under 11 px on a 390 px phone: {too_small}"
    dates = sorted((label for label in labels if " " in label["text"]), key=lambda d: d["left"])
    assert len(dates) == 3
    assert all(a["right"] <= b["left"] for a, b in zip(dates, dates[1:], strict=False)), dates
    box = chart.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE[0]
    screenshot(page, "layout-phone-history-chart", full_page=False)


# A status colour against what is really behind it: the nearest opaque background (translucent
# ones blended in), as the browser computed them.
CONTRAST = """(selector) => {
  const parse = (c) => {
    const m = c.match(/[\\d.]+/g).map(Number);
    return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1];
  };
  const over = (top, under) =>
    top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3])).concat([1]);
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let colour = [255, 255, 255, 1];
    if (layers.length && layers[layers.length - 1][3] >= 1) colour = layers.pop();
    while (layers.length) colour = over(layers.pop(), colour);
    return colour;
  };
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  return [...document.querySelectorAll(selector)]
    .filter((el) => el.offsetParent !== null && el.textContent.trim())
    .map((el) => {
      const bg = background(el);
      const fg = over(parse(getComputedStyle(el).color), bg);
      const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      const text = el.textContent.trim().slice(0, 50);
      return {text, cls: el.className, ratio: (hi + 0.05) / (lo + 0.05)};
    });
}"""
PORTAL_STATUS = ".badge, .bad, .warn, .ok, ul.notices li, .note, .errorlist, .messages li, .muted"
WALLBOARD_STATUS = ".tile .state, .tile .label, .tile .sub"
ADMIN_STATUS = ".iwp-status .bad, .iwp-status .warn, .iwp-status .ok, .iwp-status .badge, .iwp-note"


@pytest.fixture
def pools_in_every_state(licensed_server, vendor_key):
    """One organization whose four pools stand differently, on a license expiring in 20 days:
    Supervisor Assignable full, Supervisor Concurrent with room, Agent Concurrent over its count
    within the 100% allowance, Agent Assignable beyond it (a smaller license installed after
    its seats were given)."""
    expires_on = timezone.localdate() + timedelta(days=20)
    entitlements = [
        "server",
        "organization=5",
        "supervisor:assignable=2",
        "supervisor:concurrent=2",
        "agent:assignable=4",
        "agent:concurrent=3+100%",
        "marquee",
    ]
    server = licensed_server(
        server_id="CIC-STATES", entitlements=entitlements, expires_on=expires_on
    )
    org = OrganizationFactory(server=server, name="Fabrikam Support")
    assigned, concurrent = User.LicenseMethod.ASSIGNED, User.LicenseMethod.CONCURRENT
    for i in range(3):
        seat_assign(user=member(org, f"agent{i}.assigned", "agent", assigned))
    install_license(
        vendor_key,
        server_id="CIC-STATES",
        entitlements=[e.replace("agent:assignable=4", "agent:assignable=1") for e in entitlements],
        expires_on=expires_on,
    )
    supervisor = member(org, "sue.supervisor", "supervisor", concurrent)
    sups = [member(org, f"sup{i}.assigned", "supervisor", assigned) for i in range(2)]
    for sup in sups:
        seat_assign(user=sup)
    for i in range(4):
        lease_acquire(user=member(org, f"agent{i}.concurrent", "agent", concurrent))
    from compliance.models import ComplianceEvent

    ComplianceEvent.objects.create(
        server=server,
        day=timezone.localdate() - timedelta(days=1),
        license_type="agent",
        method="concurrent",
        licensed_count=3,
        found_count=4,
        message="Total agent users have exceeded the total agent user license count, "
        "licenses: [3] agent user: [4]",
    )
    admin = User.objects.create_superuser("root", "root@example.com", "correct horse battery")
    marquee_only = licensed_server(server_id="CIC-WALLONLY", entitlements=["server", "marquee"])
    OrganizationFactory(server=marquee_only, name="Lobby screens", is_wallboard=True)
    return {"org": org, "supervisor": supervisor, "sups": sups, "admin": admin}


def test_status_colours_keep_aa_contrast_in_light_and_dark(
    pools_in_every_state, open_browser, screenshot
):
    org = pools_in_every_state["org"]
    portal = open_browser(viewport=DESKTOP)
    log_in(portal, "sue.supervisor")
    admin = open_browser(viewport=DESKTOP)
    admin.goto("/admin/login/")
    admin.fill("input[name=username]", "root")
    admin.fill("input[name=password]", "correct horse battery")
    admin.click("[type=submit]")
    checked, body = {}, {}
    for scheme in ("light", "dark"):
        portal.emulate_media(color_scheme=scheme)
        admin.emulate_media(color_scheme=scheme)
        pages = [
            (portal, "seat-usage", f"/portal/org/{org.pk}/", PORTAL_STATUS),
            (portal, "compliance", f"/portal/org/{org.pk}/compliance/", PORTAL_STATUS),
            (portal, "wallboard", f"/portal/org/{org.pk}/wallboard/", WALLBOARD_STATUS),
            (admin, "admin-index", "/admin/", ADMIN_STATUS),
            (admin, "admin-organizations", "/admin/organizations/organization/", ADMIN_STATUS),
        ]
        for page, name, url, selector in pages:
            page.goto(url)
            ratios = page.evaluate(CONTRAST, selector)
            assert ratios, f"no status text measured on {url}"
            low = [(r["text"], r["cls"], round(r["ratio"], 2)) for r in ratios if r["ratio"] < 4.5]
            assert not low, f"{url} in {scheme}: below 4.5:1: {low}"
            checked[(scheme, name)] = round(min(r["ratio"] for r in ratios), 2)
            if name in ("seat-usage", "admin-index"):
                screenshot(page, f"contrast-{scheme}-{name}", full_page=False)
            if name == "seat-usage":
                body[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
                dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
                assert dark == (scheme == "dark")
    # The dark scheme is a scheme of its own, not the light page unchanged.
    assert body["light"] != body["dark"]
    print("lowest contrast per page:", checked)


def test_full_over_the_allowance_exceeded_and_expiring_look_different(
    pools_in_every_state, open_browser, screenshot
):
    page = open_browser(viewport=DESKTOP)
    log_in(page, "sue.supervisor")
    page.goto(f"/portal/org/{pools_in_every_state['org'].pk}/")

    def badge(row, kind):
        b = page.locator(f'tr[data-license="{row}"] .badge.{kind}')
        expect(b).to_have_count(1)
        return b.evaluate(
            """el => ({text: el.innerText.trim(), icon: el.querySelector('.icon').textContent,
                       hidden: el.querySelector('.icon').getAttribute('aria-hidden'),
                       colour: getComputedStyle(el).color,
                       background: getComputedStyle(el).backgroundColor})"""
        )

    seen = {
        "full": badge("supervisor-assignable", "full"),
        "overage": badge("agent-concurrent", "overage"),
        "exceeded": badge("agent-assignable", "exceeded"),
        "expiring": badge("supervisor-concurrent", "expiring"),
    }
    assert seen["full"]["text"].endswith("Full")
    assert seen["overage"]["text"].endswith("Over the count, within allowance")
    assert seen["exceeded"]["text"].endswith("Exceeded")
    assert "Expires" in seen["expiring"]["text"]
    # A pool with room and a valid license says nothing about fullness.
    expect(page.locator('tr[data-license="supervisor-concurrent"] .badge.full')).to_have_count(0)
    for key in ("text", "icon", "colour", "background"):
        values = [b[key] for b in seen.values()]
        assert len(set(values)) == 4, f"two states share a {key}: {seen}"
    assert all(b["hidden"] == "true" for b in seen.values())  # the words speak, not the symbol
    screenshot(page, "badges-seat-usage", full_page=False)


def test_the_wallboard_marks_a_full_pool(pools_in_every_state, open_browser, screenshot):
    page = open_browser(viewport=(1600, 900))
    log_in(page, "sue.supervisor")
    page.goto(f"/portal/org/{pools_in_every_state['org'].pk}/wallboard/")
    full = page.locator('.tile[data-key="supervisor-assignable"]')
    expect(full.locator(".state")).to_be_visible()
    expect(full.locator(".state-text")).to_have_text("Full")
    room = page.locator('.tile[data-key="supervisor-concurrent"]')
    expect(room.locator(".state")).to_be_hidden()
    # The full tile is outlined, the others are not.
    assert full.evaluate("el => getComputedStyle(el).borderTopColor") != room.evaluate(
        "el => getComputedStyle(el).borderTopColor"
    )
    expect(page.locator('.tile[data-key="agent-concurrent"] .state-text')).to_have_text(
        "Over the count, within allowance"
    )
    screenshot(page, "wallboard-full-pool", full_page=False)

    # A seat comes free: the next refresh takes the mark off without reloading.
    from seats.services.assignments import seat_release

    seat_release(user=pools_in_every_state["sups"][0])
    page.evaluate("window.iwpWallboardRefresh()")
    expect(full.locator(".state")).to_be_hidden()


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_deleting_a_scheduled_report_asks_first(world, open_browser, screenshot, javascript):
    page = open_browser(viewport=PHONE, javascript=javascript)
    log_in(page, "nina.supervisor")
    report = ScheduledReport.objects.get(name="Weekly seat usage")
    page.goto(f"/portal/org/{world['north'].pk}/reports/{report.pk}/")

    page.get_by_role("link", name="Delete this report").click()
    expect(page.get_by_role("heading", name="Delete the scheduled report “Weekly seat usage”?"))
    assert ScheduledReport.objects.filter(pk=report.pk).exists()  # asking deletes nothing
    assert_fits(page, "the delete question on a phone")
    if javascript:
        screenshot(page, "report-delete-confirm-phone")
    page.get_by_role("link", name="Cancel, keep it").click()
    assert page.url.endswith(f"/reports/{report.pk}/")
    assert ScheduledReport.objects.filter(pk=report.pk).exists()

    page.get_by_role("link", name="Delete this report").click()
    page.get_by_role("button", name="Delete the report").click()
    expect(page.locator(".messages")).to_contain_text("report “Weekly seat usage” deleted.")
    assert not ScheduledReport.objects.filter(pk=report.pk).exists()


@pytest.fixture
def admin_lists(licensed_server):
    """What makes the admin's busiest lists wide: a long customer name on the license files,
    the audit's messages, and changes made in the admin (the audit log's URL and before/after)."""
    customer = "Northwind Outsourcing and Customer Experience Services International Holdings"
    server = licensed_server(server_id="CIC-NORTHWIND-EUROPE-WEST-PRIMARY-01", customer=customer)
    licensed_server(server_id="CIC-NORTHWIND-EUROPE-WEST-PRIMARY-01", customer=customer)
    OrganizationFactory(server=server, name="Northwind Outsourcing")
    from compliance.models import ComplianceEvent

    for days_ago in range(1, 4):
        for license_type, name in (("agent", "agent"), ("supervisor", "enterprise")):
            ComplianceEvent.objects.create(
                server=server,
                day=timezone.localdate() - timedelta(days=days_ago),
                license_type=license_type,
                method="concurrent",
                licensed_count=300,
                found_count=312,
                message=(
                    f"Total {name} users have exceeded the total {name} user license count, "
                    f"licenses: [300] {name} user: [312]"
                ),
            )
    User.objects.create_superuser("root", "root@example.com", "correct horse battery")
    return server


ADMIN_PAGES = {
    "index": "/admin/",
    "audit-log": "/admin/pghistory/middlewareevents/",
    "compliance-events": "/admin/compliance/complianceevent/",
    "license-files": "/admin/licenses/licensefile/",
    "organizations": "/admin/organizations/organization/",
    "users": "/admin/organizations/user/",
    "user-import": "/admin/organizations/user/import/",
    "servers": "/admin/organizations/server/",
    "audit-runs": "/admin/compliance/auditrun/",
    "entitlements": "/admin/licenses/entitlement/",
}
# The lists reported pushing columns out of view at 1366 px.
BUSY_LISTS = ("audit-log", "compliance-events", "license-files")


def test_the_admin_lists_fit_a_laptop_and_say_when_they_scroll_on_a_phone(
    admin_lists, open_browser, screenshot
):
    page = open_browser(viewport=DESKTOP)
    page.goto("/admin/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "correct horse battery")
    page.click("[type=submit]")
    # A change made in the admin: the audit log shows its URL, address and before/after.
    org = admin_lists.organizations.get()
    page.goto(f"/admin/organizations/organization/{org.pk}/change/")
    page.fill("input[name=name]", LONG_NAME)
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_be_visible()

    pages = {
        **ADMIN_PAGES,
        "server": f"/admin/organizations/server/{admin_lists.pk}/change/",
        "organization": f"/admin/organizations/organization/{org.pk}/change/",
    }
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        size = "phone" if viewport == PHONE else "desktop"
        for name, url in pages.items():
            assert page.goto(url).status == 200, url
            if name in BUSY_LISTS and (viewport == DESKTOP or name == "audit-log"):
                screenshot(page, f"admin-{size}-{name}", full_page=False)
            assert_fits(page, f"admin {name} at {viewport[0]} px", tables_fit=viewport == DESKTOP)
            if viewport == DESKTOP and name in BUSY_LISTS:
                results = page.locator("#changelist-form .results")
                widths = results.evaluate("el => [el.scrollWidth, el.clientWidth]")
                assert widths[0] <= widths[1], (
                    f"admin {name}: {widths[0]} px of columns in {widths[1]} px at 1366 px"
                )
