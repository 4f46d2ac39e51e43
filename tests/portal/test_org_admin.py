"""Organization administrators (issue 14) manage their organization in the portal: its users
and stations, their role, seats and method, stuck sessions, invitations and memberships, new
stations, through the services the admin uses, with their refusals, and the audit trail naming
the organization administrator. Isolation from other organizations: test_tenancy.py."""

import html
import re

import pytest
from django.urls import reverse

from licenses.exceptions import LicenseLimitReached
from notifications.models import OutboxMessage
from organizations.models import Membership, PortalFeature, Station, User
from portal.models import Invitation
from portal.selectors import invitation_status
from seats.models import ReleaseReason, SeatAssignment, SeatLease
from seats.services.assignments import seat_assign
from seats.services.leases import lease_acquire
from tests.factories import MembershipFactory, OrganizationFactory, StationFactory, UserFactory
from tests.history import history

from .conftest import lease_seat

pytestmark = pytest.mark.django_db

ORG_ADMIN = Membership.Role.ORG_ADMIN
ASSIGNED, CONCURRENT = User.LicenseMethod.ASSIGNED, User.LicenseMethod.CONCURRENT
PASSWORD = "correct horse battery"  # tests/factories.py
NEW_PASSWORD = "a long new password 42"


@pytest.fixture
def olga(org, make_member):
    return make_member(org, role=ORG_ADMIN, username="olga.admin")


@pytest.fixture
def admin_client(client, olga):
    client.force_login(olga)
    return client


def url(org, name, *ids, query=""):
    return reverse(f"portal:{name}", args=[org.pk, *ids]) + query


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def said(response) -> list[str]:
    """The messages the page shows."""
    return [str(m) for m in response.context["messages"]]


def agent(org, make_member, username, *, method=ASSIGNED, seat=False):
    return make_member(org, role="agent", method=method, seat=seat, username=username)


def actors(obj) -> list[tuple[str, str | None]]:
    return [(e.label, e.actor) for e in history(obj)]


# The list -----------------------------------------------------------------------------------------


def test_org_admin_has_the_manage_tab_and_lists_users_with_role_method_and_seat(
    admin_client, org, make_member
):
    agent(org, make_member, "alice.agent", seat=True)
    agent(org, make_member, "bob.agent", method=CONCURRENT, seat=True)
    agent(org, make_member, "carol.agent")
    make_member(org, username="sam.supervisor")

    nav = text_of(admin_client.get("/portal/"))
    assert f'href="{url(org, "manage_users")}"' in nav and "Manage users and seats" in nav
    page = admin_client.get(url(org, "manage_users"))
    assert page.status_code == 200
    rows = {
        m.user.username: m for m in page.context["page"]
    }  # what the rows show, from the context
    assert list(rows) == [
        "alice.agent",
        "bob.agent",
        "carol.agent",
        "olga.admin",
        "sam.supervisor",
    ]
    assert rows["alice.agent"].assigned_license == "agent"
    assert rows["bob.agent"].lease_license == "agent"
    assert rows["carol.agent"].assigned_license is None
    assert rows["olga.admin"].refusal and rows["carol.agent"].refusal is None
    html = text_of(page)
    carol = re.search(r'<tr data-user="carol.agent">.*?</tr>', html, re.S).group(0)
    assert "Agent" in carol and "Assigned" in carol and "Assign seat" in carol
    alice = re.search(r'<tr data-user="alice.agent">.*?</tr>', html, re.S).group(0)
    assert "Agent access" in alice and "Unassign…" in alice
    bob = re.search(r'<tr data-user="bob.agent">.*?</tr>', html, re.S).group(0)
    assert "Concurrent" in bob and "Release…" in bob
    olga = re.search(r'<tr data-user="olga.admin">.*?</tr>', html, re.S).group(0)
    assert "Organization admin" in olga and "Assign seat" not in olga

    found = admin_client.get(url(org, "manage_users", query="?q=carol"))
    assert [m.user.username for m in found.context["page"]] == ["carol.agent"]
    unseated = admin_client.get(url(org, "manage_users", query="?show=unseated"))
    assert [m.user.username for m in unseated.context["page"]] == ["carol.agent"]


