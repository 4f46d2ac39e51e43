"""The seat API's interactive documentation in headless Chromium: served from this site's static
files, under the Content-Security-Policy (the browser fixtures fail on any refusal)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_page_lists_the_endpoints(open_browser, screenshot):
    page = open_browser()
    page.goto("/api/v1/docs")
    page.wait_for_selector("text=Check a seat out")
    for summary in ("Keep a seat", "Check a seat in", "This server's seat pools"):
        assert page.get_by_text(summary).first.is_visible()
    screenshot(page, "19-api-docs")
