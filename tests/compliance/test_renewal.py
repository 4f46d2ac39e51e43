"""The renewal table of a server: what the admin's Renewal page and its CSV show, in a fixed
number of queries, and what the expiry warning mail carries."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from compliance.renewal import renewal_for_servers
from compliance.services import compliance_audit_run
from notifications.models import OutboxMessage
from notifications.services import outbox_sweep
from seats.models import DailySeatUsage

from ..notifications.smtp import body_of
from ..portal.conftest import queries

pytestmark = pytest.mark.django_db

LICENSE = ["server", "organization=5", "agent:concurrent=8", "agent:assignable=20"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def history(server, license_type, method, peaks, *, organization=None, denials=0):
    """One row per day ending yesterday, ``peaks`` oldest first."""
    today = timezone.localdate()
    DailySeatUsage.objects.bulk_create(
        DailySeatUsage(
            day=today - timedelta(days=len(peaks) - i),
            server=server,
            organization=organization,
            license_type=license_type,
            method=method,
            licensed=8,
            peak=peak,
            in_use=0,
            denials=denials,
        )
        for i, peak in enumerate(peaks)
    )


def test_flat_use_recommends_the_peak_plus_headroom_beside_todays_count(licensed_server):
    server = licensed_server(server_id="CIC-RENEW", entitlements=LICENSE)
    history(server, "agent", "concurrent", [10] * 60, denials=1)
    history(server, "agent", "assignable", [12] * 60)

    lines = {line.key: line for line in renewal_for_servers(servers=[server])[server.pk]}

    concurrent = lines["agent-concurrent"]
    assert concurrent.quantity == 8 and concurrent.peak_90 == 10
    assert concurrent.denials == 60  # the evidence: a refusal a day
    assert (concurrent.projected_peak, concurrent.recommended, concurrent.difference) == (10, 11, 3)
    assert lines["agent-assignable"].recommended == 14  # 12 + 10% = 13.2, rounded up
    assert lines["agent-assignable"].difference == -6
    # Licensed but never recorded: still listed, nothing projected, and why.
    assert lines["organization"].quantity == 5 and lines["organization"].recommended == 0
    assert "No daily usage" in lines["organization"].projection.note


def test_headroom_is_read_from_the_setting(licensed_server, settings):
    settings.IWP_RENEWAL_HEADROOM_PERCENT = 50
    server = licensed_server(server_id="CIC-RENEW", entitlements=LICENSE)
    history(server, "agent", "concurrent", [10] * 60)
    [line] = [
        line
        for line in renewal_for_servers(servers=[server])[server.pk]
        if line.key == "agent-concurrent"
    ]
    assert line.recommended == 15


def test_queries_do_not_grow_with_servers_or_days(licensed_server, django_assert_max_num_queries):
    servers = [licensed_server(server_id=f"CIC-RENEW-{i}", entitlements=LICENSE) for i in range(3)]
    for server in servers:
        history(server, "agent", "concurrent", [3, 4, 5, 4, 6, 1, 0] * 12)
    with django_assert_max_num_queries(2):
        result = renewal_for_servers(servers=servers)
    assert [len(result[s.pk]) for s in servers] == [3, 3, 3]


def test_admin_renewal_page_and_csv(admin_client, licensed_server):
    server = licensed_server(server_id="CIC-RENEW", entitlements=LICENSE)
    history(server, "agent", "concurrent", [10] * 60, denials=2)

    listing = admin_client.get("/admin/compliance/serverrenewal/").content.decode()
    url = f"/admin/compliance/serverrenewal/{server.pk}/renewal/"
    assert url in listing
    assert (
        url in admin_client.get(f"/admin/organizations/server/{server.pk}/change/").content.decode()
    )

    page = admin_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Renewal forecast of CIC-RENEW" in html
    row = html.split('data-license="agent-concurrent"')[1].split("</tr>")[0]
    cells = [c.split(">", 1)[1].split("<")[0] for c in row.split("<td")[1:]]
    assert cells[:8] == [
        "Agent access (IWP_Agent) Concurrent",
        "8",
        cells[2],
        "10",
        "120",
        "10",
        "",
        "+3",
    ]
    assert "<strong>11</strong>" in row

    response = admin_client.get(f"/admin/compliance/serverrenewal/{server.pk}/renewal.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["server", "organization", "license", "method"]
    by_method = {r[3]: r for r in rows[1:]}
    assert by_method["concurrent"][4:11] == [
        "8",
        by_method["concurrent"][5],
        "10",
        "120",
        "10",
        "11",
        "3",
    ]


def test_admin_renewal_page_queries_do_not_grow_with_licenses(admin_client, licensed_server):
    small = licensed_server(server_id="CIC-SMALL", entitlements=["server", "agent:concurrent=8"])
    big = licensed_server(
        server_id="CIC-BIG",
        entitlements=LICENSE + ["supervisor:concurrent=3", "supervisor:assignable=3"],
    )
    for server in (small, big):
        history(server, "agent", "concurrent", [10] * 30)
    counts = [
        queries(admin_client, f"/admin/compliance/serverrenewal/{s.pk}/renewal/")
        for s in (small, big)
    ]
    assert counts[0] == counts[1]


def test_unknown_server_is_404_and_staff_without_permission_are_refused(
    admin_client, client, licensed_server
):
    assert admin_client.get("/admin/compliance/serverrenewal/999999/renewal/").status_code == 404
    server = licensed_server(server_id="CIC-RENEW", entitlements=LICENSE)
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    url = f"/admin/compliance/serverrenewal/{server.pk}/renewal/"
    assert client.get(url).status_code == 404
    assert client.get(url.replace("renewal/", "renewal.csv")).status_code == 404


def test_expiry_warning_mail_carries_the_renewal_table(
    licensed_server, admins, smtp_server, eager_celery, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    server = licensed_server(
        server_id="CIC-SOON", entitlements=LICENSE, expires_on=today + timedelta(days=10)
    )
    history(server, "agent", "concurrent", [10] * 60, denials=1)
    history(server, "agent", "assignable", [2, 3, 4] * 3)  # nine days: too short to trust

    with django_capture_on_commit_callbacks(execute=True):
        compliance_audit_run(day=today)
    outbox_sweep()

    [mail] = smtp_server.messages
    body = body_of(mail["message"])
    assert "Renewal forecast for server CIC-SOON" in body
    assert "plus 10% headroom" in body
    line = next(x for x in body.splitlines() if x.startswith("Agent access (IWP_Agent) Concurrent"))
    assert line.split()[-6:] == ["8", "10", "60", "10", "11", "+3"]
    assert "Too little history to trust:" in body
    assert "Agent access (IWP_Agent) Assignable: Only 9 days of history" in body
    assert OutboxMessage.objects.count() == 1


def test_the_renewal_table_in_the_mail_is_aligned_under_its_header(licensed_server, admins):
    today = timezone.localdate()
    server = licensed_server(
        server_id="CIC-ONE-LINE",
        entitlements=["server", "organization=5", "agent:concurrent=8"],
        expires_on=today + timedelta(days=10),
    )
    history(server, "agent", "concurrent", [10] * 60, denials=1)

    compliance_audit_run(day=today)

    body = OutboxMessage.objects.get().body
    table = body[body.index("Renewal forecast for server CIC-ONE-LINE") :].splitlines()
    label = "Agent access (IWP_Agent) Concurrent"
    assert table[1:5] == [
        "",
        "License".ljust(len(label))
        + "  Licensed  Peak 90d  Denials 90d  Projected  Recommended  Diff",
        "Organization".ljust(len(label))
        + "         5         0            0          0            0    -5",
        label + "         8        10           60         10           11    +3",
    ]
    assert table[0].endswith("plus 10% headroom (admin: Compliance audit > Renewal forecasts).")
    assert table[5:8] == [
        "",
        "Too little history to trust:",
        "  Organization: No daily usage is recorded yet: nothing to project.",
    ]


def test_the_nightly_warm_up_fits_every_server_and_organization_before_the_first_page(
    licensed_server, admin_client, monkeypatch
):
    """After beat's warm-up task, the day's first Renewal pages (admin and portal reads) fit no
    model: every projection is already in the cache."""
    from compliance import renewal
    from compliance.tasks import warm_renewal_forecasts
    from tests.factories import OrganizationFactory

    server = licensed_server(server_id="CIC-RENEW", entitlements=LICENSE)
    organization = OrganizationFactory(server=server, name="Northwind")
    trend = [10 + i // 7 + (3 if i % 7 < 5 else 0) for i in range(90)]
    history(server, "agent", "concurrent", trend)
    history(server, "agent", "concurrent", trend, organization=organization)

    assert warm_renewal_forecasts() == (1, 1)

    def no_fit(*args, **kwargs):
        raise AssertionError("a page fitted a model the warm-up should have fitted")

    monkeypatch.setattr(renewal, "project", no_fit)
    [line] = [
        line
        for line in renewal.renewal_for_servers(servers=[server])[server.pk]
        if line.key == "agent-concurrent"
    ]
    assert line.projected_peak >= max(trend[-28:])
    [mine] = [
        line
        for line in renewal.renewal_for_organization(organization=organization)
        if line.key == "agent-concurrent"
    ]
    assert mine.peak_90 == max(trend)
    page = admin_client.get(f"/admin/compliance/serverrenewal/{server.pk}/renewal/")
    assert page.status_code == 200


def test_a_server_with_one_license_and_enough_history_mails_a_one_line_table_and_no_doubts(
    licensed_server, admins
):
    today = timezone.localdate()
    server = licensed_server(
        server_id="CIC-SINGLE",
        entitlements=["server", "agent:concurrent=8"],
        expires_on=today + timedelta(days=10),
    )
    history(server, "agent", "concurrent", [10] * 60)

    compliance_audit_run(day=today)

    body = OutboxMessage.objects.get().body
    table = body[body.index("Renewal forecast for server CIC-SINGLE") :].splitlines()
    label = "Agent access (IWP_Agent) Concurrent"
    assert table == [
        "Renewal forecast for server CIC-SINGLE: the peak of the last 90 days projected to each "
        "license's expiry, plus 10% headroom (admin: Compliance audit > Renewal forecasts).",
        "",
        "License".ljust(len(label))
        + "  Licensed  Peak 90d  Denials 90d  Projected  Recommended  Diff",
        label + "         8        10            0         10           11    +3",
    ]


def test_a_caught_up_days_warning_mail_forecasts_from_the_peaks_before_that_day(
    licensed_server, admins
):
    """Audited three days late, the day's mail shows the peak of the 90 days before it, not a
    peak reached since."""
    today = timezone.localdate()
    audited = today - timedelta(days=3)
    server = licensed_server(
        server_id="CIC-LATE",
        entitlements=["server", "agent:concurrent=8"],
        starts_on=audited - timedelta(days=100),
        expires_on=audited + timedelta(days=10),
    )
    DailySeatUsage.objects.bulk_create(
        DailySeatUsage(
            day=day,
            server=server,
            organization=None,
            license_type="agent",
            method="concurrent",
            licensed=8,
            peak=peak,
            in_use=0,
            denials=0,
        )
        for day, peak in [
            *((audited - timedelta(days=d), 10) for d in range(1, 61)),
            (today - timedelta(days=1), 40),  # after the audited day
        ]
    )

    compliance_audit_run(day=audited)

    body = OutboxMessage.objects.get().body
    line = next(x for x in body.splitlines() if x.startswith("Agent access (IWP_Agent) Concurrent"))
    licensed, peak_90 = line.split()[-6:-4]
    assert (licensed, peak_90) == ("8", "10")
