"""In headless Chromium: a supervisor opens Renewal from the portal's navigation, reads what to
buy beside today's count, sees each license's chart continue as a dashed projection in its band,
downloads the table, and finds the projection on the history chart too."""

import csv
import io

import pytest
from django.core.cache import cache

from .journeys import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supervisor_opens_renewal_reads_the_table_and_the_projection(
    world, open_browser, screenshot
):
    cache.clear()
    page = open_browser()
    log_in(page, "nina.supervisor")
    page.click("nav.tabs >> text=Renewal")
    page.wait_for_load_state()
    assert page.locator("h2", has_text="What to buy at renewal").is_visible()

    row = page.locator('tr[data-license="agent-concurrent"]')
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "Agent access (IWP_Agent) Concurrent"
    assert cells[1] == "3"  # licensed today on CIC-DEMO-01
    projected, recommended = int(cells[5]), int(cells[6])
    assert projected >= 1 and recommended >= projected
    assert cells[7] == f"{recommended - 3:+d}".replace("+0", "0")
    assert "Contoso Insurance" not in page.content()

    chart = page.locator('section[data-series="agent-concurrent"] svg.chart')
    assert chart.is_visible()
    assert chart.locator("polyline.peak").count() == 1
    band = chart.locator("polygon.projection-band")
    line = chart.locator("polyline.projection")
    assert band.count() == 1 and line.count() == 1
    assert line.get_attribute("stroke-dasharray") == "5 4"
    assert band.bounding_box()["width"] > 100  # the projection runs on past the history
    screenshot(page, "07-renewal")

    with page.expect_download() as download_info:
        page.click("text=Download renewal table (CSV)")
    text = open(download_info.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][8:10] == ["projected peak at expiry", "recommended at renewal"]
    agent = next(r for r in rows if r[2].startswith("Agent") and r[3] == "concurrent")
    assert agent[1] == "Northwind Outsourcing" and int(agent[9]) == recommended

    page.click("nav.tabs >> text=History")
    page.click("text=90 days")
    history = page.locator('section[data-series="agent-concurrent"]')
    assert history.locator("svg.chart polyline.projection").count() == 1
    assert "projected peak" in history.locator("h2").inner_text()
    screenshot(page, "08-history-with-projection")