@pytest.mark.parametrize(
    "name, most", [("manage_users", 7), ("manage_stations", 8), ("manage_sessions", 7)]
)
def test_list_pages_run_the_same_queries_for_20_and_120_users(
    client, licensed_server, make_member, populate, django_assert_max_num_queries, name, most
):
    """Two organizations of different sizes (with 2 and 5 stations), each with its organization
    administrator: the same number of queries (120 users: three pages of 50)."""
    server = licensed_server()
    small, large = (OrganizationFactory(server=server) for _ in range(2))
    populate(small, 20, prefix="s")
    populate(large, 120, prefix="l")
    counts = []
    for organization in (small, large):
        client.force_login(make_member(organization, role=ORG_ADMIN))
        with django_assert_max_num_queries(most) as captured:
            response = client.get(url(organization, name, query="?page=2"))
        assert response.status_code == 200
        assert len(response.context["page"]) == (
            {"manage_users": 21, "manage_stations": 2, "manage_sessions": 7}[name]
            if organization is small
            else {"manage_users": 50, "manage_stations": 5, "manage_sessions": 40}[name]
        )
        counts.append(len(captured))
    assert counts[0] == counts[1]


# Assignable seats of users ----------------------------------------------------------------------


def test_assign_a_seat_from_the_list(admin_client, org, make_member, olga):
    carol = agent(org, make_member, "carol.agent")
    response = admin_client.post(
        url(org, "manage_user_assign", carol.pk), {"back": "list"}, follow=True
    )
    assert response.redirect_chain == [(url(org, "manage_users"), 302)]
    assert said(response) == ["carol.agent: 1 seat assigned."]
    seat = SeatAssignment.objects.active().get(user=carol)
    assert seat.license_type == "agent" and seat.assigned_by == olga
    assert actors(seat) == [("insert", "olga.admin")]


def test_a_full_pool_refuses_with_the_services_message_and_assigns_nothing(
    admin_client, org, make_member
):
    for i in range(3):  # agent:assignable=3
        seat_assign(user=agent(org, make_member, f"seated{i}"))
    carol = agent(org, make_member, "carol.agent")
    with pytest.raises(LicenseLimitReached) as refusal:
        seat_assign(user=carol)
    response = admin_client.post(url(org, "manage_user_assign", carol.pk), follow=True)
    assert said(response) == [str(refusal.value)]
    assert "3 of 3 in use" in said(response)[0] and "Nothing was assigned." in said(response)[0]
    assert not SeatAssignment.objects.filter(user=carol).exists()


def test_unassign_asks_first_then_releases_the_seat(admin_client, org, make_member):
    alice = agent(org, make_member, "alice.agent")
    [seat] = seat_assign(user=alice)
    question = admin_client.get(url(org, "manage_user_unassign", alice.pk))
    assert question.status_code == 200
    assert "Unassign alice.agent's seat?" in text_of(question)
    assert '<button type="submit" class="danger">Unassign the seat</button>' in text_of(question)
    seat.refresh_from_db()
    assert seat.released_at is None  # asking changes nothing

    response = admin_client.post(url(org, "manage_user_unassign", alice.pk), follow=True)
    assert said(response) == ["alice.agent: 1 seat(s) released."]
    seat.refresh_from_db()
    assert seat.released_at is not None and seat.release_reason == ReleaseReason.UNASSIGNED
    assert actors(seat) == [("insert", None), ("update", "olga.admin")]


# The method ---------------------------------------------------------------------------------------


def test_switching_the_method_releases_the_old_methods_seat(admin_client, org, make_member):
    alice = agent(org, make_member, "alice.agent")
    [seat] = seat_assign(user=alice)
    response = admin_client.post(
        url(org, "manage_user_method", alice.pk), {"method": "concurrent"}, follow=True
    )
    [message] = said(response)
    assert message.startswith("alice.agent is now a Concurrent user; 1 Assignable seat released")
    alice.refresh_from_db()
    assert alice.license_method == CONCURRENT
    assert SeatAssignment.objects.get(pk=seat.pk).release_reason == ReleaseReason.METHOD_CHANGE
    [*_, change] = history(alice)
    assert change.actor == "olga.admin"
    assert change.changes["license_method"] == ["assigned", "concurrent"]

    again = admin_client.post(
        url(org, "manage_user_method", alice.pk), {"method": "concurrent"}, follow=True
    )
    assert said(again) == ["alice.agent is already a Concurrent user."]
    bad = admin_client.post(url(org, "manage_user_method", alice.pk), {"method": "x"}, follow=True)
    assert said(bad) == ["Choose Assigned or Concurrent."]


