"""Fair sharing (issue 14): an organization's reserve (seats only it may take) and cap (the most it
may hold) in a pool, enforced at every check-out: browser logins, the seat API and Assignable
assignments; race-free on PostgreSQL."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from licenses.exceptions import LicenseLimitReached
from seats.models import (
    DenialReason,
    PoolShare,
    SeatAssignment,
    SeatDenial,
    SeatLease,
    SeatPool,
)
from seats.services.assignments import seat_assign, seat_assign_bulk, seat_release_bulk
from seats.services.leases import lease_acquire, lease_release_idle
from seats.services.shares import pool_share_set
from tests.concurrency import race
from tests.factories import OrganizationFactory, StationFactory
from tests.history import history

from .seat_helpers import login, member, pool_in_use, setup_server
from .test_seat_races import FAST_HASHER

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(licensed_server, settings):
    """A server with 6 Concurrent and 6 Assignable agent seats and three organizations."""
    settings.PASSWORD_HASHERS = FAST_HASHER
    server, north = setup_server(
        licensed_server, ["agent:concurrent=6", "agent:assignable=6", "supervisor:concurrent=2"]
    )
    south = OrganizationFactory(server=server, name="Southwind")
    east = OrganizationFactory(server=server, name="Eastwind")
    return server, north, south, east


def share(org, *, reserve=0, cap=None, method="concurrent"):
    return pool_share_set(
        organization=org,
        license_type="agent",
        method=method,
        reserve=reserve,
        cap=cap,
        acting_user=None,
    )


def test_reserves_may_not_add_up_to_more_than_the_pool_and_a_reserve_fits_its_cap(three):
    server, north, south, east = three
    share(north, reserve=4)
    with pytest.raises(ValueError) as too_much:
        share(south, reserve=3)
    assert str(too_much.value) == (
        "The reserves of the Agent access (IWP_Agent) Concurrent pool on server CIC-SEATS would "
        "add up to 7, more than its 6 seats (other organizations reserve 4). Lower a reserve or "
        "license more seats."
    )
    with pytest.raises(
        ValueError, match=r"reserve \(3\) of Eastwind cannot be larger than its cap"
    ):
        share(east, reserve=3, cap=2)
    assert SeatPool.objects.get(server=server, license_type="agent", method="concurrent").shared
    share(north)  # no reserve, no cap: the share goes
    assert not SeatPool.objects.get(server=server, license_type="agent", method="concurrent").shared


def test_an_organization_at_its_cap_is_refused_and_the_others_are_not(three):
    server, north, south, _east = three
    share(north, cap=2)
    for name in ("n1", "n2", "n3"):
        member(north, name)
    member(south, "s1")
    assert login(Client(), "n1").status_code == 302
    assert login(Client(), "n2").status_code == 302
    refused = login(Client(), "n3")
    assert refused.status_code == 200
    assert (
        "Northwind is at its cap of 2 Agent access (IWP_Agent) Concurrent seats on server "
        "CIC-SEATS: 2 of 2 in use." in refused.content.decode()
    )
    assert SeatDenial.objects.get().reason == DenialReason.CAP_REACHED
    assert login(Client(), "s1").status_code == 302
    assert pool_in_use(server, "agent", "concurrent") == 3


def test_free_seats_held_in_reserve_for_others_are_refused_saying_so(three):
    server, north, south, _east = three
    share(south, reserve=2)
    for i in range(5):
        member(north, f"n{i}")
    for i in range(3):
        member(south, f"s{i}")
    for i in range(4):
        assert login(Client(), f"n{i}").status_code == 302
    refused = login(Client(), "n4").content.decode()
    assert (
        "No Agent access (IWP_Agent) Concurrent seat is free for Northwind on server CIC-SEATS: "
        "4 of 6 in use, and the 2 free seats are held in reserve for other organizations "
        "(2 reserved and unused)." in refused
    )
    assert SeatDenial.objects.get().reason == DenialReason.RESERVED_ELSEWHERE
    assert login(Client(), "s0").status_code == 302
    assert login(Client(), "s1").status_code == 302
    full = login(Client(), "s2").content.decode()
    assert "6 of 6 in use" in full


def test_a_reserve_in_use_beyond_it_frees_seats_for_the_others(three):
    server, north, south, _east = three
    share(south, reserve=1)
    member(south, "s0")
    member(south, "s1")
    member(north, "n0")
    login(Client(), "s0")
    login(Client(), "s1")  # South uses its reserve and one more
    assert login(Client(), "n0").status_code == 302
    assert pool_in_use(server, "agent", "concurrent") == 3


def test_assignable_bulk_and_station_assignments_respect_caps_and_reserves(three):
    server, north, south, _east = three
    share(north, cap=2, method="assignable")
    share(south, reserve=3, method="assignable")
    users = [member(north, f"a{i}", method="assigned") for i in range(3)]
    with pytest.raises(LicenseLimitReached) as capped:
        seat_assign_bulk(users=users)
    assert "Northwind is at its cap of 2" in capped.value.message
    assert "3 more asked for" in capped.value.message
    assert capped.value.message.endswith("Nothing was assigned.")
    assert not SeatAssignment.objects.exists()
    assert len(seat_assign_bulk(users=users[:2]).assigned) == 2
    desk = StationFactory(organization=north, name="Desk-1")
    with pytest.raises(LicenseLimitReached, match="at its cap of 2"):
        seat_assign(station=desk)
    # 6 seats, South reserves 3 and uses none: one free seat for anyone else.
    other = OrganizationFactory(server=server, name="Westwind")
    west = [member(other, f"w{i}", method="assigned") for i in range(2)]
    with pytest.raises(LicenseLimitReached, match="held in reserve for other organizations"):
        seat_assign_bulk(users=west)
    assert len(seat_assign_bulk(users=west[:1]).assigned) == 1
    south_users = [member(south, f"s{i}", method="assigned") for i in range(3)]
    assert len(seat_assign_bulk(users=south_users).assigned) == 3
    assert pool_in_use(server, "agent", "assignable") == 6


def test_one_bulk_assignment_over_two_organizations_counts_the_first_for_the_second(three):
    server, north, south, _east = three
    share(south, reserve=2, method="assignable")
    users = [member(north, f"n{i}", method="assigned") for i in range(4)]
    users += [member(south, f"s{i}", method="assigned") for i in range(2)]
    result = seat_assign_bulk(users=users)
    assert len(result.assigned) == 6
    assert pool_in_use(server, "agent", "assignable") == 6


class ShareSampler(threading.Thread):
    """From its own connection: the most seats each organization and the pool held at once."""

    def __init__(self, orgs):
        super().__init__(daemon=True)
        self.orgs, self.stop = orgs, threading.Event()
        self.max_by_org, self.max_total, self.samples = Counter(), 0, 0

    def run(self):
        try:
            while not self.stop.is_set():
                held = Counter(
                    dict(
                        SeatLease.objects.active()
                        .values_list("organization_id")
                        .annotate(n=Count("id"))
                        .order_by()
                    )
                )
                for org in self.orgs:
                    self.max_by_org[org] = max(self.max_by_org[org], held[org])
                self.max_total = max(self.max_total, sum(held.values()))
                self.samples += 1
        finally:
            connection.close()


@pytest.mark.django_db(transaction=True)
def test_three_organizations_racing_never_break_a_cap_a_reserve_or_the_pool(
    licensed_server, settings
):
    settings.PASSWORD_HASHERS = FAST_HASHER
    server, north = setup_server(licensed_server, ["agent:concurrent=10"])
    south = OrganizationFactory(server=server, name="Southwind")
    east = OrganizationFactory(server=server, name="Eastwind")
    share(north, cap=4)
    share(south, reserve=3, cap=5)
    share(east, reserve=2)
    racers = [(north, f"n{i}") for i in range(8)]
    racers += [(south, f"s{i}") for i in range(8)]
    racers += [(east, f"e{i}") for i in range(8)]
    for org, name in racers:
        member(org, name)
    sampler = ShareSampler([north.pk, south.pk, east.pk])
    sampler.start()
    results = race(len(racers), lambda i: login(Client(), racers[i][1]))
    sampler.stop.set()
    sampler.join()
    won = Counter(racers[i][0].name for i, r in enumerate(results) if r.status_code == 302)
    # However the race went: no cap broken, nobody took another's reserved seat, the pool full.
    assert won["Northwind"] <= 4 and won["Southwind"] <= 5
    assert won["Southwind"] >= 3 and won["Eastwind"] >= 2  # their reserves were kept for them
    assert sum(won.values()) == 10 == pool_in_use(server, "agent", "concurrent")
    assert sampler.samples > 0
    assert sampler.max_by_org[north.pk] <= 4 and sampler.max_by_org[south.pk] <= 5
    assert sampler.max_total <= 10
    reasons = Counter(SeatDenial.objects.values_list("reason", flat=True))
    assert sum(reasons.values()) == len(racers) - 10
    # The pool row's split per organization, which the takes decided on, is the seats held.
    assert organization_counts(server, "concurrent") == {
        str(org.pk): won[org.name] for org in (north, south, east) if won[org.name]
    }


def organization_counts(server, method):
    pool = SeatPool.objects.get(server=server, license_type="agent", method=method)
    return {org: n for org, n in pool.organization_in_use.items() if n}


def test_the_pool_counts_each_organization_s_seats_through_every_take_and_release(three):
    """The split per organization that caps and reserves are decided on follows logins, logouts,
    a newer login of the same user, a move to another organization, idle sessions, and
    Assignable assignments given and released."""
    server, north, south, _east = three
    share(north, cap=3)
    n0, n1 = member(north, "n0"), member(north, "n1")
    member(south, "s0")
    first = Client()
    login(first, "n0")
    login(Client(), "n1")
    login(Client(), "s0")
    assert organization_counts(server, "concurrent") == {str(north.pk): 2, str(south.pk): 1}
    login(Client(), "n0")  # a newer login of n0: the seat passes on, still Northwind's
    assert organization_counts(server, "concurrent") == {str(north.pk): 2, str(south.pk): 1}
    # n1 moves to Southwind while logged in: the next login counts the seat for Southwind.
    n1.memberships.update(organization=south)
    login(Client(), "n1")
    assert organization_counts(server, "concurrent") == {str(north.pk): 1, str(south.pk): 2}
    assert pool_in_use(server, "agent", "concurrent") == 3
    lease_release_idle(now=timezone.now() + timedelta(days=1))
    assert organization_counts(server, "concurrent") == {}
    assert pool_in_use(server, "agent", "concurrent") == 0

    users = [member(north, f"a{i}", method="assigned") for i in range(2)]
    users += [member(south, "b0", method="assigned")]
    seat_assign_bulk(users=users)
    assert organization_counts(server, "assignable") == {str(north.pk): 2, str(south.pk): 1}
    seat_release_bulk(users=users[:1])
    assert organization_counts(server, "assignable") == {str(north.pk): 1, str(south.pk): 1}
    assert n0.seat_leases.active().count() == 0


def test_the_admin_sets_shares_through_the_service_and_lists_them_with_use(three, admin_client):
    server, north, south, _east = three
    response = admin_client.post(
        "/admin/seats/poolshare/add/",
        {
            "organization": north.pk,
            "license_type": "agent",
            "method": "concurrent",
            "reserve": 4,
            "cap": "",
        },
    )
    assert response.status_code == 302
    refused = admin_client.post(
        "/admin/seats/poolshare/add/",
        {
            "organization": south.pk,
            "license_type": "agent",
            "method": "concurrent",
            "reserve": 3,
            "cap": 5,
        },
    )
    assert refused.status_code == 200
    assert "would add up to 7, more than its 6 seats" in refused.content.decode()
    assert SeatPool.objects.get(server=server, license_type="agent", method="concurrent").shared
    member(north, "n0")
    login(Client(), "n0")
    listing = admin_client.get(
        f"/admin/seats/poolshare/?organization__server__id__exact={server.pk}"
    )
    body = listing.content.decode()
    assert "Northwind" in body and "Southwind" not in body
    assert '<td class="field-held">1</td>' in body


def test_the_portal_and_the_wallboard_show_the_organization_s_reserve_and_cap(three, client):
    from portal.selectors import wallboard_figures

    server, north, _south, _east = three
    share(north, reserve=2, cap=4)
    sam = member(north, "sam", role="supervisor")
    login(client, "sam")
    page = client.get(f"/portal/org/{north.pk}/").content.decode()
    row = page[page.index('data-license="agent-concurrent"') :]
    assert "reserve 2 · cap 4" in row[: row.index("</tr>")]
    figures = {f["key"]: f for f in wallboard_figures(organization=north)}
    assert figures["agent-concurrent"]["share"] == "reserve 2 · cap 4"
    assert figures["agent-assignable"]["share"] == ""
    assert sam.seat_leases.exists()


def test_a_smaller_license_that_breaks_a_reserve_is_shown_in_the_preview_and_on_the_admin_home(
    three, admin_client, vendor_key
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories import license_text

    server, north, south, _east = three
    share(north, reserve=3)
    share(south, reserve=2)
    smaller = license_text(
        vendor_key,
        server_id=server.server_id,
        entitlements=["server", "organization=5", "agent:concurrent=4", "agent:assignable=6"],
    )
    preview = admin_client.post(
        "/admin/licenses/licensefile/install/",
        {"file": SimpleUploadedFile("smaller.lic", smaller.encode()), "server": ""},
    )
    body = preview.content.decode()
    assert (
        "reserves in the Agent access (IWP_Agent) Concurrent pool add up to 5, more than the 4 "
        "seats of the new file" in body
    )
    assert "5 reserved: more than it allows" in body
    assert "reserves-over-capacity" not in admin_client.get("/admin/").content.decode()
    confirm = preview.context["confirm"]
    admin_client.post(
        "/admin/licenses/licensefile/install/", {**confirm.initial, "_install": "Install"}
    )
    home = admin_client.get("/admin/").content.decode()
    assert (
        "On server CIC-SEATS, the organizations' reserves of Agent access (IWP_Agent) Concurrent "
        "add up to 5, more than its 4 seats." in home
    )


def test_each_refusal_of_a_shared_pool_says_which_rule_with_its_own_figures(three):
    """Cap, reserve, pool: each refusal names its rule, in words and in the fields the admin, the
    seat API and the denial records read."""
    server, north, south, east = three
    share(north, cap=2)
    share(south, reserve=2)

    def refused(user):
        with pytest.raises(LicenseLimitReached) as caught:
            lease_acquire(user=user)
        r = caught.value
        assert (r.server_id, r.license_type, r.method) == ("CIC-SEATS", "agent", "concurrent")
        return r

    for name in ("n0", "n1"):
        lease_acquire(user=member(north, name))
    capped = refused(member(north, "n2"))
    assert (capped.code, capped.in_use, capped.capacity) == ("cap_reached", 2, 2)
    assert capped.message == (
        "Northwind is at its cap of 2 Agent access (IWP_Agent) Concurrent seats on server "
        "CIC-SEATS: 2 of 2 in use. Try again when one of its seats is given back, or ask an "
        "administrator to raise the cap."
    )
    for name in ("e0", "e1"):
        lease_acquire(user=member(east, name))
    reserved = refused(member(east, "e2"))
    assert (reserved.code, reserved.in_use, reserved.capacity) == ("reserved_elsewhere", 4, 6)
    assert reserved.message == (
        "No Agent access (IWP_Agent) Concurrent seat is free for Eastwind on server CIC-SEATS: "
        "4 of 6 in use, and the 2 free seats are held in reserve for other organizations "
        "(2 reserved and unused)."
    )
    for name in ("s0", "s1"):
        lease_acquire(user=member(south, name))
    full = refused(member(south, "s2"))
    assert (full.code, full.in_use, full.capacity) == ("pool_full", 6, 6)
    assert full.message == (
        "No Agent access (IWP_Agent) Concurrent seat is free on server CIC-SEATS: 6 of 6 in use. "
        "Try again when someone logs out."
    )
    assert list(SeatDenial.objects.order_by("id").values_list("reason", flat=True)) == [
        "cap_reached",
        "reserved_elsewhere",
        "pool_full",
    ]

    share(north, cap=1, method="assignable")
    with pytest.raises(LicenseLimitReached) as two:
        seat_assign_bulk(users=[member(north, f"a{i}", method="assigned") for i in range(2)])
    assert two.value.message == (
        "Northwind is at its cap of 1 Agent access (IWP_Agent) Assignable seats on server "
        "CIC-SEATS: 0 of 1 in use, 2 more asked for. Try again when one of its seats is given "
        "back, or ask an administrator to raise the cap. Nothing was assigned."
    )


def test_the_last_free_seat_held_in_reserve_is_refused_in_the_singular_with_its_figures(three):
    """Five of six seats in use and South's reserve has one unused: a seat for Eastwind would
    fit the pool but not around the reserve, and the refusal says "the 1 free seat is"."""
    server, north, south, east = three
    share(south, reserve=2)
    for i in range(4):
        lease_acquire(user=member(north, f"n{i}"))
    lease_acquire(user=member(south, "s0"))
    with pytest.raises(LicenseLimitReached) as refused:
        lease_acquire(user=member(east, "e0"))
    r = refused.value
    assert r.message == (
        "No Agent access (IWP_Agent) Concurrent seat is free for Eastwind on server CIC-SEATS: "
        "5 of 6 in use, and the 1 free seat is held in reserve for other organizations "
        "(1 reserved and unused)."
    )
    assert (r.code, r.in_use, r.capacity) == ("reserved_elsewhere", 5, 6)


def test_a_full_shared_assignable_pool_refuses_without_the_login_advice(three):
    """An Assignable refusal is not about someone logging out: no "Try again when someone logs
    out." for an assignment, in a shared pool as in any other."""
    server, north, south, _east = three
    share(south, reserve=1, method="assignable")
    with pytest.raises(LicenseLimitReached) as refused:
        seat_assign_bulk(users=[member(north, f"a{i}", method="assigned") for i in range(7)])
    assert refused.value.message == (
        "Not enough Agent access (IWP_Agent) Assignable seats on server CIC-SEATS: 7 needed, "
        "6 free (0 of 6 in use), 1 seat missing. Nothing was assigned."
    )
    assert (refused.value.code, refused.value.in_use, refused.value.capacity) == (
        "pool_full",
        0,
        6,
    )


