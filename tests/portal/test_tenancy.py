"""Tenants never see each other: every portal URL with another organization's ids answers 404,
the organization administrator's actions included (GET and POST), and changes nothing there."""

import pytest
from django.urls import reverse

from organizations.models import Membership, Station, User
from portal.models import Invitation, ReportRun, ScheduledReport
from portal.urls import urlpatterns
from seats.models import SeatAssignment, SeatLease
from tests.factories import OrganizationFactory, StationFactory

from .conftest import assign_seat

pytestmark = pytest.mark.django_db

ORG_ADMIN = Membership.Role.ORG_ADMIN
CONCURRENT = User.LicenseMethod.CONCURRENT
# What a POST carries: every field an administrator's form reads, valid.
POST_DATA = {
    "method": "concurrent",
    "license_type": "agent",
    "username": "new.user",
    "email": "new.user@example.com",
    "role": "agent",
    "license_method": "assigned",
    "name": "New desk",
    "back": "list",
}


def _report_with_run(organization):
    report = ScheduledReport.objects.create(
        organization=organization, name="Weekly", recipients="a@example.com"
    )
    run = ReportRun.objects.create(
        report=report,
        period_start="2026-01-05",
        period_end="2026-01-11",
        filename="weekly.csv",
        content="day\n",
    )
    return report, run


def _objects(organization, make_member, prefix):
    """The ids every organization-scoped URL names: a report and its run, an Assigned agent with
    a seat, a Concurrent agent logged in (their seat), a station with a seat."""
    report, run = _report_with_run(organization)
    agent = make_member(organization, role="agent", username=f"{prefix}.agent")
    logged_in = make_member(
        organization, role="agent", method=CONCURRENT, username=f"{prefix}.concurrent"
    )
    station = StationFactory(organization=organization, name=f"{prefix}-desk")
    assign_seat(station=station, organization=organization, license_type="agent")
    return {
        "org_id": organization.pk,
        "report_id": report.pk,
        "run_id": run.pk,
        "user_id": agent.pk,
        "station_id": station.pk,
        "lease_id": SeatLease.objects.get(user=logged_in).pk,
    }


def state(organization) -> dict:
    """What an organization administrator's action could change in ``organization``."""
    return {
        "memberships": sorted(
            Membership.objects.filter(organization=organization).values_list("user_id", "role")
        ),
        "methods": sorted(
            User.objects.filter(memberships__organization=organization).values_list(
                "username", "license_method"
            )
        ),
        "assignments": sorted(
            SeatAssignment.objects.active()
            .filter(organization=organization)
            .values_list("pk", flat=True)
        ),
        "leases": sorted(
            SeatLease.objects.active()
            .filter(organization=organization)
            .values_list("pk", flat=True)
        ),
        "invitations": Invitation.objects.filter(
            user__memberships__organization=organization
        ).count(),
        "users": User.objects.count(),
        "stations": sorted(
            Station.objects.filter(organization=organization).values_list("name", flat=True)
        ),
    }


def _url(pattern, ids):
    return reverse(
        f"portal:{pattern.name}", kwargs={name: ids[name] for name in pattern.pattern.converters}
    )


def test_every_portal_url_with_another_organizations_ids_answers_404(
    client, licensed_server, make_member
):
    server = licensed_server()
    mine, theirs = (
        OrganizationFactory(server=server, name="Mine"),
        OrganizationFactory(server=server, name="Theirs"),
    )
    other_server_org = OrganizationFactory(
        server=licensed_server(server_id="CIC-OTHER"), name="Elsewhere"
    )
    my_ids = _objects(mine, make_member, "mine")
    others = [
        (theirs, _objects(theirs, make_member, "theirs")),
        (other_server_org, _objects(other_server_org, make_member, "elsewhere")),
    ]
    # An organization administrator: every page of the portal is theirs, the manage pages too.
    admin = make_member(mine, role=ORG_ADMIN)
    make_member(theirs, role=ORG_ADMIN)
    before = {org.pk: state(org) for org, _ids in others}
    client.force_login(admin)

    scoped = [p for p in urlpatterns if p.pattern.converters]
    assert len(scoped) >= 26  # every organization-scoped page is walked, none forgotten
    for pattern in scoped:
        # My own ids: the page answers (an action only on POST: 405 to a GET).
        own = client.get(_url(pattern, my_ids))
        assert own.status_code in (200, 405), pattern.name
        below = set(pattern.pattern.converters) - {"org_id"}
        for _other, their_ids in others:
            # Their organization id, with their object ids: 404.
            url = _url(pattern, their_ids)
            assert client.get(url).status_code == 404, url
            assert client.post(url, POST_DATA).status_code == 404, url
            if not below:
                continue
            # My organization id with their user, station, seat, report or run id: 404 too.
            url = _url(pattern, {**their_ids, "org_id": mine.pk})
            assert client.get(url).status_code == 404, url
            allowed = (404,) if pattern.name.startswith("manage_") else (404, 405)
            assert client.post(url, POST_DATA).status_code in allowed, url
    for org, _ids in others:
        assert state(org) == before[org.pk], org.name


def test_supervisors_and_agents_are_refused_every_organization_administrator_page(
    client, org, make_member
):
    ids = _objects(org, make_member, "acme")
    supervisor = make_member(org, username="sam.supervisor")
    agent = make_member(org, role="agent", username="ann.agent")
    before = state(org)
    manage = [p for p in urlpatterns if p.name.startswith("manage_")]
    assert len(manage) == 15

    client.force_login(supervisor)
    for pattern in manage:
        url = _url(pattern, ids)
        for response in (client.get(url), client.post(url, POST_DATA)):
            assert response.status_code == 403, url
            assert (
                "Manage users and seats is for organization administrators of Acme Support."
                in response.content.decode()
            ), url
    assert "Manage users and seats" not in client.get("/portal/").content.decode()

    client.force_login(agent)
    for pattern in manage:
        url = _url(pattern, ids)
        assert client.get(url).status_code == 404, url
        assert client.post(url, POST_DATA).status_code == 404, url
    assert state(org) == before


def test_unknown_organization_id_answers_404(client, org, supervisor):
    client.force_login(supervisor)
    assert client.get("/portal/org/999999/holders/").status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(client, org):
    response = client.get(f"/portal/org/{org.pk}/holders/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post(f"/portal/org/{org.pk}/manage/users/1/remove/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
