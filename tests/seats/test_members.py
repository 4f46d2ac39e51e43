"""A member's role changed, with the seat following the license it needs (seats/rules.py), the
same way from the admin's membership pages and from the portal (membership_change_role); and a
new station (station_create), whose name two racers cannot both take."""

import pytest
from django.core.exceptions import ValidationError

from organizations.models import Membership, Station, User
from seats.models import ReleaseReason, SeatAssignment
from seats.services.assignments import seat_assign, seat_release
from seats.services.members import membership_change_role
from seats.services.stations import station_create
from tests.concurrency import race
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.history import history

from .seat_helpers import member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(licensed_server):
    return setup_server(licensed_server, ["agent:assignable=3", "supervisor:assignable=1"])


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def change_form_data(response) -> dict:
    """What the admin's change form posts back unchanged: its fields and its inlines'."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            key = form.add_prefix(name)
            if hasattr(field.widget, "widgets"):  # a date and a time
                for i, part in enumerate(field.widget.decompress(value)):
                    data[f"{key}_{i}"] = "" if part is None else str(part)
            elif isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif value is not None:
                data[key] = value
    return data


def test_a_role_change_that_keeps_the_license_leaves_the_seat(org):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    sister = OrganizationFactory(server=server, name="Sister")
    MembershipFactory(user=alice, organization=sister, role="supervisor")
    [seat] = seat_assign(user=alice)
    assert seat.license_type == "supervisor"
    said = membership_change_role(
        membership=Membership.objects.get(user=alice, organization=organization), role="supervisor"
    )
    assert said == "alice is now a supervisor of Northwind; the seat they need is unchanged."
    assert list(SeatAssignment.objects.active().filter(user=alice)) == [seat]


def test_the_admins_membership_page_changes_a_role_through_the_service(org, admin_client):
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    seat_assign(user=alice)
    membership = Membership.objects.get(user=alice)
    page = f"/admin/organizations/membership/{membership.pk}/change/"
    data = {**change_form_data(admin_client.get(page)), "role": "supervisor"}

    response = admin_client.post(page, data, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert (
        "alice is now a supervisor of Northwind; their Agent access (IWP_Agent) Assignable seat "
        "was exchanged for a Supervisor access (IWP_Supervisor) Assignable seat." in shown
    )
    assert list(
        SeatAssignment.objects.active().filter(user=alice).values_list("license_type", flat=True)
    ) == ["supervisor"]
    assert SeatAssignment.objects.get(license_type="agent").release_reason == (
        ReleaseReason.ROLE_CHANGE
    )
    assert (
        pool_in_use(server, "agent", "assignable"),
        pool_in_use(server, "supervisor", "assignable"),
    ) == (0, 1)
    assert [(e.label, e.actor) for e in history(membership)][-1] == ("update", "root")


def test_the_admins_user_page_refuses_a_role_whose_seat_is_not_free_and_changes_nothing(
    org, admin_client
):
    server, organization = org
    seat_assign(user=member(organization, "sam", method="assigned", role="supervisor"))
    alice = member(organization, "alice", method="assigned")
    [seat] = seat_assign(user=alice)
    page = f"/admin/organizations/user/{alice.pk}/change/"
    data = change_form_data(admin_client.get(page))
    [role_key] = [k for k in data if k.startswith("memberships-") and k.endswith("-role")]
    data[role_key] = "supervisor"

    response = admin_client.post(page, {**data, "first_name": "Alicia"}, follow=True)
    [shown] = [str(m) for m in response.context["messages"]]
    assert "Supervisor access (IWP_Supervisor) Assignable" in shown and "1 of 1 in use" in shown
    assert shown.endswith("Nothing was assigned. alice stays an agent.")
    alice.refresh_from_db()
    assert alice.first_name != "Alicia"  # the whole save rolled back
    assert Membership.objects.get(user=alice).role == "agent"
    assert list(SeatAssignment.objects.active().filter(user=alice)) == [seat]

    # With a seat free, the same page changes the role and exchanges the seat.
    seat_release(user=User.objects.get(username="sam"))
    response = admin_client.post(page, data, follow=True)
    assert any(
        str(m).startswith("alice is now a supervisor of Northwind; their Agent access")
        for m in response.context["messages"]
    )
    assert Membership.objects.get(user=alice).role == "supervisor"
    assert list(
        SeatAssignment.objects.active().filter(user=alice).values_list("license_type", flat=True)
    ) == ["supervisor"]


def test_station_names_are_unique_in_an_organization_whatever_the_case(org):
    server, organization = org
    desk = station_create(organization=organization, name=" Desk 1 ", acting_user=None)
    assert desk.name == "Desk 1"
    with pytest.raises(ValidationError) as refused:
        station_create(organization=organization, name="DESK 1", acting_user=None)
    assert refused.value.message_dict == {
        "name": ["Northwind has a station named “DESK 1” already: choose another name."]
    }
    other = OrganizationFactory(server=server, name="Other")
    assert station_create(organization=other, name="desk 1", acting_user=None).pk


@pytest.mark.django_db(transaction=True)
def test_two_racers_creating_one_station_name_make_one_station(org):
    server, organization = org
    results = race(
        4,
        lambda i: station_create(
            organization=organization,
            name=["Desk 1", "desk 1", "DESK 1", "Desk 1"][i],
            acting_user=None,
        ),
    )
    made = [r for r in results if isinstance(r, Station)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(made) == 1 and len(refused) == 3, results
    assert Station.objects.filter(organization=organization).count() == 1


def test_the_admin_adds_stations_through_the_same_service_and_rule(org, admin_client):
    server, organization = org
    station_create(organization=organization, name="Desk 1", acting_user=None)
    add = "/admin/organizations/station/add/"
    refused = admin_client.post(add, {"organization": organization.pk, "name": "DESK 1"})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["name"] == [
        "Northwind has a station named “DESK 1” already: choose another name."
    ]
    assert Station.objects.count() == 1

    added = admin_client.post(add, {"organization": organization.pk, "name": "Desk 2"})
    assert added.status_code == 302
    desk = Station.objects.get(name="Desk 2")
    assert [(e.label, e.actor) for e in history(desk)] == [("insert", "root")]


def test_a_membership_deleted_in_the_admin_releases_the_seats_it_needed(org, admin_client):
    """From the membership list's delete action and from the user page's inline, as the portal's
    remove: the seat goes back to the pool, the page says so, and a seat still needed through
    another organization of the server stays."""
    server, organization = org
    alice = member(organization, "alice", method="assigned")
    bob = member(organization, "bob", method="assigned")
    carol = member(organization, "carol", method="assigned")
    MembershipFactory(user=carol, organization=OrganizationFactory(server=server, name="Sister"))
    for user in (alice, bob, carol):
        seat_assign(user=user)
    assert pool_in_use(server, "agent", "assignable") == 3

    response = admin_client.post(
        "/admin/organizations/membership/",
        {
            "action": "delete_selected",
            "_selected_action": [
                m.pk
                for m in Membership.objects.filter(
                    organization=organization, user__in=[alice, carol]
                )
            ],
            "post": "yes",
        },
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    assert (
        "alice is no longer a member of Northwind: 1 seat(s) they held on server CIC-SEATS "
        "released." in shown
    )
    assert not any(m.startswith("carol") for m in shown)  # Sister still needs carol's seat
    assert not SeatAssignment.objects.active().filter(user=alice).exists()
    assert SeatAssignment.objects.active().filter(user=carol).exists()
    assert SeatAssignment.objects.get(user=alice).release_reason == ReleaseReason.UNASSIGNED

    page = f"/admin/organizations/user/{bob.pk}/change/"
    data = change_form_data(admin_client.get(page))
    [delete_key] = [k.replace("-role", "-DELETE") for k in data if k.endswith("-role")]
    response = admin_client.post(page, {**data, delete_key: "on"}, follow=True)
    assert any(
        str(m).startswith("bob is no longer a member of Northwind")
        for m in response.context["messages"]
    )
    assert not Membership.objects.filter(user=bob).exists()
    assert not SeatAssignment.objects.active().filter(user=bob).exists()
    assert pool_in_use(server, "agent", "assignable") == 1