def test_a_bulk_assignment_counts_its_seats_for_a_reserved_organization_toward_that_reserve(
    three,
):
    """Northwind reserves 2 Assignable seats and the same bulk assignment gives it 2: its reserve
    is used, so Southwind, later in the bulk, may take the other 4."""
    server, north, south, _east = three
    share(north, reserve=2, method="assignable")
    users = [member(north, f"n{i}", method="assigned") for i in range(2)]
    users += [member(south, f"s{i}", method="assigned") for i in range(4)]
    assert len(seat_assign_bulk(users=users).assigned) == 6
    assert organization_counts(server, "assignable") == {str(north.pk): 2, str(south.pk): 4}


def test_a_bulk_assignment_refuses_an_organization_the_seats_given_earlier_in_it_leave_no_room(
    three,
):
    """4 seats for Northwind, then 3 for Southwind in one bulk on 6 seats: Southwind's refusal
    counts Northwind's 4 as in use, and nothing is assigned."""
    server, north, south, _east = three
    share(south, reserve=1, method="assignable")
    users = [member(north, f"n{i}", method="assigned") for i in range(4)]
    users += [member(south, f"s{i}", method="assigned") for i in range(3)]
    with pytest.raises(LicenseLimitReached) as refused:
        seat_assign_bulk(users=users)
    assert refused.value.message == (
        "Not enough Agent access (IWP_Agent) Assignable seats on server CIC-SEATS: 3 needed, "
        "2 free (4 of 6 in use), 1 seat missing. Nothing was assigned."
    )
    assert not SeatAssignment.objects.exists()


