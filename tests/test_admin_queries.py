"""The admin at scale: every change list, its search and the home page run as many queries with
three times the rows; searches find the right rows through the trigram indexes; large lists
show PostgreSQL's estimate instead of counting; counts per row are right (issue 12)."""

import json
from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from compliance.models import AuditRun, ComplianceEvent, ComplianceRecipient, ExpiryWarning
from licenses.admin_base import EstimatedCountPaginator, IndexedSearchMixin
from licenses.models import Entitlement
from notifications.models import OutboxMessage
from organizations.models import Membership, Server, Station
from portal.models import ScheduledReport
from seats.models import (
    DailySeatUsage,
    SeatAssignment,
    SeatDenial,
    SeatLease,
    StationOccupancy,
    ThresholdAlert,
)
from seats.selectors import seats_in_use, seats_in_use_by_server
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory, install_license

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def grow(vendor_key, n):
    """``n`` more servers CIC-000, CIC-001, …, each with a row in every table the admin lists:
    organizations ``Org i-j``, users ``member-i-j-k``, stations ``Desk i-j``, seats of both kinds,
    denials, daily usage, occupancies, utilisation alerts, compliance records, mail, scheduled
    reports."""
    now, today = timezone.now(), timezone.localdate()
    first = Server.objects.count()
    for i in range(first, first + n):
        license_file = install_license(
            vendor_key,
            server_id=f"CIC-{i:03d}",
            entitlements=["server", "organization=9", "agent:assignable=9", "agent:concurrent=9"],
        )
        server = license_file.server
        entitlement = Entitlement.objects.filter(license_file=license_file).first()
        run = AuditRun.objects.create(day=today - timedelta(days=i + 1), trigger="schedule")
        ComplianceEvent.objects.create(
            server=server,
            license_type="agent",
            method="assignable",
            day=run.day,
            licensed_count=1,
            found_count=2,
            message=f"member exceeded on CIC-{i:03d}",
            run=run,
        )
        ExpiryWarning.objects.create(
            server=server,
            entitlement=entitlement,
            license_type=entitlement.license_type,
            method=entitlement.method,
            expires_on=entitlement.expires_on,
            threshold_days=30,
            day=today,
            message=f"member expiring on CIC-{i:03d}",
            run=run,
        )
        ComplianceRecipient.objects.create(email=f"member-{i}@example.com")
        OutboxMessage.objects.create(
            dedupe_key=f"test:{i}", subject=f"member mail {i}", body="", to=["a@example.com"]
        )
        for j in range(2):
            org = OrganizationFactory(server=server, name=f"Org {i}-{j}")
            station = Station.objects.create(organization=org, name=f"Desk {i}-{j}")
            users = [
                MembershipFactory(
                    organization=org, user=UserFactory(username=f"member-{i}-{j}-{k}")
                ).user
                for k in range(2)
            ]
            SeatAssignment.objects.create(
                server=server, organization=org, license_type="agent", user=users[0]
            )
            SeatAssignment.objects.create(
                server=server, organization=org, license_type="agent", station=station
            )
            SeatLease.objects.create(
                server=server,
                organization=org,
                license_type="agent",
                user=users[1],
                last_seen_at=now,
            )
            SeatDenial.objects.create(
                server=server,
                organization=org,
                license_type="agent",
                method="concurrent",
                user=users[1],
                message="refused",
            )
            DailySeatUsage.objects.create(
                day=today,
                server=server,
                organization=org,
                license_type="agent",
                method="assignable",
            )
            StationOccupancy.objects.create(
                station=station, user=users[0], since=now, last_seen_at=now
            )
            ThresholdAlert.objects.create(
                day=today,
                server=server,
                organization=org if j else None,
                license_type="agent",
                method="concurrent",
                threshold=80,
                in_use=8,
                capacity=10,
                created_at=now,
            )
            ScheduledReport.objects.create(
                organization=org, name=f"member report {i}-{j}", recipients="a@example.com"
            )


def registered():
    """(name, change list URL, model admin) of every model registered in the admin."""
    for model, model_admin in sorted(admin.site._registry.items(), key=lambda i: str(i[0]._meta)):
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        yield opts.label_lower, url, model_admin