# A stuck Concurrent session -----------------------------------------------------------------------


def test_releasing_a_stuck_sessions_seat_asks_first_and_records_the_org_admin(
    admin_client, org, make_member, olga
):
    bob = agent(org, make_member, "bob.agent", method=CONCURRENT)
    lease = lease_acquire(user=bob)[0]
    sessions = admin_client.get(url(org, "manage_sessions"))
    assert [lease.user.username for lease in sessions.context["page"]] == ["bob.agent"]
    release_url = url(org, "manage_session_release", lease.pk)
    assert release_url in text_of(sessions)
    question = admin_client.get(release_url)
    assert "Release bob.agent's Concurrent seat?" in text_of(question)
    assert SeatLease.objects.get(pk=lease.pk).released_at is None

    response = admin_client.post(release_url, follow=True)
    assert said(response) == ["bob.agent's Concurrent seat released; their session is signed out."]
    lease.refresh_from_db()
    assert lease.release_reason == ReleaseReason.ADMIN and lease.released_by == olga
    assert actors(lease)[-1] == ("update", "olga.admin")
    twice = admin_client.post(release_url, follow=True)
    assert said(twice) == ["bob.agent's seat was released already."]


def test_an_org_admin_cannot_release_their_own_session_here(client, org, make_member):
    omar = make_member(org, role=ORG_ADMIN, method=CONCURRENT, username="omar.admin")
    client.force_login(omar)
    lease = SeatLease.objects.get(user=omar)
    response = client.post(url(org, "manage_session_release", lease.pk), follow=True)
    assert said(response)[0].startswith("That is your own seat")
    assert SeatLease.objects.get(pk=lease.pk).released_at is None


# Invitations --------------------------------------------------------------------------------------

INVITE = {
    "username": "nina.new",
    "email": "nina.new@example.com",
    "first_name": "Nina",
    "last_name": "New",
    "role": "supervisor",
    "license_method": "concurrent",
}


def test_inviting_creates_a_member_without_password_and_mails_the_link(
    admin_client, org, olga, settings
):
    settings.IWP_SITE_URL = ""  # the link's base is the address the request came to
    form = admin_client.get(url(org, "manage_invite"))
    assert form.status_code == 200 and 'name="username"' in text_of(form)
    assert '<option value="org_admin"' not in text_of(form)

    response = admin_client.post(url(org, "manage_invite"), INVITE, follow=True)
    nina = User.objects.get(username="nina.new")
    assert response.redirect_chain == [(url(org, "manage_user", nina.pk), 302)]
    [message] = said(response)
    assert message.startswith(
        "nina.new is now a member of Acme Support. Invitation e-mailed to nina.new@example.com"
    )
    assert not nina.has_usable_password()
    assert (nina.first_name, nina.last_name, nina.license_method) == ("Nina", "New", CONCURRENT)
    membership = Membership.objects.get(user=nina)
    assert (membership.organization, membership.role) == (org, "supervisor")
    invitation = Invitation.objects.get(user=nina)
    assert invitation.sent_by == olga
    mail = OutboxMessage.objects.get(dedupe_key=f"invitation:{invitation.pk}")
    assert mail.to == ["nina.new@example.com"]
    assert re.search(r"http://testserver/accounts/invitation/\S+/", mail.body)
    assert "(Acme Support)" in mail.body
    assert actors(nina) == [("insert", "olga.admin")]
    assert actors(membership) == [("insert", "olga.admin")]
    assert "Waiting, link works until" in text_of(response)


