"""A preview before a license changes: the admin's upload and ``import_license --dry-run`` show
the installed license beside the new file, mark what today's use would exceed, and install
nothing until the administrator says Install."""

import base64
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from licenses.models import Entitlement, LicenseFile
from licenses.selectors import license_file_preview
from licenses.services import license_file_verify
from licenses.signals import usage_requested
from organizations.models import Server
from seats.selectors import usage_by_server
from seats.services.assignments import seat_assign
from tests.factories import OrganizationFactory, UserFactory, license_text
from tests.history import history
from tests.seats.seat_helpers import member

pytestmark = pytest.mark.django_db

INSTALL = "/admin/licenses/licensefile/install/"
NOW = ["server", "organization=2", "agent:assignable=3", "agent:concurrent=5+10%", "marquee"]
SMALLER = ["server", "organization=2", "agent:assignable=2", "agent:concurrent=5+10%"]


def _seats_usage(sender, *, server_ids, **kwargs):
    return usage_by_server(server_ids=server_ids)


@pytest.fixture
def seats_answer():
    """The answer to ``usage_requested`` that the seats app is to give (a receiver in
    seats/receivers.py returning ``usage_by_server``; not wired there yet)."""
    usage_requested.connect(_seats_usage)
    yield
    usage_requested.disconnect(_seats_usage)


@pytest.fixture
def no_usage_answer():
    """No receiver answers ``usage_requested``: in use is unknown."""
    saved = usage_requested.receivers[:]
    usage_requested.receivers.clear()
    usage_requested.sender_receivers_cache.clear()
    yield
    usage_requested.receivers[:] = saved
    usage_requested.sender_receivers_cache.clear()


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def three_agents_assigned(licensed_server):
    """CIC-PRE with the NOW license and three agents holding Assignable seats."""
    server = licensed_server(server_id="CIC-PRE", entitlements=NOW)
    organization = OrganizationFactory(server=server, name="Northwind")
    for name in ("ann", "bob", "cy"):
        seat_assign(user=member(organization, name, method="assigned"))
    return server


def _snapshot():
    return (
        list(LicenseFile.objects.order_by("pk").values_list("serial", "replaced_at")),
        list(Entitlement.objects.order_by("pk").values_list("pk", "quantity")),
        list(Server.objects.order_by("pk").values_list("server_id", flat=True)),
    )


def _upload(client, text, server=""):
    return client.post(
        INSTALL, {"file": SimpleUploadedFile("new.lic", text.encode()), "server": server}
    )


def _confirm_data(preview_response):
    return {k: v or "" for k, v in preview_response.context["confirm"].initial.items()}


def test_upload_shows_both_columns_marks_the_exceeded_license_and_installs_nothing(
    admin_client, vendor_key, three_agents_assigned, seats_answer
):
    before = _snapshot()
    text = license_text(vendor_key, server_id="CIC-PRE", entitlements=SMALLER, serial="PRE-2")
    response = _upload(admin_client, text)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/licenses/licensefile/preview.html"
    preview = response.context["preview"]
    lines = {(line.license_type, line.method): line for line in preview.lines}
    assert len(preview.lines) == 8
    agents = lines[("agent", "assignable")]
    assert (agents.current.quantity, agents.new.quantity, agents.in_use) == (3, 2, 3)
    assert [(line.license_type, line.method) for line in preview.exceeded] == [
        ("agent", "assignable")
    ]
    assert lines[("marquee", "")].current is not None and lines[("marquee", "")].new is None
    assert lines[("agent", "concurrent")].new.overage_percent == 10
    page = response.content.decode()
    assert 'id="preview-agent-assignable" class="exceeded"' in page
    assert "exceeded: 2 licensed" in page
    assert page.count("exceeded: ") == 1
    assert "Installed now" in page and "New file" in page
    assert 'name="_install"' in page and 'name="_cancel"' in page
    assert _snapshot() == before


def test_install_installs_the_previewed_file_and_verifies_it_again(
    admin_client, vendor_key, three_agents_assigned, seats_answer
):
    text = license_text(vendor_key, server_id="CIC-PRE", entitlements=SMALLER, serial="PRE-2")
    data = _confirm_data(_upload(admin_client, text))
    assert base64.b64decode(data["license"]).decode() == text  # carried whole, not re-uploaded
    response = admin_client.post(INSTALL, {**data, "_install": "Install"})
    lf = LicenseFile.objects.installed().get(server__server_id="CIC-PRE")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/organizations/server/{lf.server_id}/change/"
    assert lf.serial == "PRE-2" and lf.content == text
    assert lf.entitlements.get(license_type="agent", method="assignable").quantity == 2
    assert [(e.label, e.actor) for e in history(lf)] == [("insert", "admin")]


def test_install_of_a_changed_copy_is_refused_and_changes_nothing(
    admin_client, vendor_key, three_agents_assigned
):
    text = license_text(vendor_key, server_id="CIC-PRE", entitlements=SMALLER, serial="PRE-2")
    data = _confirm_data(_upload(admin_client, text))
    before = _snapshot()
    changed = text.replace('"quantity": 2', '"quantity": 20')
    data["license"] = base64.b64encode(changed.encode()).decode()
    response = admin_client.post(INSTALL, {**data, "_install": "Install"}, follow=True)
    assert "signature does not verify" in response.content.decode()
    assert _snapshot() == before
    garbled = admin_client.post(INSTALL, {**data, "license": "%%", "_install": "1"}, follow=True)
    assert "The previewed file was changed" in garbled.content.decode()
    assert _snapshot() == before