PAGES = [("admin home", "/admin/"), *((name, url) for name, url, _ in registered())]
SEARCHABLE = [(name, url) for name, url, model_admin in registered() if model_admin.search_fields]


def queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("url", [url for _, url in PAGES], ids=[name for name, _ in PAGES])
def test_every_change_list_runs_as_many_queries_with_three_times_the_rows(
    admin_client, vendor_key, url
):
    grow(vendor_key, 2)
    small = queries(admin_client, url)
    grow(vendor_key, 4)
    large = queries(admin_client, url)
    assert len(large) == len(small), "\n\n".join(large)


@pytest.mark.parametrize(
    "url", [url for _, url in SEARCHABLE], ids=[name for name, _ in SEARCHABLE]
)
def test_every_search_runs_as_many_queries_with_three_times_the_rows(admin_client, vendor_key, url):
    # "member" is in every user's name and every project model's searched text: a search that
    # finds rows at both sizes.
    grow(vendor_key, 2)
    small = queries(admin_client, f"{url}?q=member")
    grow(vendor_key, 4)
    large = queries(admin_client, f"{url}?q=member")
    assert len(large) == len(small), "\n\n".join(large)


def listed(client, url):
    """The primary keys of the rows a change list shows."""
    response = client.get(url)
    assert response.status_code == 200
    return sorted(obj.pk for obj in response.context["cl"].result_list)


def test_user_search_finds_a_user_by_any_part_of_any_searched_name(admin_client):
    ann = UserFactory(username="ann.lee", email="ann@north.example", last_name="Okonkwo")
    bob = UserFactory(username="bob", email="bob@south.example", first_name="Annika")
    UserFactory(username="carl", email="carl@south.example")
    assert listed(admin_client, "/admin/organizations/user/?q=konk") == [ann.pk]
    assert listed(admin_client, "/admin/organizations/user/?q=ANN") == sorted([ann.pk, bob.pk])
    assert listed(admin_client, "/admin/organizations/user/?q=south+ann") == [bob.pk]
    assert listed(admin_client, "/admin/organizations/user/?q=nobody") == []


def test_seat_search_finds_seats_by_user_station_organization_and_server(admin_client, vendor_key):
    grow(vendor_key, 2)

    def seats(**where):
        return sorted(SeatAssignment.objects.filter(**where).values_list("pk", flat=True))

    url = "/admin/seats/seatassignment/?q="
    alice_seat = SeatAssignment.objects.get(user__username="member-0-1-0")
    assert listed(admin_client, url + "member-0-1-0") == [alice_seat.pk]
    assert listed(admin_client, url + "%22desk+1-0%22") == seats(station__name="Desk 1-0")
    assert listed(admin_client, url + "%22Org+0-1%22") == seats(organization__name="Org 0-1")
    assert listed(admin_client, url + "CIC-000") == seats(server__server_id="CIC-000")
    assert len(seats(server__server_id="CIC-000")) == 4
    # Two words: both must match, each in any field.
    assert listed(admin_client, url + "Org+0-1+member-0-1-0") == [alice_seat.pk]
    assert listed(admin_client, url + "Org+0-1+member-0-0-0") == []


def test_a_search_matching_more_rows_than_it_lists_by_key_finds_the_same_rows(
    admin_client, vendor_key, monkeypatch
):
    grow(vendor_key, 2)
    url = "/admin/organizations/membership/?q=member-0"
    few = listed(admin_client, url)
    monkeypatch.setattr(IndexedSearchMixin, "search_ids_max", 1)  # every term matches "many"
    assert listed(admin_client, url) == few
    expected = Membership.objects.filter(user__username__startswith="member-0-")
    assert few == sorted(m.pk for m in expected) and len(few) == 4


def test_the_user_picker_finds_a_user_among_others(admin_client):
    UserFactory(username="walter")
    wanda = UserFactory(username="wanda")
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "organizations",
            "model_name": "membership",
            "field_name": "user",
            "term": "AND",
        },
    )
    assert [r["id"] for r in response.json()["results"]] == [str(wanda.pk)]