def test_a_reserve_and_a_cap_are_whole_numbers_a_cap_of_zero_bars_and_a_reserve_may_equal_the_cap(
    three,
):
    server, north, south, _east = three
    for bad in ({"reserve": -1}, {"cap": -1}):
        with pytest.raises(ValueError) as refused:
            share(north, **bad)
        assert str(refused.value) == "A reserve and a cap are whole numbers of seats, 0 or more."
    assert not PoolShare.objects.exists()
    assert (share(north, reserve=2, cap=2).reserve, share(north, reserve=2, cap=2).cap) == (2, 2)
    share(south, cap=0)  # Southwind may take no seat of the pool
    with pytest.raises(LicenseLimitReached) as barred:
        lease_acquire(user=member(south, "s0"))
    assert barred.value.message.startswith(
        "Southwind is at its cap of 0 Agent access (IWP_Agent) Concurrent seats on server "
        "CIC-SEATS: 0 of 0 in use."
    )


def test_reserves_are_added_up_per_pool_of_the_server_among_active_organizations_only(
    three, licensed_server
):
    """Only the reserves of the same pool count against it: not another server's, an inactive
    organization's, another license's or another method's; an organization changing its own
    reserve replaces it; the reserves may add up to exactly the pool's seats."""
    server, north, south, east = three
    other, elsewhere = setup_server(
        licensed_server, ["agent:concurrent=3", "agent:assignable=1"], server_id="CIC-OTHER"
    )
    share(elsewhere, reserve=3)  # the other server's whole Concurrent pool (not its 1 Assignable)
    closed = OrganizationFactory(server=server, name="Closed", is_active=False)
    PoolShare.objects.create(
        organization=closed, license_type="agent", method="concurrent", reserve=5
    )
    share(north, reserve=5, method="assignable")
    pool_share_set(
        organization=north,
        license_type="supervisor",
        method="concurrent",
        reserve=2,
        acting_user=None,
    )
    with pytest.raises(ValueError) as supervisors:
        pool_share_set(
            organization=south,
            license_type="supervisor",
            method="concurrent",
            reserve=1,
            acting_user=None,
        )
    assert "would add up to 3, more than its 2 seats (other organizations reserve 2)" in str(
        supervisors.value
    )
    share(east, reserve=4)
    share(east, reserve=5)  # raised: its own 4 are replaced, not added
    share(south, reserve=1)  # 5 + 1: exactly the pool's 6 seats
    with pytest.raises(ValueError, match=r"would add up to 7, more than its 6 seats"):
        share(north, reserve=1)
    with pytest.raises(ValueError) as unlicensed:
        pool_share_set(
            organization=north,
            license_type="supervisor",
            method="assignable",
            reserve=1,
            acting_user=None,
        )
    assert str(unlicensed.value) == (
        "The reserves of the Supervisor access (IWP_Supervisor) Assignable pool on server "
        "CIC-SEATS would add up to 1, more than its 0 seats (other organizations reserve 0). "
        "Lower a reserve or license more seats."
    )


