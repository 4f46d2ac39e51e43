"""What people see of the utilisation alerts: the seat usage page and the wallboard show the
percent in use and the alert threshold reached; supervisors and organization administrators opt
in to the alert mail on their profile; the admin lists the alerts with filters."""

import re

import pytest
from django.utils import timezone

from organizations.models import Membership, User
from seats.models import PoolShare, ThresholdAlert
from tests.factories import OrganizationFactory, ServerFactory, UserFactory

from .test_seat_usage import row

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(licensed_server):
    server = licensed_server(
        entitlements=[
            "server",
            "organization=3",
            "supervisor:assignable=2",
            "agent:concurrent=10",
            "marquee",
        ]
    )
    return OrganizationFactory(server=server, name="Acme Support")


def agents_logged_in(make_member, organization, n):
    for _ in range(n):
        make_member(organization, role="agent", method=User.LicenseMethod.CONCURRENT)


def test_seat_usage_shows_the_percent_in_use_and_the_threshold_reached(
    client, org, supervisor, make_member
):
    agents_logged_in(make_member, org, 9)
    client.force_login(supervisor)
    html = client.get("/portal/").content.decode()
    cells = row(html, "agent-concurrent")
    assert cells[5] == "9 90%"
    assert cells[9] == "◔ ≥ 90%"  # (a plain "valid" shows only when nothing else does)
    assert 'title="9 of 10 in use: the server&#x27;s seats at or above the 90% alert' in html


def test_below_every_threshold_the_percent_shows_and_no_threshold_badge(
    client, org, supervisor, make_member
):
    agents_logged_in(make_member, org, 7)
    client.force_login(supervisor)
    cells = row(client.get("/portal/").content.decode(), "agent-concurrent")
    assert cells[5] == "7 70%" and "≥" not in cells[9]


def test_an_organization_near_its_cap_sees_its_percent_of_the_cap(
    client, org, supervisor, make_member
):
    PoolShare.objects.create(organization=org, license_type="agent", method="concurrent", cap=5)
    agents_logged_in(make_member, org, 4)
    client.force_login(supervisor)
    cells = row(client.get("/portal/").content.decode(), "agent-concurrent")
    assert cells[4] == "4 cap 5 80% of cap" and cells[5] == "4 40%"
    assert "◔ ≥ 80% of cap" in cells[9] and "≥ 80%" not in cells[9].replace("80% of cap", "")
    data = client.get(f"/portal/org/{org.pk}/wallboard.json").json()
    figure = next(f for f in data["figures"] if f["key"] == "agent-concurrent")
    assert (figure["cap_utilisation"], figure["pool_label"]) == ("80%", "≥ 80% of cap")


def test_wallboard_shows_the_percent_and_the_threshold_state_and_refreshes_them(
    client, org, supervisor, make_member
):
    agents_logged_in(make_member, org, 8)
    client.force_login(supervisor)
    html = client.get(f"/portal/org/{org.pk}/wallboard/").content.decode()
    tile = re.search(r'<div class="tile[^"]*" data-key="agent-concurrent"[^>]*>', html).group(0)
    assert 'data-state="threshold"' in tile
    assert '<span class="state-text">≥ 80%</span>' in html
    assert '(<span class="utilisation">80%</span>)' in html
    data = client.get(f"/portal/org/{org.pk}/wallboard.json").json()
    figure = next(f for f in data["figures"] if f["key"] == "agent-concurrent")
    assert (figure["utilisation"], figure["pool_state"], figure["pool_label"]) == (
        "80%",
        "threshold",
        "≥ 80%",
    )


def test_a_supervisor_opts_in_and_out_of_the_alert_mail_on_their_profile(client, org, supervisor):
    supervisor.email = "sam@acme.example"
    supervisor.save()
    client.force_login(supervisor)
    html = client.get("/portal/profile/").content.decode()
    assert "Acme Support" in html and "reach 80%, 90% and 100%" in html
    assert 'name="threshold_alert_mail"' in html and "checked" not in html
    assert 'href="/portal/profile/"' in html  # the header's user name leads here

    response = client.post("/portal/profile/", {"threshold_alert_mail": "on"}, follow=True)
    assert "Saved: utilisation alerts are mailed to sam@acme.example." in response.content.decode()
    supervisor.refresh_from_db()
    assert supervisor.threshold_alert_mail
    assert "checked" in client.get("/portal/profile/").content.decode()

    response = client.post("/portal/profile/", {}, follow=True)
    assert "Saved: you receive no utilisation alerts." in response.content.decode()
    supervisor.refresh_from_db()
    assert not supervisor.threshold_alert_mail


def test_opting_in_without_an_e_mail_address_is_refused_and_changes_nothing(
    client, org, supervisor
):
    supervisor.email = ""
    supervisor.save()
    client.force_login(supervisor)
    response = client.post("/portal/profile/", {"threshold_alert_mail": "on"}, follow=True)
    assert "Your account has no e-mail address: ask an administrator to add one" in (
        response.content.decode()
    )
    supervisor.refresh_from_db()
    assert not supervisor.threshold_alert_mail


def test_an_agent_is_told_alerts_are_for_supervisors_and_a_visitor_must_log_in(
    client, org, make_member
):
    agent = make_member(org, role=Membership.Role.AGENT, method=User.LicenseMethod.CONCURRENT)
    assert client.get("/portal/profile/").status_code == 302
    client.force_login(agent)
    html = client.get("/portal/profile/").content.decode()
    assert "Utilisation alerts go to supervisors and organization administrators" in html
    assert 'name="threshold_alert_mail"' not in html


def test_the_admin_lists_alerts_filtered_by_day_server_threshold_and_organization(client, org):
    other = OrganizationFactory(server=org.server, name="Contoso")
    ServerFactory(server_id="CIC-QUIET")  # a second server, so the admin offers the filter
    now, today = timezone.now(), timezone.localdate()
    for organization, threshold in ((None, 80), (None, 90), (org, 80), (other, 100)):
        ThresholdAlert.objects.create(
            day=today,
            server=org.server,
            organization=organization,
            license_type="agent",
            method="concurrent",
            threshold=threshold,
            in_use=threshold // 10,
            capacity=10,
            created_at=now,
        )
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = "/admin/seats/thresholdalert/"

    def listed(query=""):
        response = client.get(url + query)
        assert response.status_code == 200
        return sorted(
            (a.organization.name if a.organization else "-", a.threshold)
            for a in response.context["cl"].result_list
        )

    html = client.get(url).content.decode()
    for title in ("By day", "By server", "By threshold (%)", "By organization"):
        assert title in html
    assert listed("?threshold=80") == [("-", 80), ("Acme Support", 80)]
    assert listed(f"?organization__id__exact={other.pk}") == [("Contoso", 100)]
    assert listed("?organization__isnull=True") == [("-", 80), ("-", 90)]
    assert listed(f"?server__id__exact={org.server.pk}&threshold=100") == [("Contoso", 100)]
    assert len(listed(f"?day__gte={today:%Y-%m-%d}")) == 4
    assert client.get(url + "add/").status_code == 403  # recorded by check-outs only


def test_the_admin_shows_a_users_choice_without_making_it_for_them(client, org, supervisor):
    User.objects.filter(pk=supervisor.pk).update(threshold_alert_mail=True)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = f"/admin/organizations/user/{supervisor.pk}/change/"
    html = client.get(url).content.decode()
    assert "E-mail me utilisation alerts" in html
    assert 'name="threshold_alert_mail"' not in html  # read-only: the user's own choice
    assert re.search(r'field-threshold_alert_mail.*?alt="True"', html, re.S)