def test_invitation_refusals_change_nothing(admin_client, org, make_member):
    make_member(org, username="taken")
    users, mails = User.objects.count(), OutboxMessage.objects.count()
    for data, field, error in [
        ({**INVITE, "username": "taken"}, "username", "A user with that username already exists."),
        ({**INVITE, "role": "org_admin"}, "role", "Select a valid choice."),
        ({**INVITE, "email": ""}, "email", "This field is required."),
        ({**INVITE, "username": "no spaces"}, "username", "Enter a valid username."),
    ]:
        response = admin_client.post(url(org, "manage_invite"), data)
        assert response.status_code == 400
        assert any(error in e for e in response.context["form"].errors[field]), field
    assert (User.objects.count(), OutboxMessage.objects.count()) == (users, mails)


def test_the_invite_service_refuses_an_org_admin_role(org, olga):
    from django.core.exceptions import ValidationError

    from portal.services.members import member_invite

    with pytest.raises(ValidationError) as refused:
        member_invite(
            organization=org,
            acting_user=olga,
            site_url="http://x/",
            **{**INVITE, "role": "org_admin"},
        )
    assert "an administrator adds organization administrators" in str(refused.value)
    assert not User.objects.filter(username="nina.new").exists()


def test_sending_the_invitation_again(admin_client, org, make_member, olga):
    admin_client.post(url(org, "manage_invite"), INVITE, follow=True)
    nina = User.objects.get(username="nina.new")
    response = admin_client.post(url(org, "manage_user_invitation", nina.pk), follow=True)
    assert said(response) == ["Invitation sent to 1 user(s): nina.new."]
    assert Invitation.objects.filter(user=nina, sent_by=olga).count() == 2
    assert OutboxMessage.objects.filter(to=["nina.new@example.com"]).count() == 2

    has_password = agent(org, make_member, "alice.agent")
    page = admin_client.get(url(org, "manage_user", has_password.pk))
    assert "already has a password" in text_of(page)
    refused = admin_client.post(url(org, "manage_user_invitation", has_password.pk), follow=True)
    assert said(refused) == [
        "No invitation sent. alice.agent already has a password: they sign in with it, or use "
        "“Forgot your password?” on the login page."
    ]


# Memberships --------------------------------------------------------------------------------------


def test_removing_a_member_asks_first_then_releases_their_seats(admin_client, org, make_member):
    alice = agent(org, make_member, "alice.agent")
    [seat] = seat_assign(user=alice)
    membership = Membership.objects.get(user=alice)
    remove_url = url(org, "manage_user_remove", alice.pk)
    user_page = admin_client.get(url(org, "manage_user", alice.pk))
    assert remove_url in text_of(user_page)
    question = admin_client.get(remove_url)
    assert "Remove alice.agent from Acme Support?" in text_of(question)
    assert Membership.objects.filter(pk=membership.pk).exists()

    response = admin_client.post(remove_url, follow=True)
    assert response.redirect_chain == [(url(org, "manage_users"), 302)]
    assert said(response) == ["alice.agent removed from Acme Support; 1 seat(s) released."]
    assert not Membership.objects.filter(user=alice).exists()
    assert User.objects.filter(pk=alice.pk).exists()  # the account stays
    seat.refresh_from_db()
    assert seat.released_at is not None
    assert actors(membership)[-1] == ("delete", "olga.admin")
    assert actors(seat)[-1] == ("update", "olga.admin")
    assert admin_client.get(url(org, "manage_user", alice.pk)).status_code == 404


def test_a_member_who_keeps_another_membership_on_the_server_keeps_the_seat(
    admin_client, org, make_member
):
    sister = OrganizationFactory(server=org.server, name="Acme Sales")
    alice = agent(org, make_member, "alice.agent")
    MembershipFactory(user=alice, organization=sister, role="agent")
    [seat] = seat_assign(user=alice)
    response = admin_client.post(url(org, "manage_user_remove", alice.pk), follow=True)
    assert said(response) == ["alice.agent removed from Acme Support; 0 seat(s) released."]
    assert list(Membership.objects.filter(user=alice).values_list("organization", flat=True)) == [
        sister.pk
    ]
    seat.refresh_from_db()
    assert seat.released_at is None


