"""Seats in the admin: assign/release on user and station pages, bulk actions, CSV
import, who holds what."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from organizations.models import Membership, User
from seats.models import SeatAssignment, SeatLease
from seats.services.assignments import seat_assign
from tests.factories import OrganizationFactory, StationFactory

from .seat_helpers import login, member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(licensed_server):
    return setup_server(
        licensed_server, ["agent:assignable=2", "supervisor:assignable=2", "agent:concurrent=5"]
    )


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_user_page_assigns_and_releases_a_seat(admin_client, org):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    page = admin_client.get(f"/admin/organizations/user/{alice.pk}/change/").content.decode()
    assert "No seat." in page and "Assign seat" in page
    response = admin_client.post(f"/admin/organizations/user/{alice.pk}/seat/assign/", follow=True)
    assert "alice: 1 seat assigned." in messages_of(response)
    assert "Agent access (IWP_Agent) on server CIC-SEATS" in response.content.decode()
    response = admin_client.post(f"/admin/organizations/user/{alice.pk}/seat/release/", follow=True)
    assert "alice: 1 seat(s) released." in messages_of(response)
    assert pool_in_use(server, "agent", "assignable") == 0
    assert admin_client.get(f"/admin/organizations/user/{alice.pk}/seat/assign/").status_code == 405


def test_bulk_assign_action_is_all_or_nothing_and_says_how_many_seats_are_missing(
    admin_client, org
):
    server, organization = org
    users = [member(organization, f"agent{i}", method="assigned") for i in range(4)]
    response = admin_client.post(
        "/admin/organizations/user/",
        {"action": "assign_seats", "_selected_action": [u.pk for u in users]},
        follow=True,
    )
    [message] = messages_of(response)
    assert "4 needed, 2 free (0 of 2 in use), 2 seats missing. Nothing was assigned." in message
    assert SeatAssignment.objects.count() == 0
    response = admin_client.post(
        "/admin/organizations/user/",
        {"action": "assign_seats", "_selected_action": [u.pk for u in users[:2]]},
        follow=True,
    )
    assert messages_of(response) == ["2 seats assigned."]
    response = admin_client.post(
        "/admin/organizations/user/",
        {"action": "release_seats", "_selected_action": [u.pk for u in users]},
        follow=True,
    )
    assert messages_of(response) == ["2 seat(s) released."]


def test_station_page_assigns_a_supervisor_seat_and_releases_it(admin_client, org):
    server, organization = org
    desk = StationFactory(organization=organization, name="Desk-9")
    assert (
        "Assign Supervisor access"
        in admin_client.get(f"/admin/organizations/station/{desk.pk}/change/").content.decode()
    )
    response = admin_client.post(
        f"/admin/organizations/station/{desk.pk}/seat/assign/",
        {"license_type": "supervisor"},
        follow=True,
    )
    assert "Desk-9: seat assigned." in messages_of(response)
    assert desk.seat_assignments.active().get().license_type == "supervisor"
    response = admin_client.post(
        f"/admin/organizations/station/{desk.pk}/seat/release/",
        {"license_type": "supervisor"},
        follow=True,
    )
    assert "Desk-9: 1 seat(s) released." in messages_of(response)
    assert pool_in_use(server, "supervisor", "assignable") == 0


def test_changing_the_method_on_the_user_page_releases_old_seats_and_says_so(
    admin_client, admin_user, org
):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    seat_assign(user=alice, acting_user=admin_user)
    form = (
        admin_client.get(f"/admin/organizations/user/{alice.pk}/change/").context["adminform"].form
    )
    data = {
        k: v
        for k, v in form.initial.items()
        if v is not None and k not in ("groups", "user_permissions", "password")
    }
    data.update(
        {
            "license_method": "concurrent",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        }
    )
    data.pop("date_joined", None), data.pop("last_login", None)
    response = admin_client.post(f"/admin/organizations/user/{alice.pk}/change/", data, follow=True)
    assert (
        "alice is now a Concurrent user; "
        "1 Assignable seat released (Agent access (IWP_Agent) on server CIC-SEATS)."
        in messages_of(response)
    )
    alice.refresh_from_db()
    assert alice.license_method == "concurrent" and SeatAssignment.objects.active().count() == 0


def test_lease_admin_shows_who_holds_each_seat_and_releases_it(
    admin_client, org, django_assert_max_num_queries
):
    server, organization = org
    clients = []
    for i in range(3):
        member(organization, f"bob{i}")
        clients.append(Client())
        login(clients[-1], f"bob{i}")
    with django_assert_max_num_queries(12):
        page = admin_client.get("/admin/seats/seatlease/?state=active")
    assert page.content.decode().count("bob") >= 3
    for i in range(3, 9):
        member(organization, f"bob{i}")
        login(Client(), f"bob{i}") if i < 5 else None
    with django_assert_max_num_queries(12):
        admin_client.get("/admin/seats/seatlease/?state=active")
    lease = SeatLease.objects.active().get(user__username="bob0")
    response = admin_client.post(
        "/admin/seats/seatlease/",
        {"action": "release_selected", "_selected_action": [lease.pk]},
        follow=True,
    )
    assert messages_of(response) == ["1 seat released."]
    assert clients[0].get("/portal/").status_code == 302
    for url in (
        "/admin/seats/seatassignment/",
        "/admin/seats/seatdenial/",
        "/admin/seats/dailyseatusage/",
        "/admin/seats/seatpool/",
    ):
        assert admin_client.get(url).status_code == 200


CSV_HEADER = "username,email,first_name,last_name,server,organization,role,method,seat\n"


def _import(admin_client, text):
    upload = SimpleUploadedFile("users.csv", text.encode(), content_type="text/csv")
    return admin_client.post(
        "/admin/organizations/user/import/", {"import_file": upload, "format": "0", "resource": "0"}
    )


def test_csv_import_previews_and_refuses_rows_naming_line_and_field_and_writes_nothing(
    admin_client, org
):
    server, organization = org
    text = CSV_HEADER + (
        "ann,ann@example.com,Ann,A,CIC-SEATS,Northwind,agent,assigned,yes\n"
        "ben,ben@example.com,Ben,B,CIC-SEATS,Nowhere,agent,assigned,yes\n"
        "cat,cat@example.com,Cat,C,CIC-SEATS,Northwind,boss,assigned,\n"
        "dan,dan@example.com,Dan,D,CIC-SEATS,Northwind,agent,concurrent,yes\n"
        "eve,eve@example.com,Eve,E,CIC-SEATS,Northwind,agent,assigned,yes\n"
        "fay,fay@example.com,Fay,F,CIC-SEATS,Northwind,agent,assigned,yes\n"
    )
    response = _import(admin_client, text)
    page = response.content.decode()
    assert response.status_code == 200 and "confirm_form" not in response.context
    assert "No organization named “Nowhere” on server CIC-SEATS." in page
    assert "“boss” is not a role" in page
    assert "Concurrent users take a seat when they log in" in page
    assert (
        "No Agent access (IWP_Agent) Assignable seat is free on server CIC-SEATS: 2 of 2 in use."
        in page
    )
    assert not User.objects.filter(username__in=["ann", "ben", "cat", "dan", "eve", "fay"]).exists()
    assert SeatAssignment.objects.count() == 0 and pool_in_use(server, "agent", "assignable") == 0


def test_csv_import_confirmed_creates_users_memberships_and_seats(admin_client, org):
    server, organization = org
    text = CSV_HEADER + (
        "ann,ann@example.com,Ann,A,CIC-SEATS,Northwind,agent,assigned,yes\n"
        "sue,sue@example.com,Sue,S,CIC-SEATS,Northwind,supervisor,assigned,yes\n"
        "dan,dan@example.com,Dan,D,CIC-SEATS,Northwind,agent,concurrent,\n"
    )
    preview = _import(admin_client, text)
    confirm = preview.context["confirm_form"]
    assert User.objects.filter(username="ann").count() == 0  # the preview wrote nothing
    data = {k: v for k, v in confirm.initial.items()}
    response = admin_client.post("/admin/organizations/user/process_import/", data, follow=True)
    assert response.status_code == 200
    assert Membership.objects.get(user__username="sue").role == "supervisor"
    assert User.objects.get(username="dan").license_method == "concurrent"
    assert sorted(
        SeatAssignment.objects.active().values_list("user__username", "license_type")
    ) == [("ann", "agent"), ("sue", "supervisor")]
    assert not User.objects.get(username="ann").has_usable_password()


def test_csv_import_refuses_an_organization_name_found_on_two_servers_without_a_server(
    admin_client, org, licensed_server
):
    other = licensed_server(server_id="CIC-OTHER", entitlements=["server", "organization=2"])
    OrganizationFactory(server=other, name="Northwind")
    text = CSV_HEADER + "ann,ann@example.com,Ann,A,,Northwind,agent,assigned,\n"
    page = _import(admin_client, text).content.decode()
    assert (
        "“Northwind” is an organization on more than one server (CIC-OTHER, CIC-SEATS): "
        "name the server in a “server” column."
    ) in page
    assert not User.objects.filter(username="ann").exists()