def pools_shared(*servers):
    return {
        (p.server.server_id, p.license_type, p.method)
        for p in SeatPool.objects.filter(server__in=servers, shared=True).select_related("server")
    }


def test_removing_a_share_removes_only_that_one_and_the_pool_is_shared_while_any_remains(
    three, licensed_server, admin_user
):
    """Only the pools with a share are marked shared (the take statement checks caps and reserves
    only there); removing one organization's share of one pool leaves the others' shares, its
    shares of other pools and other servers' pools as they were."""
    server, north, south, _east = three
    other, elsewhere = setup_server(licensed_server, ["agent:concurrent=3"], server_id="CIC-OTHER")
    share(north, cap=2)
    assert pools_shared(server, other) == {("CIC-SEATS", "agent", "concurrent")}
    share(south, cap=3)
    share(north, cap=2, method="assignable")
    pool_share_set(
        organization=north,
        license_type="supervisor",
        method="concurrent",
        cap=1,
        acting_user=admin_user,
    )
    share(elsewhere, cap=1)
    assert share(north) is None  # Northwind's Agent Concurrent share goes, and only it
    assert sorted(
        PoolShare.objects.values_list(
            "organization__server__server_id", "organization__name", "license_type", "method"
        )
    ) == [
        ("CIC-OTHER", "Northwind", "agent", "concurrent"),
        ("CIC-SEATS", "Northwind", "agent", "assignable"),
        ("CIC-SEATS", "Northwind", "supervisor", "concurrent"),
        ("CIC-SEATS", "Southwind", "agent", "concurrent"),
    ]
    share(south)  # the last share of the pool goes: the pool is no longer shared
    assert pools_shared(server, other) == {
        ("CIC-OTHER", "agent", "concurrent"),
        ("CIC-SEATS", "agent", "assignable"),
        ("CIC-SEATS", "supervisor", "concurrent"),
    }