def test_org_admins_themselves_and_members_of_other_organizations_are_left_to_administrators(
    admin_client, org, make_member, olga
):
    peer = make_member(org, role=ORG_ADMIN, username="peter.admin")
    shared = agent(org, make_member, "shared.agent")
    MembershipFactory(user=shared, organization=OrganizationFactory(name="Other Co"))
    snapshot = lambda: (  # noqa: E731
        sorted(Membership.objects.values_list("user_id", "organization_id", "role")),
        sorted(SeatAssignment.objects.active().values_list("pk", flat=True)),
        sorted(User.objects.values_list("username", "license_method")),
        Invitation.objects.count(),
    )
    before = snapshot()
    refusals = {
        olga: "You cannot change your own membership, seats or method here",
        peer: "peter.admin is an organization administrator: an administrator manages",
        shared: "shared.agent is also a member of another organization",
    }
    for user, refusal in refusals.items():
        page = admin_client.get(url(org, "manage_user", user.pk))
        assert refusal in text_of(page)
        assert "Assign a seat" not in text_of(page) and "Make them" not in text_of(page)
        for name, data in [
            ("manage_user_role", {"role": "supervisor"}),
            ("manage_user_role", {"role": "agent"}),
            ("manage_user_assign", {}),
            ("manage_user_unassign", {}),
            ("manage_user_method", {"method": "concurrent"}),
            ("manage_user_invitation", {}),
        ] + ([] if user is shared else [("manage_user_remove", {})]):
            response = admin_client.post(url(org, name, user.pk), data, follow=True)
            assert said(response)[0].startswith(refusal), (user, name)
    assert snapshot() == before
    # A member of another organization too can be removed from this one.
    response = admin_client.post(url(org, "manage_user_remove", shared.pk), follow=True)
    assert said(response)[0].startswith("shared.agent removed from Acme Support")
    assert Membership.objects.filter(user=shared).count() == 1


# Stations -----------------------------------------------------------------------------------------


def test_assign_and_release_a_stations_seat(admin_client, org, olga):
    desk = StationFactory(organization=org, name="Desk 7")
    listed = admin_client.get(url(org, "manage_stations"))
    assert [s.name for s in listed.context["page"]] == ["Desk 7"]
    assert "Assign Agent seat" in text_of(listed) and "Assign Supervisor seat" in text_of(listed)

    response = admin_client.post(
        url(org, "manage_station_assign", desk.pk), {"license_type": "agent"}, follow=True
    )
    assert said(response) == ["Desk 7: seat assigned."]
    seat = SeatAssignment.objects.active().get(station=desk)
    assert (seat.license_type, seat.assigned_by) == ("agent", olga)
    assert actors(seat) == [("insert", "olga.admin")]
    assert "Release Agent seat…" in text_of(response)

    release_url = url(org, "manage_station_release", desk.pk, query="?license_type=agent")
    question = admin_client.get(release_url)
    assert "Release station Desk 7's Agent access (IWP_Agent) seat?" in text_of(question)
    assert SeatAssignment.objects.active().filter(station=desk).exists()
    response = admin_client.post(
        url(org, "manage_station_release", desk.pk), {"license_type": "agent"}, follow=True
    )
    assert said(response) == ["Desk 7: 1 seat(s) released."]
    seat.refresh_from_db()
    assert seat.released_at is not None and actors(seat)[-1] == ("update", "olga.admin")


def test_a_full_pool_refuses_a_stations_seat_with_the_services_message(
    admin_client, org, make_member
):
    for i in range(3):
        seat_assign(station=StationFactory(organization=org, name=f"Full {i}"))
    desk = StationFactory(organization=org, name="Desk 7")
    response = admin_client.post(
        url(org, "manage_station_assign", desk.pk), {"license_type": "agent"}, follow=True
    )
    [message] = said(response)
    assert "3 of 3 in use" in message and "CIC-TEST-MAIN" in message
    assert not SeatAssignment.objects.filter(station=desk).exists()


# Gating -------------------------------------------------------------------------------------------


