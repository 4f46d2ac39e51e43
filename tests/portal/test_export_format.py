"""The CSV exports as Excel and a supervisor see them: UTF-8 with a BOM, local times to the
second, file names with the organization's name, and the seat list filtered as on screen."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from organizations.models import User
from portal.models import ReportRun
from portal.services import report_run_create, scheduled_report_create
from seats.models import SeatLease
from tests.factories import StationFactory

from .conftest import assign_seat, lease_seat

pytestmark = pytest.mark.django_db

BOM = b"\xef\xbb\xbf"


def body(response) -> bytes:
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def rows_of(response) -> list[list[str]]:
    data = body(response)
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_every_export_starts_with_a_bom_and_non_ascii_names_round_trip(
    client, org, supervisor, make_member
):
    zoe = make_member(org, role="agent", username="zoe")
    User.objects.filter(pk=zoe.pk).update(first_name="Zoë", last_name="東京")
    assign_seat(
        station=StationFactory(organization=org, name="Zoë 東京"),
        organization=org,
        license_type="agent",
    )
    client.force_login(supervisor)

    users = rows_of(client.get(f"/portal/org/{org.pk}/seats.csv?q=zoe"))
    assert users[1][:2] == ["zoe", "Zoë 東京"]
    stations = rows_of(client.get(f"/portal/org/{org.pk}/seats.csv?view=stations"))
    assert stations[1][0] == "Zoë 東京"
    assert body(client.get(f"/portal/org/{org.pk}/history.csv")).startswith(BOM)

    report = scheduled_report_create(
        organization=org,
        name="Daily",
        frequency="daily",
        recipients="a@example.com",
        acting_user=supervisor,
    )
    run, _created = report_run_create(report=report)
    assert run.content.startswith("\ufeffday,")  # the e-mailed attachment is the same text
    download = client.get(f"/portal/org/{org.pk}/runs/{run.pk}/download/")
    assert download.content.startswith(BOM) and not download.content.startswith(BOM * 2)


def test_a_run_stored_without_a_bom_is_downloaded_with_one(client, org, supervisor):
    report = scheduled_report_create(
        organization=org,
        name="Weekly",
        frequency="weekly",
        recipients="a@example.com",
        acting_user=supervisor,
    )
    run = ReportRun.objects.create(
        report=report,
        period_start=timezone.localdate(),
        period_end=timezone.localdate(),
        filename="weekly.csv",
        content="day\n",
        row_count=0,
        recipients="a@example.com",
    )
    client.force_login(supervisor)
    assert client.get(f"/portal/org/{org.pk}/runs/{run.pk}/download/").content == BOM + b"day\n"


def test_timestamps_are_local_to_the_second(client, org, supervisor, make_member, settings):
    settings.TIME_ZONE = "Europe/Paris"
    carl = make_member(
        org, role="agent", method=User.LicenseMethod.CONCURRENT, seat=False, username="carl"
    )
    lease = lease_seat(user=carl, organization=org, license_type="agent")
    SeatLease.objects.filter(pk=lease.pk).update(
        acquired_at=datetime(2026, 11, 28, 8, 41, 7, 123456, tzinfo=UTC),
        last_seen_at=datetime(2026, 7, 1, 10, 0, 0, 999999, tzinfo=UTC),
    )
    client.force_login(supervisor)
    rows = rows_of(client.get(f"/portal/org/{org.pk}/seats.csv?view=sessions"))
    assert rows[1][6:] == ["2026-11-28 09:41:07", "2026-07-01 12:00:00"]  # CET, then CEST
    assert rows[1][4:6] == ["browser", ""]  # taken by the login page, no API client

    users = rows_of(client.get(f"/portal/org/{org.pk}/seats.csv?q=carl"))
    assert users[1][8:] == ["2026-11-28 09:41:07", "2026-07-01 12:00:00"]


def test_file_names_carry_the_organizations_name_and_the_date(client, org, supervisor):
    today = timezone.localdate().isoformat()
    org.name = "Northwind Outsourcing"
    org.save()
    client.force_login(supervisor)
    response = client.get(f"/portal/org/{org.pk}/seats.csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="northwind-outsourcing-seats-{today}.csv"'
    )
    response = client.get(f"/portal/org/{org.pk}/seats.csv?view=stations")
    assert (
        f'filename="northwind-outsourcing-seats-stations-{today}.csv"'
        in (response["Content-Disposition"])
    )
    response = client.get(f"/portal/org/{org.pk}/history.csv?days=30")
    assert response["Content-Disposition"].startswith(
        'attachment; filename="northwind-outsourcing-seat-history-'
    )

    org.name = 'Zoë 東京 "Support"'
    org.save()
    response = client.get(f"/portal/org/{org.pk}/seats.csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="zoe-support-seats-{today}.csv"; '
        f"filename*=UTF-8''zo%C3%AB-%E6%9D%B1%E4%BA%AC-support-seats-{today}.csv"
    )


@pytest.mark.parametrize(
    "query",  # as the page's export link writes them
    [
        "view=users&show=all&q=ann",
        "view=users&show=logged_in",
        "view=users&show=unseated&q=a",
        "view=stations&q=desk",
        "view=sessions&q=ann",
    ],
)
def test_seat_list_export_has_exactly_the_rows_the_page_shows(
    client, org, supervisor, make_member, query
):
    make_member(org, role="agent", username="ann.assigned")
    make_member(org, role="agent", username="anna.unseated", seat=False)
    make_member(org, role="agent", method=User.LicenseMethod.CONCURRENT, username="annie.online")
    make_member(org, role="agent", method=User.LicenseMethod.CONCURRENT, username="bob.online")
    make_member(org, role="agent", username="carl.assigned")
    for name in ("desk-1", "desk-2", "lobby"):
        assign_seat(
            station=StationFactory(organization=org, name=name),
            organization=org,
            license_type="agent",
        )
    client.force_login(supervisor)

    page = client.get(f"/portal/org/{org.pk}/holders/?{query}")
    objects = page.context["page"].object_list
    view = page.context["view"]
    shown = [
        o.name if view == "stations" else o.user.username  # station, membership or lease
        for o in objects
    ]
    assert shown, "the filter shows something"
    link = f"/portal/org/{org.pk}/seats.csv?{query}".replace("&", "&amp;")
    assert link in page.content.decode(), "the page's export link carries its filters"

    exported = [r[0] for r in rows_of(client.get(f"/portal/org/{org.pk}/seats.csv?{query}"))]
    assert exported[1:] == shown