@pytest.mark.parametrize(
    ("url", "indexes"),
    [
        (
            "/admin/organizations/user/?q=bench0004242",
            [
                "user_username_trgm",
                "user_email_trgm",
                "user_first_name_trgm",
                "user_last_name_trgm",
            ],
        ),
        ("/admin/organizations/membership/?q=bench0004242", ["user_username_trgm"]),
        ("/admin/organizations/organization/?q=acme", ["organization_name_trgm"]),
        ("/admin/organizations/station/?q=desk", ["station_name_trgm"]),
    ],
)
def test_the_searches_the_admin_runs_are_answered_by_the_trigram_indexes(
    admin_client, url, indexes
):
    """Django's icontains is UPPER(col::text) LIKE UPPER(...): the indexes are on that very
    expression, or PostgreSQL reads every row."""
    UserFactory(username="someone")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a few rows: make the plan show it
    searches = [q.split("; ")[-1] for q in queries(admin_client, url) if "LIKE" in q]
    plans = []
    with connection.cursor() as cursor:
        for sql in searches:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
            plans.append(json.dumps(cursor.fetchone()[0]))
    for index in indexes:
        assert any(index in plan for plan in plans), index


def test_a_large_list_shows_the_estimate_and_counts_nothing(admin_client, monkeypatch):
    for i in range(30):
        UserFactory(username=f"agent{i:02d}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE organizations_user")
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 20)
    sql = queries(admin_client, "/admin/organizations/user/")
    assert not [q for q in sql if "COUNT(" in q.upper()]
    page = admin_client.get("/admin/organizations/user/").content.decode()
    assert "about 31 users" in page
    assert "results (" not in page  # the search bar counts a search's results only
    # Fewer results than the threshold are counted exactly.
    page = admin_client.get("/admin/organizations/user/?q=agent0").content.decode()
    assert "10 results" in page and "about 10" not in page


def test_a_small_list_is_counted_exactly(admin_client):
    UserFactory(username="only")
    page = admin_client.get("/admin/organizations/user/").content.decode()
    assert "2 users" in page and "about" not in page


def test_organization_and_server_lists_count_members_and_active_organizations(
    admin_client, vendor_key
):
    server = install_license(
        vendor_key, server_id="CIC-COUNT", entitlements=["server", "organization=9"]
    ).server
    acme = OrganizationFactory(server=server, name="Acme")
    OrganizationFactory(server=server, name="Globex")
    OrganizationFactory(server=server, name="Gone", is_active=False)
    for _ in range(3):
        MembershipFactory(organization=acme)
    members = {
        o.name: o._members
        for o in admin_client.get("/admin/organizations/organization/").context["cl"].result_list
    }
    assert members == {"Acme": 3, "Globex": 0, "Gone": 0}
    [row] = admin_client.get("/admin/organizations/server/").context["cl"].result_list
    assert row._organizations == 2


def test_seats_held_per_server_are_the_seats_held_per_organization_summed(vendor_key):
    grow(vendor_key, 3)
    SeatAssignment.objects.filter(server__server_id="CIC-000").update(released_at=timezone.now())
    lease = SeatLease.objects.filter(server__server_id="CIC-001").first()
    SeatLease.objects.filter(pk=lease.pk).update(license_type="supervisor")
    summed = {}
    for (server, _, license_type, method), n in seats_in_use().items():
        summed[(server, license_type, method)] = summed.get((server, license_type, method), 0) + n
    assert seats_in_use_by_server() == summed
    assert (lease.server_id, "supervisor", "concurrent") in summed


def test_seats_sorted_oldest_first_and_newest_first_are_each_others_reverse(
    admin_client, vendor_key
):
    grow(vendor_key, 2)
    SeatAssignment.objects.update(assigned_at=timezone.now() - timedelta(days=3))  # all tied
    column = 1 + admin.site._registry[SeatAssignment].list_display.index("assigned_at")

    def order(o):
        response = admin_client.get(f"/admin/seats/seatassignment/?o={o}")
        return [seat.pk for seat in response.context["cl"].result_list]

    newest, oldest = order(f"-{column}"), order(f"{column}")
    assert oldest == list(reversed(newest)) and len(oldest) == SeatAssignment.objects.count()