def test_managing_can_be_withheld_from_an_org_admin(client, org, make_member):
    withheld = make_member(org, role=ORG_ADMIN, withheld=[PortalFeature.MANAGE])
    client.force_login(withheld)
    response = client.get(url(org, "manage_users"))
    assert response.status_code == 403
    assert "Manage users and seats has been withheld from you in Acme Support" in text_of(response)
    assert "Manage users and seats" not in text_of(client.get("/portal/"))
    assert client.get(url(org, "holders")).status_code == 200  # the rest stays


def test_an_org_admin_needs_the_supervisor_seat_like_every_supervisor_page(
    client, org, make_member
):
    unseated = make_member(org, role=ORG_ADMIN, method=CONCURRENT, seat=False)
    client.force_login(unseated)
    response = client.get(url(org, "manage_users"))
    assert response.status_code == 403
    assert "you hold no Supervisor access (IWP_Supervisor) seat" in text_of(response)
    lease_seat(user=unseated, organization=org, license_type="supervisor")
    assert client.get(url(org, "manage_users")).status_code == 200


def test_the_admins_user_page_lists_managing_for_org_admins_only(client, org, make_member):
    from portal.features import features_of_user

    olga = make_member(org, role=ORG_ADMIN)
    sam = make_member(org)
    [olgas] = features_of_user(user=olga)
    [sams] = features_of_user(user=sam)
    assert ("Manage users and seats", None) in [(str(label), r) for label, r in olgas.features]
    assert "Manage users and seats" not in [str(label) for label, _r in sams.features]


def test_a_user_of_another_organization_is_never_listed(admin_client, org, make_member):
    other = OrganizationFactory(server=org.server, name="Other")
    outsider = UserFactory(username="outsider")
    MembershipFactory(user=outsider, organization=other)
    page = admin_client.get(url(org, "manage_users", query="?q=outsider"))
    assert list(page.context["page"]) == [] and "outsider" not in text_of(page).replace(
        'value="outsider"', ""
    ).replace("“outsider”", "")


# Roles --------------------------------------------------------------------------------------------


def test_making_an_assigned_agent_a_supervisor_exchanges_their_seat_and_back(
    admin_client, org, make_member, olga
):
    alice = agent(org, make_member, "alice.agent")
    [agent_seat] = seat_assign(user=alice)
    membership = Membership.objects.get(user=alice)
    page = text_of(admin_client.get(url(org, "manage_user", alice.pk)))
    assert "alice.agent is an agent of Acme Support: they need an Agent access seat" in page
    assert "Make them a supervisor" in page

    response = admin_client.post(
        url(org, "manage_user_role", alice.pk), {"role": "supervisor"}, follow=True
    )
    assert response.redirect_chain == [(url(org, "manage_user", alice.pk), 302)]
    assert said(response) == [
        "alice.agent is now a supervisor of Acme Support; their Agent access (IWP_Agent) "
        "Assignable seat was exchanged for a Supervisor access (IWP_Supervisor) Assignable seat."
    ]
    assert "Make them an agent" in text_of(response)
    membership.refresh_from_db()
    assert membership.role == "supervisor"
    agent_seat.refresh_from_db()
    assert agent_seat.release_reason == ReleaseReason.ROLE_CHANGE
    supervisor_seat = SeatAssignment.objects.active().get(user=alice)
    assert (supervisor_seat.license_type, supervisor_seat.assigned_by) == ("supervisor", olga)
    assert actors(membership) == [("insert", None), ("update", "olga.admin")]
    assert history(membership)[-1].changes["role"] == ["agent", "supervisor"]
    assert actors(agent_seat)[-1] == ("update", "olga.admin")
    assert actors(supervisor_seat) == [("insert", "olga.admin")]

    back = admin_client.post(url(org, "manage_user_role", alice.pk), {"role": "agent"}, follow=True)
    assert said(back)[0].startswith("alice.agent is now an agent of Acme Support; their Supervisor")
    assert list(
        SeatAssignment.objects.active().filter(user=alice).values_list("license_type", flat=True)
    ) == ["agent"]
    again = admin_client.post(
        url(org, "manage_user_role", alice.pk), {"role": "agent"}, follow=True
    )
    assert said(again) == ["alice.agent is already an agent of Acme Support."]


