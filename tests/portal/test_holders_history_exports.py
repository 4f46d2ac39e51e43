"""Who holds what, the history chart and the CSV exports."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from organizations.models import User
from seats.models import DailySeatUsage
from tests.factories import OrganizationFactory, StationFactory

from .conftest import assign_seat, lease_seat, queries

pytestmark = pytest.mark.django_db


def csv_rows(response):
    assert response.status_code == 200
    assert response.streaming, "CSV exports are streamed"
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# Who holds what


def test_holders_lists_users_with_their_seats_and_who_is_logged_in(
    client, org, supervisor, make_member
):
    make_member(org, role="agent", username="ann.assigned")
    logged_in = make_member(
        org,
        role="agent",
        method=User.LicenseMethod.CONCURRENT,
        seat=False,
        username="carl.concurrent",
    )
    lease_seat(
        user=logged_in,
        organization=org,
        license_type="agent",
        last_seen_at=timezone.now() - timedelta(minutes=12),
    )
    make_member(org, role="agent", seat=False, username="nora.noseat")
    make_member(OrganizationFactory(server=org.server), role="agent", username="zed.elsewhere")
    client.force_login(supervisor)

    html = client.get(f"/portal/org/{org.pk}/holders/").content.decode()
    assert "ann.assigned" in html and "carl.concurrent" in html and "nora.noseat" in html
    assert "zed.elsewhere" not in html
    assert "12\xa0minutes" in html  # idle for

    html = client.get(f"/portal/org/{org.pk}/holders/?show=logged_in").content.decode()
    assert "carl.concurrent" in html and "ann.assigned" not in html
    html = client.get(f"/portal/org/{org.pk}/holders/?show=unseated").content.decode()
    assert "nora.noseat" in html and "ann.assigned" not in html and "carl.concurrent" not in html
    html = client.get(f"/portal/org/{org.pk}/holders/?q=ANN").content.decode()
    assert "ann.assigned" in html and "nora.noseat" not in html
    html = client.get(f"/portal/org/{org.pk}/holders/?view=sessions").content.decode()
    assert "carl.concurrent" in html and "Logged in since" in html and "ann.assigned" not in html


def test_holders_lists_stations_with_their_seats(client, org, supervisor):
    station = StationFactory(organization=org, name="Desk 7")
    assign_seat(station=station, organization=org, license_type="agent")
    client.force_login(supervisor)
    html = client.get(f"/portal/org/{org.pk}/holders/?view=stations").content.decode()
    assert "Desk 7" in html and "Agent access (IWP_Agent)" in html


def test_holders_paginate(client, org, supervisor, populate):
    populate(org, 120)
    client.force_login(supervisor)
    html = client.get(f"/portal/org/{org.pk}/holders/?page=2").content.decode()
    assert "Page 2 of 3 (121)" in html


@pytest.mark.parametrize("view", ["users", "stations", "sessions"])
def test_holders_query_count_does_not_grow_with_users(client, org, supervisor, populate, view):
    client.force_login(supervisor)
    url = f"/portal/org/{org.pk}/holders/?view={view}"
    populate(org, 10)
    small = queries(client, url)
    populate(org, 600, prefix="more")
    assert queries(client, url) == small


# History


def _history(org, days=90):
    today = timezone.localdate()
    DailySeatUsage.objects.bulk_create(
        [
            DailySeatUsage(
                day=today - timedelta(days=i + 1),
                server=org.server,
                organization=org,
                license_type="agent",
                method="concurrent",
                licensed=3,
                in_use=2,
                peak=3 if i % 7 else 4,
                denials=0 if i % 7 else 2,
            )
            for i in range(days)
        ]
    )


def test_history_draws_a_chart_per_license_with_licensed_peak_and_denials(client, org, supervisor):
    _history(org)
    client.force_login(supervisor)
    html = client.get(f"/portal/org/{org.pk}/history/?days=90").content.decode()
    assert 'data-series="agent-concurrent"' in html
    assert (
        "<svg" in html
        and 'class="licensed"' in html
        and 'class="peak"' in html
        and 'class="in_use"' in html
    )
    assert (
        html.count('class="denials"') == 13
    )  # every 7th day of the 90 complete days had 2 denials
    assert "highest peak 4, 26 denials" in html


def test_history_ranges(client, org, supervisor):
    _history(org, days=400)
    client.force_login(supervisor)
    for days in (30, 90, 365):
        html = client.get(f"/portal/org/{org.pk}/history/?days={days}").content.decode()
        assert html.count("</title></rect>") == days  # one tooltip per day


def test_history_query_count_does_not_grow_with_days(client, org, supervisor):
    client.force_login(supervisor)
    _history(org, days=10)
    small = queries(client, f"/portal/org/{org.pk}/history/?days=365")
    DailySeatUsage.objects.all().delete()
    _history(org, days=365)
    assert queries(client, f"/portal/org/{org.pk}/history/?days=365") == small


def test_history_csv_has_the_same_data(client, org, supervisor):
    _history(org, days=40)
    client.force_login(supervisor)
    rows = csv_rows(client.get(f"/portal/org/{org.pk}/history.csv?days=30"))
    assert rows[0] == ["day", "license", "method", "licensed", "in use", "peak", "denials"]
    assert len(rows) == 31
    assert rows[-1][:4] == [
        (timezone.localdate() - timedelta(days=1)).isoformat(),
        "agent",
        "concurrent",
        "3",
    ]


# Exports


def test_seat_list_csv_streams_every_row_of_each_view_unpaginated(
    client, org, supervisor, populate
):
    populate(org, 60)  # more users than a page holds
    client.force_login(supervisor)
    rows = csv_rows(client.get(f"/portal/org/{org.pk}/seats.csv"))  # the page's default: users
    assert rows[0][:6] == ["username", "name", "e-mail", "role", "method", "assignable seat"]
    body = rows[1:]
    assert len(body) == 1 + 60  # the supervisor and every agent, seated or not
    assert sum(r[5] == "agent" for r in body) == 20 and sum(r[7] == "agent" for r in body) == 20

    stations = csv_rows(client.get(f"/portal/org/{org.pk}/seats.csv?view=stations"))
    assert stations[0] == ["station", "assignable seats", "since"]
    assert [r[1] for r in stations[1:]] == ["agent"] * 5
    sessions = csv_rows(client.get(f"/portal/org/{org.pk}/seats.csv?view=sessions"))
    assert sessions[0][3:] == [
        "concurrent seat",
        "taken by",
        "client",
        "logged in since",
        "last seen",
    ]
    assert len(sessions) == 1 + 20


def test_seat_list_csv_query_count_does_not_grow_with_seats(client, org, supervisor, populate):
    client.force_login(supervisor)
    populate(org, 10)
    small = {}
    for view in ("users", "stations", "sessions"):
        small[view] = queries(client, f"/portal/org/{org.pk}/seats.csv?view={view}")
    populate(org, 600, prefix="more")
    for view in ("users", "stations", "sessions"):
        assert queries(client, f"/portal/org/{org.pk}/seats.csv?view={view}") == small[view]


def test_seat_list_csv_does_not_turn_names_into_spreadsheet_formulas(client, org, supervisor):
    assign_seat(
        station=StationFactory(organization=org, name='=HYPERLINK("http://evil")'),
        organization=org,
        license_type="agent",
    )
    client.force_login(supervisor)
    rows = csv_rows(client.get(f"/portal/org/{org.pk}/seats.csv?view=stations"))
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'
