"""What an administrator does in the Django admin: install licenses, see status, manage tenants."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from licenses.models import Entitlement, LicenseFile
from organizations.models import Organization
from tests.factories import OrganizationFactory, ServerFactory, UserFactory, license_text
from tests.history import history

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def _upload(admin_client, text, server=""):
    return admin_client.post(
        "/admin/licenses/licensefile/install/",
        {"file": SimpleUploadedFile("site.lic", text.encode()), "server": server},
    )


def _install(admin_client, text, server=""):
    """Upload, then click Install on the preview."""
    confirm = _upload(admin_client, text, server).context["confirm"]
    return admin_client.post(
        "/admin/licenses/licensefile/install/", {**confirm.initial, "_install": "Install"}
    )


def test_admin_installs_an_uploaded_license_file(admin_client, vendor_key):
    response = _install(
        admin_client,
        license_text(vendor_key, server_id="CIC-UP", entitlements=["server", "organization=2"]),
    )
    lf = LicenseFile.objects.installed().get(server__server_id="CIC-UP")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/organizations/server/{lf.server_id}/change/"
    page = admin_client.get(response["Location"]).content.decode()
    assert "installed for server CIC-UP" in page
    assert lf.serial in page
    assert [(e.label, e.actor) for e in history(lf)] == [("insert", "admin")]


def test_admin_upload_of_a_tampered_file_shows_why_and_changes_nothing(admin_client, vendor_key):
    installed = _install(
        admin_client,
        license_text(vendor_key, server_id="CIC-UP", entitlements=["server", "organization=2"]),
    )
    assert installed.status_code == 302
    tampered = license_text(
        vendor_key, server_id="CIC-UP", entitlements=["server", "organization=2"]
    ).replace('"quantity": 2', '"quantity": 200')
    response = _upload(admin_client, tampered)
    assert response.status_code == 200
    page = response.content.decode()
    assert "The license file was not installed." in page
    assert "signature does not verify" in page
    assert LicenseFile.objects.count() == 1
    assert Entitlement.objects.get(license_type="organization").quantity == 2


def test_admin_upload_for_the_wrong_server_is_refused(admin_client, vendor_key):
    response = _upload(
        admin_client,
        license_text(vendor_key, server_id="CIC-B", entitlements=["server"]),
        server="CIC-A",
    )
    assert response.status_code == 200
    assert "is issued for server CIC-B, not for server CIC-A" in response.content.decode()
    assert not LicenseFile.objects.exists()


def test_entitlements_are_read_only_in_the_admin(admin_client, licensed_server):
    server = licensed_server()
    entitlement = Entitlement.objects.filter(license_file__server=server).first()
    url = f"/admin/licenses/entitlement/{entitlement.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="quantity"' not in page
    admin_client.post(url, {"quantity": 999})
    entitlement.refresh_from_db()
    assert entitlement.quantity != 999
    assert admin_client.get("/admin/licenses/entitlement/add/").status_code == 403
    lf_page = admin_client.get(
        f"/admin/licenses/licensefile/{entitlement.license_file_id}/change/"
    ).content.decode()
    assert 'name="entitlements-0-quantity"' not in lf_page


def test_admin_refuses_an_organization_beyond_the_count(admin_client, licensed_server):
    server = licensed_server(entitlements=["server", "organization=1"])
    OrganizationFactory(server=server, name="Acme")
    response = admin_client.post(
        "/admin/organizations/organization/add/",
        {"server": server.pk, "name": "Globex", "is_active": "on"},
    )
    assert response.status_code == 200
    assert (
        f"The Organization license of server {server.server_id} is used up: "
        "1 of 1 organizations in use." in response.content.decode()
    )
    assert list(Organization.objects.values_list("name", flat=True)) == ["Acme"]


def test_admin_creates_an_organization_with_room_and_audits_it(admin_client, licensed_server):
    server = licensed_server(entitlements=["server", "organization=2"])
    response = admin_client.post(
        "/admin/organizations/organization/add/",
        {"server": server.pk, "name": "Globex", "is_active": "on"},
    )
    assert response.status_code == 302
    org = Organization.objects.get(name="Globex")
    admin_client.post(
        f"/admin/organizations/organization/{org.pk}/change/",
        {"name": "Globex Corp", "is_active": "on"},
    )
    entries = history(org)
    assert [(e.label, e.actor) for e in entries] == [("insert", "admin"), ("update", "admin")]
    assert entries[1].changes["name"] == ["Globex", "Globex Corp"]
    assert entries[1].url == f"/admin/organizations/organization/{org.pk}/change/"
    # The one history page of the object: its "History" button leads to the audit trail.
    page = admin_client.get(
        f"/admin/organizations/organization/{org.pk}/history/", follow=True
    ).content.decode()
    assert "Globex Corp" in page and "Globex" in page


def test_home_page_shows_licensed_in_use_available_and_expiry(admin_client, vendor_key):
    from tests.factories import install_license

    today = timezone.localdate()
    install_license(
        vendor_key,
        server_id="CIC-HOME",
        entitlements=["server", "organization=4", "marquee"],
        expires_on=today + timedelta(days=12),
    )
    server = LicenseFile.objects.get().server
    OrganizationFactory(server=server)
    OrganizationFactory(server=server)
    ServerFactory(server_id="CIC-BARE")
    page = admin_client.get("/admin/").content.decode()
    block = page[page.index('id="license-status-CIC-HOME"') :]
    row = block[block.index("Organization") :]
    cells = [c.split(">")[-1].strip() for c in row.split("</td>")[:5]]
    assert cells[1:5] == ["4", "", "2", "2"]  # licensed, allowance, in use, available
    assert f"expires {today + timedelta(days=12):%b. %-d, %Y}" in block or "(in 12 days)" in block
    assert (
        "unlicensed — no license file installed"
        in page[page.index('id="license-status-CIC-BARE"') :]
    )


def test_expired_entitlement_is_marked_and_counts_as_zero(admin_client, vendor_key):
    from licenses.licensefile import EntitlementSpec
    from tests.factories import install_license

    today = timezone.localdate()
    install_license(
        vendor_key,
        server_id="CIC-EXP",
        starts_on=today - timedelta(days=60),
        entitlements=[
            "server",
            EntitlementSpec(
                "agent", "assignable", 5, 0, today - timedelta(days=60), today - timedelta(days=1)
            ),
        ],
    )
    page = admin_client.get("/admin/").content.decode()
    assert "expired on" in page


def test_marquee_only_server_is_named_where_organizations_are_listed(admin_client, licensed_server):
    licensed_server(server_id="CIC-WALL", entitlements=["server", "marquee"])
    page = admin_client.get("/admin/organizations/organization/").content.decode()
    assert "Server CIC-WALL is Marquee-only" in page
    # A fact about the license, shown on every visit: an informational note, not an error box.
    assert '<p class="iwp-note" role="note">Server CIC-WALL is Marquee-only' in page
    assert "errornote" not in page
    assert "Marquee-only (no Organization license)" in admin_client.get("/admin/").content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/organizations/organization/",
        "/admin/organizations/server/",
        "/admin/organizations/user/",
        "/admin/organizations/membership/",
        "/admin/organizations/station/",
        "/admin/licenses/licensefile/",
        "/admin/licenses/entitlement/",
    ],
)
def test_admin_pages_run_the_same_number_of_queries_for_more_rows(
    admin_client, vendor_key, url, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import MembershipFactory, StationFactory, install_license

    def grow(n, prefix):
        for i in range(n):
            server = install_license(
                vendor_key,
                server_id=f"{prefix}-{i}",
                entitlements=["server", "organization=9", "agent:assignable=9"],
            ).server
            for _ in range(3):
                org = OrganizationFactory(server=server)
                MembershipFactory(organization=org)
                StationFactory(organization=org)

    grow(1, "S")
    with CaptureQueriesContext(connection) as small:
        assert admin_client.get(url).status_code == 200
    grow(6, "L")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert admin_client.get(url).status_code == 200


def test_the_admin_home_warns_when_the_audit_would_mail_nobody(admin_client, settings):
    from compliance.models import ComplianceRecipient

    settings.ADMINS = []
    assert (
        "The daily compliance audit has nobody to e-mail"
        in admin_client.get("/admin/").content.decode()
    )
    ComplianceRecipient.objects.create(email="ops@example.com")
    assert "has nobody to e-mail" not in admin_client.get("/admin/").content.decode()
