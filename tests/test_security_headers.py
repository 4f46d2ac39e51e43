"""Every page says what the browser may do: a strict Content-Security-Policy (no inline script or
style without the response's nonce, no framing, no plugins) and a Permissions-Policy that denies
devices and sensors. The browser tests (tests/portal/browser/) prove the pages work under it."""

import pytest

from tests.seats.seat_helpers import member, setup_server

pytestmark = pytest.mark.django_db

DIRECTIVES = {
    "default-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict((d.strip().split(" ", 1) + [""])[:2] for d in header.split(";") if d.strip())


def assert_strict(response):
    csp = policy(response)
    for directive, value in DIRECTIVES.items():
        assert csp[directive] == value, (directive, csp)
    for directive in ("script-src", "style-src"):
        sources = csp[directive].split()
        assert sources[0] == "'self'"
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources
        assert all(s == "'self'" or s.startswith("'nonce-") for s in sources), sources
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions


@pytest.fixture
def portal_client(client, licensed_server):
    _, organization = setup_server(licensed_server, ["agent:concurrent=2"])
    member(organization, "bob")
    client.post("/accounts/login/", {"username": "bob", "password": "correct horse battery"})
    return client


def test_a_portal_page_carries_both_policies(portal_client):
    response = portal_client.get("/portal/")
    assert response.status_code == 200
    assert_strict(response)


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_the_login_pages_carry_both_policies(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert_strict(response)


def test_the_admin_carries_both_policies(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert_strict(response)


def test_the_lockout_page_carries_both_policies(client):
    for _ in range(5):
        response = client.post("/accounts/login/", {"username": "bob", "password": "wrong"})
    assert response.status_code == 429
    assert_strict(response)


def test_no_inline_script_or_style_without_the_nonce(portal_client, admin_client):
    """The project's own templates: no <style> or style="" at all, a <script> only with a src
    or the nonce the header names."""
    for client, url in ((portal_client, "/portal/"), (admin_client, "/admin/")):
        response = client.get(url)
        html = response.content.decode()
        assert "<style" not in html and "style=" not in html, url
        nonce = policy(response)["script-src"].split("'nonce-")[-1].rstrip("'")
        for tag in html.split("<script")[1:]:
            opening = tag.split(">", 1)[0]
            assert "src=" in opening or f'nonce="{nonce}"' in opening, (url, opening)
