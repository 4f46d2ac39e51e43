"""Tenants never see each other: every portal URL with another organization's ids answers 404."""

import pytest
from django.urls import reverse

from portal.models import ReportRun, ScheduledReport
from portal.urls import urlpatterns
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


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


def _kwargs(pattern, org, report, run):
    kwargs = {}
    for name in pattern.pattern.converters:
        kwargs[name] = {"org_id": org.pk, "report_id": report.pk, "run_id": run.pk}[name]
    return kwargs


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
    my_report, my_run = _report_with_run(mine)
    supervisor = make_member(mine)
    make_member(theirs)
    client.force_login(supervisor)

    scoped = [p for p in urlpatterns if p.pattern.converters]
    assert len(scoped) >= 11  # every organization-scoped page is walked, none forgotten
    for pattern in scoped:
        # My own ids: the page answers.
        own = client.get(
            reverse(f"portal:{pattern.name}", kwargs=_kwargs(pattern, mine, my_report, my_run))
        )
        assert own.status_code == 200, pattern.name
        for other in (theirs, other_server_org):
            their_report, their_run = (
                _report_with_run(other)
                if not other.scheduled_reports.exists()
                else (
                    other.scheduled_reports.get(),
                    ReportRun.objects.get(report__organization=other),
                )
            )
            # Their organization id, with their object ids: 404.
            url = reverse(
                f"portal:{pattern.name}", kwargs=_kwargs(pattern, other, their_report, their_run)
            )
            assert client.get(url).status_code == 404, url
            assert client.post(url).status_code == 404, url
            # My organization id with their report or run id: 404 too.
            if "report_id" in pattern.pattern.converters or "run_id" in pattern.pattern.converters:
                url = reverse(
                    f"portal:{pattern.name}", kwargs=_kwargs(pattern, mine, their_report, their_run)
                )
                assert client.get(url).status_code == 404, url
                assert client.post(url).status_code in (404, 405), url


def test_unknown_organization_id_answers_404(client, org, supervisor):
    client.force_login(supervisor)
    assert client.get("/portal/org/999999/holders/").status_code == 404


def test_anonymous_visitors_are_sent_to_the_login_page(client, org):
    response = client.get(f"/portal/org/{org.pk}/holders/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