def test_a_role_change_without_a_free_seat_of_the_new_license_changes_nothing(
    admin_client, org, make_member
):
    for name in ("sam.supervisor", "sue.supervisor"):  # supervisor:assignable=2
        seat_assign(user=make_member(org, username=name, seat=False))
    alice = agent(org, make_member, "alice.agent")
    [seat] = seat_assign(user=alice)
    response = admin_client.post(
        url(org, "manage_user_role", alice.pk), {"role": "supervisor"}, follow=True
    )
    [message] = said(response)
    assert "Supervisor access (IWP_Supervisor) Assignable" in message
    assert "2 of 2 in use" in message and "CIC-TEST-MAIN" in message
    assert message.endswith("Nothing was assigned. alice.agent stays an agent.")
    assert Membership.objects.get(user=alice).role == "agent"
    assert list(SeatAssignment.objects.active().filter(user=alice)) == [seat]
    assert [e.label for e in history(Membership.objects.get(user=alice))] == ["insert"]


def test_a_role_change_of_an_unseated_assigned_member_says_which_seat_they_now_need(
    admin_client, org, make_member
):
    carol = agent(org, make_member, "carol.agent")
    response = admin_client.post(
        url(org, "manage_user_role", carol.pk), {"role": "supervisor"}, follow=True
    )
    assert said(response) == [
        "carol.agent is now a supervisor of Acme Support; they need a Supervisor access "
        "(IWP_Supervisor) Assignable seat to sign in, and hold none yet."
    ]
    assert not SeatAssignment.objects.filter(user=carol).exists()


def test_a_logged_in_concurrent_members_role_change_releases_their_seat_and_signs_them_out(
    admin_client, client, org, make_member, olga
):
    from django.test import Client

    bob = agent(org, make_member, "bob.agent", method=CONCURRENT)
    bobs_browser = Client()
    bobs_browser.post("/accounts/login/", {"username": "bob.agent", "password": PASSWORD})
    lease = SeatLease.objects.active().get(user=bob)
    assert lease.license_type == "agent" and lease.session_key

    response = admin_client.post(
        url(org, "manage_user_role", bob.pk), {"role": "supervisor"}, follow=True
    )
    assert said(response) == [
        "bob.agent is now a supervisor of Acme Support; their Agent access (IWP_Agent) "
        "Concurrent seat was released and their session signed out: they take a Supervisor "
        "access (IWP_Supervisor) Concurrent seat when they sign in again."
    ]
    lease.refresh_from_db()
    assert lease.release_reason == ReleaseReason.ROLE_CHANGE and lease.released_by == olga
    assert bobs_browser.get("/portal/").status_code == 302  # signed out
    [new] = lease_acquire(user=bob)
    assert new.license_type == "supervisor"


def test_an_org_admin_makes_no_organization_administrator(admin_client, org, make_member, olga):
    from django.core.exceptions import ValidationError

    from portal.services.members import member_role_change

    alice = agent(org, make_member, "alice.agent")
    response = admin_client.post(
        url(org, "manage_user_role", alice.pk), {"role": "org_admin"}, follow=True
    )
    assert said(response) == [
        "Choose Agent or Supervisor: an administrator makes organization administrators."
    ]
    with pytest.raises(ValidationError) as refused:
        member_role_change(
            membership=Membership.objects.get(user=alice), role="org_admin", acting_user=olga
        )
    assert "an administrator makes organization administrators" in str(refused.value)
    assert Membership.objects.get(user=alice).role == "agent"


# Adding stations ----------------------------------------------------------------------------------


