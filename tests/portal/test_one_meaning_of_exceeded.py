"""The admin home, the portal, the wallboard and the audit judge a license on one day the same way:
on the most in use that day, with use over the count but within the overage allowance shown as
its own state."""

import pytest
from django.test import Client
from django.utils import timezone

from compliance.services import compliance_audit_run
from licenses.services import license_file_import
from organizations.models import Membership
from seats.services.leases import lease_release
from tests.factories import license_text

from ..seats.seat_helpers import login, member, setup_server

pytestmark = pytest.mark.django_db


def test_over_the_count_within_the_allowance_is_its_own_state_everywhere(
    licensed_server, admin_client, make_member
):
    server, organization = setup_server(
        licensed_server, ["agent:concurrent=3+100%", "supervisor:assignable=2", "marquee"]
    )
    for i in range(5):
        member(organization, f"agent{i}")
        assert login(Client(), f"agent{i}").status_code == 302  # within 6: no one refused
    supervisor = make_member(organization, role=Membership.Role.SUPERVISOR)
    portal = Client()
    portal.force_login(supervisor)

    home = admin_client.get("/admin/").content.decode()
    assert "over the count, within the allowance" in home
    page = portal.get(f"/portal/org/{organization.pk}/").content.decode()
    assert "Over the count" in page and "within the overage allowance" in page
    figures = portal.get(f"/portal/org/{organization.pk}/wallboard.json").json()["figures"]
    agent = next(f for f in figures if f["key"] == "agent-concurrent")
    assert (agent["exceeded"], agent["state"]) == (True, "overage")
    run = compliance_audit_run(day=timezone.localdate())
    [event] = run.events.all()
    assert (event.licensed_count, event.found_count) == (3, 5)


def test_after_a_smaller_license_the_pages_show_the_days_peak_the_audit_judges(
    licensed_server, admin_client, vendor_key
):
    server, organization = setup_server(licensed_server, ["supervisor:concurrent=2"])
    sups = [member(organization, f"sup{i}", role=Membership.Role.SUPERVISOR) for i in range(2)]
    for sup in sups:
        assert login(Client(), sup.username).status_code == 302
    lease_release(user=sups[1])  # one left: 1 in use now, 2 at most today
    license_file_import(
        text=license_text(
            vendor_key,
            server_id=server.server_id,
            entitlements=["server", "organization=5", "supervisor:concurrent=1"],
        )
    )

    home = admin_client.get("/admin/").content.decode()
    row = home[home.index("Supervisor access (IWP_Supervisor) Concurrent") :]
    row = row[: row.index("</tr>")]
    cells = [c.split(">")[-1] for c in row.split("</td>")[:-1]]
    assert cells[1:5] == ["1", "", "1", "2"]  # licensed, allowance, in use now, most today
    assert "exceeded" in row
    run = compliance_audit_run(day=timezone.localdate())
    [event] = run.events.all()
    assert (event.license_type, event.licensed_count, event.found_count) == ("supervisor", 1, 2)
