"""Headless Chromium (Debian's, never a downloaded one) driving the portal on
pytest-django's live server."""

import os

# Playwright's sync API runs an event loop in this thread; the ORM calls of the tests are
# still synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from .journeys import demo_world  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Every run saves its screenshots here; `make screenshots` points it at
# docs/screenshots (the README's).
SCREENSHOTS = Path(
    os.environ.get(
        "IWP_SCREENSHOTS_DIR", Path(__file__).resolve().parents[3] / "test-results" / "screenshots"
    )
)


@pytest.fixture
def world(licensed_server):
    """What the demo shows (journeys.demo_world)."""
    return demo_world(licensed_server)


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


# What Chromium says when the Content-Security-Policy or the Permissions-Policy refuses something
# (an inline script or style, eval, a foreign source) or cannot be read.
POLICY_MESSAGES = (
    "Content Security Policy",
    "Content-Security-Policy",
    "Refused to",
    "Permissions-Policy",
)


@pytest.fixture
def browser_problems():
    """What the pages opened by ``open_browser`` reported: policy messages on the console and
    uncaught script errors. Any left at the end of a test fail it."""
    return []


@pytest.fixture
def open_browser(chromium, live_server, browser_problems):
    """A fresh browser context (no cookies) per call; ``viewport`` as (width, height);
    ``javascript=False`` for a browser that runs none."""
    contexts = []

    def open_(viewport=(1280, 860), javascript=True):
        context = chromium.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            accept_downloads=True,
            base_url=live_server.url,
            java_script_enabled=javascript,
        )
        context.set_default_timeout(15000)
        contexts.append(context)
        page = context.new_page()

        def on_console(message):
            if any(marker in message.text for marker in POLICY_MESSAGES):
                browser_problems.append(f"console {message.type} on {page.url}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: browser_problems.append(f"error on {page.url}: {error}"))
        return page

    yield open_
    for c in contexts:
        c.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A browser test whose pages reported a policy violation or a script error fails."""
    result = yield
    problems = item.funcargs.get("browser_problems")
    if problems:
        pytest.fail("The browser reported:\n" + "\n".join(problems), pytrace=False)
    return result


@pytest.fixture
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(page, name, full_page=True):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return shot


PASSWORD = "correct horse battery"  # tests/factories.py


def log_in(page, url, username, password=PASSWORD):
    """Sign in on the login page at ``url`` (the site's or the admin's) and wait for the next."""
    page.goto(url)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[type=submit]")
    page.wait_for_load_state()