def test_adding_a_station_then_giving_it_a_seat(admin_client, org, olga):
    listed = admin_client.get(url(org, "manage_stations"))
    assert url(org, "manage_station_add") in text_of(listed)
    form = admin_client.get(url(org, "manage_station_add"))
    assert form.status_code == 200 and 'name="name"' in text_of(form)

    response = admin_client.post(url(org, "manage_station_add"), {"name": "  Desk 9 "}, follow=True)
    assert response.redirect_chain == [(url(org, "manage_stations", query="?q=Desk+9"), 302)]
    assert said(response) == [
        "Station Desk 9 added to Acme Support. Assign it a seat below: Assigned users signing in "
        "there use it."
    ]
    desk = Station.objects.get(organization=org)
    assert desk.name == "Desk 9"
    assert [s.name for s in response.context["page"]] == ["Desk 9"]
    assert actors(desk) == [("insert", "olga.admin")]
    assigned = admin_client.post(
        url(org, "manage_station_assign", desk.pk), {"license_type": "agent"}, follow=True
    )
    assert said(assigned) == ["Desk 9: seat assigned."]


def test_a_station_name_empty_too_long_or_taken_is_refused_on_its_field(admin_client, org):
    StationFactory(organization=org, name="Desk 7")
    StationFactory(organization=OrganizationFactory(server=org.server), name="Desk 8")
    taken = "Acme Support has a station named “{}” already: choose another name."
    for name, error in [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("Desk 7", taken.format("Desk 7")),
        ("desk 7", taken.format("desk 7")),  # the login finds a station whatever the case
        (" DESK 7 ", taken.format("DESK 7")),
    ]:
        response = admin_client.post(url(org, "manage_station_add"), {"name": name})
        assert response.status_code == 400, name
        assert response.context["form"].errors["name"] == [error], name
        assert error in text_of(response), name
    assert list(Station.objects.filter(organization=org).values_list("name", flat=True)) == [
        "Desk 7"
    ]
    # Another organization's station name is no matter.
    response = admin_client.post(url(org, "manage_station_add"), {"name": "Desk 8"})
    assert response.status_code == 302
    assert Station.objects.filter(name="Desk 8").count() == 2


# A removed member's invitation --------------------------------------------------------------------


def invitation_link(invitation) -> str:
    mail = OutboxMessage.objects.get(dedupe_key=f"invitation:{invitation.pk}")
    return re.search(r"http://testserver(/accounts/invitation/\S+/)", mail.body).group(1)


def test_removing_an_invited_member_withdraws_their_invitation(client, admin_client, org, olga):
    admin_client.post(url(org, "manage_invite"), INVITE)
    invitation = Invitation.objects.get(user__username="nina.new")
    link = invitation_link(invitation)
    assert client.get(link).status_code == 200  # works until the removal

    nina = invitation.user
    question = admin_client.get(url(org, "manage_user_remove", nina.pk))
    assert "The invitation mailed to them stops working: it is withdrawn." in text_of(question)
    assert invitation_link(invitation) == link and client.get(link).status_code == 200  # asked
    admin_client.post(url(org, "manage_user_remove", nina.pk))
    invitation.refresh_from_db()
    assert invitation.withdrawn_at is not None and invitation.withdrawn_by == olga
    assert actors(invitation) == [("insert", "olga.admin"), ("update", "olga.admin")]
    assert invitation_status(invitation).startswith("Withdrawn ")

    page = client.get(link)
    assert page.status_code == 410
    assert "<h1>This invitation was withdrawn</h1>" in text_of(page)
    assert "This invitation was withdrawn on " in text_of(page)
    assert "Forgot your password?" not in text_of(page)  # no password to reset either
    assert "no longer belongs to any organization" in text_of(page)
    chosen = client.post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert chosen.status_code == 410
    nina.refresh_from_db()
    assert not nina.has_usable_password()


def test_an_invited_member_who_keeps_another_organization_keeps_the_invitation(
    client, admin_client, org
):
    admin_client.post(url(org, "manage_invite"), INVITE, follow=True)
    invitation = Invitation.objects.get(user__username="nina.new")
    MembershipFactory(user=invitation.user, organization=OrganizationFactory(name="Other Co"))
    question = admin_client.get(url(org, "manage_user_remove", invitation.user.pk))
    assert "stops working" not in text_of(question)
    response = admin_client.post(url(org, "manage_user_remove", invitation.user.pk), follow=True)
    assert said(response)[0].startswith("nina.new removed from Acme Support")
    invitation.refresh_from_db()
    assert invitation.withdrawn_at is None
    assert client.get(invitation_link(invitation)).status_code == 200