def test_cancel_installs_nothing(admin_client, vendor_key, three_agents_assigned):
    text = license_text(vendor_key, server_id="CIC-PRE", entitlements=SMALLER, serial="PRE-2")
    data = _confirm_data(_upload(admin_client, text))
    before = _snapshot()
    response = admin_client.post(INSTALL, {**data, "_cancel": "Cancel"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/licenses/licensefile/"
    assert "Nothing was installed." in admin_client.get(response["Location"]).content.decode()
    assert _snapshot() == before


def test_a_refused_file_shows_the_refusal_at_upload(admin_client, vendor_key, licensed_server):
    licensed_server(server_id="CIC-PRE")
    text = license_text(vendor_key, server_id="CIC-PRE", entitlements=SMALLER)
    response = _upload(admin_client, text.replace('"quantity": 2', '"quantity": 200', 1))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The license file was not installed." in page
    assert "signature does not verify" in page
    assert "preview" not in response.context


def test_a_file_for_a_new_server_previews_without_creating_it(admin_client, vendor_key):
    text = license_text(vendor_key, server_id="CIC-FRESH", entitlements=SMALLER)
    response = _upload(admin_client, text)
    assert "Server CIC-FRESH is not here yet" in response.content.decode()
    assert not Server.objects.filter(server_id="CIC-FRESH").exists()


def test_without_usage_nothing_is_marked_and_the_page_says_so(
    admin_client, vendor_key, three_agents_assigned, no_usage_answer
):
    text = license_text(vendor_key, server_id="CIC-PRE", entitlements=SMALLER)
    response = _upload(admin_client, text)
    assert response.context["preview"].exceeded == []
    assert "What is in use now is not known here" in response.content.decode()


def test_a_counted_line_the_new_file_drops_is_exceeded_by_any_use(
    vendor_key, three_agents_assigned
):
    text = license_text(vendor_key, server_id="CIC-PRE", entitlements=["server"])
    content, _key_id = license_file_verify(text=text)
    server = three_agents_assigned
    preview = license_file_preview(content=content, usage=usage_by_server(server_ids=[server.pk]))
    assert [(line.license_type, line.method, line.in_use) for line in preview.exceeded] == [
        ("organization", "", 1),
        ("agent", "assignable", 3),
    ]
    assert {line.new_licensed for line in preview.exceeded} == {0}


def test_dry_run_prints_the_table_and_changes_nothing(
    tmp_path, capsys, vendor_key, three_agents_assigned, no_usage_answer
):
    path = tmp_path / "new.lic"
    path.write_text(
        license_text(vendor_key, server_id="CIC-PRE", entitlements=SMALLER, serial="PRE-2")
    )
    before = _snapshot()
    call_command("import_license", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert _snapshot() == before
    assert "Dry run: license PRE-2" in out and "nothing was installed" in out
    table = {line[:46].rstrip(): line[46:].split() for line in out.splitlines()}
    assert table["License"] == ["Now", "Allow", "Expires", "New", "Allow", "Expires", "In", "use"]
    expires = f"{timezone.localdate() + timedelta(days=365):%Y-%m-%d}"
    assert table["Agent access (IWP_Agent) Assignable"] == ["3", expires, "2", expires, "changed"]
    assert table["Agent access (IWP_Agent) Concurrent"] == ["5", "+10%", expires] * 2
    assert table["Marquee"] == ["yes", expires, "—", "changed"]
    assert "In use is not known to this command; the admin's preview shows it." in out
    assert "EXCEEDED" not in out


def test_dry_run_marks_the_exceeded_license_when_usage_is_known(
    tmp_path, capsys, vendor_key, three_agents_assigned, seats_answer
):
    path = tmp_path / "new.lic"
    path.write_text(license_text(vendor_key, server_id="CIC-PRE", entitlements=SMALLER))
    before = _snapshot()
    call_command("import_license", str(path), "--dry-run")
    out = capsys.readouterr().out
    [marked] = [line for line in out.splitlines() if "EXCEEDED" in line]
    assert marked.startswith("Agent access (IWP_Agent) Assignable")
    assert marked.split()[-4:] == ["3", "EXCEEDED", "(2", "licensed)"]
    assert _snapshot() == before


def test_dry_run_of_a_refused_file_gives_the_reason(tmp_path, vendor_key, three_agents_assigned):
    path = tmp_path / "bad.lic"
    text = license_text(vendor_key, server_id="CIC-PRE", entitlements=SMALLER)
    path.write_text(text.replace('"quantity": 2', '"quantity": 20', 1))
    before = _snapshot()
    with pytest.raises(CommandError, match=r"bad\.lic was refused \(bad_signature\)"):
        call_command("import_license", str(path), "--dry-run")
    assert _snapshot() == before