def test_a_share_set_names_the_administrator_and_one_deleted_in_the_admin_is_gone(
    three, admin_client, admin_user
):
    server, north, _south, _east = three
    capped = pool_share_set(
        organization=north, license_type="agent", method="concurrent", cap=2, acting_user=admin_user
    )
    assert [(e.label, e.actor) for e in history(capped)] == [("insert", admin_user.username)]
    response = admin_client.post(f"/admin/seats/poolshare/{capped.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not PoolShare.objects.exists()
    assert pools_shared(server) == set()


def test_a_full_shared_pool_gives_a_login_the_seat_of_an_idle_session(three):
    server, north, south, _east = three
    share(north, cap=3)
    for i in range(3):
        lease_acquire(user=member(north, f"n{i}"), session_key=f"n{i}")
        lease_acquire(user=member(south, f"s{i}"), session_key=f"s{i}")
    SeatLease.objects.filter(session_key="s0").update(
        last_seen_at=timezone.now() - timedelta(minutes=45)
    )
    [taken] = lease_acquire(user=member(south, "s3"), session_key="s3")
    assert SeatLease.objects.get(session_key="s0").release_reason == "idle"
    assert SeatLease.objects.active().filter(organization=south).count() == 3
    assert pool_in_use(server, "agent", "concurrent") == 6
    assert not SeatDenial.objects.exists()


def test_a_refusal_too_long_for_the_denial_record_is_kept_cut_at_300_characters(three):
    server, north, _south, _east = three
    north.name = "Northwind " + "Trading Company of the Seven Seas " * 5
    north.save()
    share(north, cap=0)
    with pytest.raises(LicenseLimitReached) as refused:
        lease_acquire(user=member(north, "n0"))
    assert len(refused.value.message) > 300
    assert SeatDenial.objects.get().message == refused.value.message[:300]
