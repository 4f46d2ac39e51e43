"""The portal's Renewal page: per access license, the organization's own last 90 days, its
projected peak and the count to buy, with a CSV; only its own organization's figures; and the
projection on the history chart."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from organizations.models import PortalFeature
from seats.models import DailySeatUsage, PoolShare
from tests.factories import OrganizationFactory

from .conftest import queries

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def history(organization, peaks, *, license_type="agent", method="concurrent", denials=0):
    today = timezone.localdate()
    DailySeatUsage.objects.bulk_create(
        DailySeatUsage(
            day=today - timedelta(days=len(peaks) - i),
            server=organization.server,
            organization=organization,
            license_type=license_type,
            method=method,
            licensed=3,
            peak=peak,
            denials=denials,
        )
        for i, peak in enumerate(peaks)
    )


def row(html, key):
    part = html.split(f'data-license="{key}"')[1].split("</tr>")[0]
    return [c.split(">", 1)[1].split("<")[0].strip() for c in part.split("<td")[1:]]


def test_supervisor_sees_the_renewal_table_of_their_organization(client, org, supervisor):
    history(org, [5] * 60, denials=1)
    PoolShare.objects.create(organization=org, license_type="agent", method="concurrent", cap=4)
    client.force_login(supervisor)

    html = client.get(f"/portal/org/{org.pk}/renewal/").content.decode()

    assert "What to buy at renewal" in html
    assert 'aria-current="page">Renewal</a>' in html
    # License, licensed today (the server's 3), expires, peak, denials, projected, recommended
    # (5 + 10% = 5.5, rounded up), difference.
    cells = row(html, "agent-concurrent")
    assert cells[0] == "Agent access (IWP_Agent) Concurrent"
    assert cells[1] == "3" and cells[3:6] == ["5", "60", "5"] and cells[7] == "+3"
    assert "<strong>6</strong>" in html and "cap 4" in html
    # A chart per license: the last 90 days, then the dashed projection in its band.
    chart = html.split('data-series="agent-concurrent"')[1].split("</section>")[0]
    assert 'class="projection"' in chart and 'stroke-dasharray="5 4"' in chart
    assert 'class="projection-band"' in chart


def test_short_history_is_said_to_be_too_short_to_trust(client, org, supervisor):
    history(org, [1, 2, 3, 2, 1])
    client.force_login(supervisor)
    html = client.get(f"/portal/org/{org.pk}/renewal/").content.decode()
    assert "Only 5 days of history (a trend needs 28)" in html
    assert row(html, "agent-concurrent")[5] == "3"  # the highest peak seen, held


def test_renewal_csv(client, org, supervisor):
    history(org, [5] * 60)
    client.force_login(supervisor)
    response = client.get(f"/portal/org/{org.pk}/renewal.csv")
    assert response["Content-Disposition"].startswith('attachment; filename="acme-support-renewal-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:6] == [
        "server",
        "organization",
        "license",
        "method",
        "licensed today",
        "expires on",
    ]
    concurrent = next(r for r in rows[1:] if r[2].startswith("Agent") and r[3] == "concurrent")
    assert concurrent[1] == "Acme Support" and concurrent[6:11] == ["5", "0", "5", "6", "3"]


def test_csv_needs_exports_and_the_page_can_be_withheld(client, org, make_member):
    no_exports = make_member(org, withheld=[PortalFeature.EXPORTS])
    client.force_login(no_exports)
    assert client.get(f"/portal/org/{org.pk}/renewal/").status_code == 200
    response = client.get(f"/portal/org/{org.pk}/renewal.csv")
    assert (
        response.status_code == 403 and "CSV exports has been withheld" in response.content.decode()
    )

    withheld = make_member(org, withheld=[PortalFeature.RENEWAL])
    client.force_login(withheld)
    assert client.get(f"/portal/org/{org.pk}/renewal/").status_code == 403
    history(org, [5] * 30)
    html = client.get(f"/portal/org/{org.pk}/history/?days=30").content.decode()
    assert 'class="projection"' not in html and ">Renewal</a>" not in html


def test_agents_do_not_reach_it(client, org, make_member):
    agent = make_member(org, role="agent")
    client.force_login(agent)
    assert client.get(f"/portal/org/{org.pk}/renewal/").status_code == 404
    assert client.get(f"/portal/org/{org.pk}/renewal.csv").status_code == 404


def test_only_the_organizations_own_figures_are_shown(client, org, supervisor):
    """Another organization of the same server, far busier: none of its figures appear."""
    theirs = OrganizationFactory(server=org.server, name="Globex Calls")
    history(org, [2] * 60)
    history(theirs, [97] * 60, denials=41)
    client.force_login(supervisor)

    html = client.get(f"/portal/org/{org.pk}/renewal/").content.decode()
    assert row(html, "agent-concurrent")[3:6] == ["2", "0", "2"]
    assert ">97<" not in html and "peak 97" not in html and "Globex" not in html
    assert "2460" not in html
    rows = b"".join(client.get(f"/portal/org/{org.pk}/renewal.csv").streaming_content).decode()
    assert ",97," not in rows and "Globex" not in rows
    assert client.get(f"/portal/org/{theirs.pk}/renewal/").status_code == 404


def test_queries_do_not_grow_with_licenses_or_days(client, org, supervisor):
    client.force_login(supervisor)
    history(org, [3] * 10)
    small = queries(client, f"/portal/org/{org.pk}/renewal/")
    history(org, [2, 3, 1] * 30, method="assignable")
    history(org, [1] * 90, license_type="supervisor", method="concurrent")
    assert queries(client, f"/portal/org/{org.pk}/renewal/") == small
    assert queries(client, f"/portal/org/{org.pk}/renewal.csv") <= small


def test_history_chart_continues_with_the_projection(client, org, supervisor):
    history(org, [1, 3, 3, 3, 3, 3, 1] * 10)
    client.force_login(supervisor)
    html = client.get(f"/portal/org/{org.pk}/history/?days=30").content.decode()
    chart = html.split('data-series="agent-concurrent"')[1].split("</section>")[0]
    assert 'class="projection"' in chart and 'class="projection-band"' in chart
    assert "projected peak 3 by" in chart
    assert "Projected peak and its band" in html
