"""Racing for the last seats on real PostgreSQL: separate connections, real
threads, PostgreSQL decides.

A sampler on its own connection counts the active seats while the racers run: the count never
exceeds the license, and exactly K racers win.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from licenses.exceptions import LicenseLimitReached
from seats.models import ReleaseReason, SeatAssignment, SeatDenial, SeatLease, StationOccupancy
from seats.services.assignments import seat_assign
from seats.services.leases import lease_acquire, lease_release, lease_release_idle
from seats.services.stations import StationInUse, station_occupy
from tests.concurrency import Outcome, after_racer, race, waiting_on_a_lock
from tests.factories import StationFactory
from tests.history import history

from .seat_helpers import (
    login,
    member,
    peak_written_by_another_process,
    pool_in_use,
    setup_server,
)

pytestmark = pytest.mark.django_db(transaction=True)

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Sampler(threading.Thread):
    """Counts active rows of ``model`` from its own connection until stopped; keeps the maximum."""

    def __init__(self, model):
        super().__init__(daemon=True)
        self.model, self.max_seen, self.samples = model, 0, 0
        self.stop = threading.Event()

    def run(self):
        try:
            while not self.stop.is_set():
                self.max_seen = max(self.max_seen, self.model.objects.active().count())
                self.samples += 1
        finally:
            connection.close()


@pytest.mark.parametrize("seats, racers", [(5, 20), (3, 16)])
def test_concurrent_logins_for_the_last_seats_exactly_k_win_and_the_count_never_exceeds_k(
    licensed_server, settings, seats, racers
):
    settings.PASSWORD_HASHERS = FAST_HASHER
    server, organization = setup_server(licensed_server, [f"agent:concurrent={seats}"])
    for i in range(racers):
        member(organization, f"agent{i}")
    sampler = Sampler(SeatLease)
    sampler.start()
    responses = race(racers, lambda i: login(Client(), f"agent{i}"))
    sampler.stop.set()
    sampler.join()
    codes = [r.status_code for r in responses]
    assert codes.count(302) == seats and codes.count(200) == racers - seats
    refused = [r.content.decode() for r in responses if r.status_code == 200]
    assert all(
        f"seat is free on server CIC-SEATS: {seats} of {seats} in use" in text for text in refused
    ), [t[t.find("No Agent") : t.find("No Agent") + 120] for t in refused]
    assert SeatDenial.objects.count() == racers - seats
    assert SeatLease.objects.active().count() == seats == pool_in_use(server, "agent", "concurrent")
    assert sampler.samples > 0 and sampler.max_seen <= seats


def test_racing_assignments_of_the_last_assignable_seats_exactly_k_win(licensed_server):
    seats, racers = 3, 12
    server, organization = setup_server(licensed_server, [f"agent:assignable={seats}"])
    users = [member(organization, f"agent{i}", method="assigned") for i in range(racers)]
    sampler = Sampler(SeatAssignment)
    sampler.start()
    results = race(racers, lambda i: seat_assign(user=users[i]))
    sampler.stop.set()
    sampler.join()
    refusals = [r for r in results if isinstance(r, LicenseLimitReached)]
    assert len(refusals) == racers - seats
    assert all("3 of 3 in use" in str(r) for r in refusals)
    assert (
        SeatAssignment.objects.active().count()
        == seats
        == pool_in_use(server, "agent", "assignable")
    )
    assert sampler.max_seen <= seats


def test_one_user_logging_in_twice_at_once_holds_one_seat(licensed_server, settings):
    settings.PASSWORD_HASHERS = FAST_HASHER
    server, organization = setup_server(licensed_server, ["agent:concurrent=3"])
    member(organization, "bob")
    responses = race(4, lambda i: login(Client(), "bob"))
    assert [r.status_code for r in responses].count(302) == 4, [
        (r.status_code, r.content[:300]) for r in responses
    ]
    assert SeatLease.objects.active().count() == 1 == pool_in_use(server, "agent", "concurrent")
    assert SeatLease.objects.filter(release_reason=ReleaseReason.SUPERSEDED).count() == 3


def test_logins_and_logouts_churning_on_few_seats_never_exceed_them_and_every_seat_comes_back(
    licensed_server,
):
    """Many users logging in and out at once for a while: the login and logout
    paths the views use."""
    seats, workers, rounds = 3, 12, 15
    server, organization = setup_server(licensed_server, [f"agent:concurrent={seats}"])
    users = [member(organization, f"agent{i}") for i in range(workers)]
    sampler = Sampler(SeatLease)
    sampler.start()

    def churn(i):
        taken = refused = 0
        for n in range(rounds):
            key = f"s{i}-{n}"
            try:
                lease_acquire(user=users[i], session_key=key)
            except LicenseLimitReached:
                refused += 1
                continue
            taken += 1
            assert (
                len(lease_release(session_key=key, acting_user=users[i], end_sessions=False)) == 1
            )
        return taken, refused

    results = race(workers, churn)
    sampler.stop.set()
    sampler.join()
    assert not [r for r in results if isinstance(r, BaseException)], results
    taken = sum(r[0] for r in results)
    refused = sum(r[1] for r in results)
    assert taken + refused == workers * rounds and taken >= seats
    assert sampler.samples > 0 and sampler.max_seen <= seats
    assert pool_in_use(server, "agent", "concurrent") == 0 == SeatLease.objects.active().count()
    assert (
        SeatLease.objects.filter(user__in=users, release_reason=ReleaseReason.LOGOUT).count()
        == taken
    )
    assert SeatDenial.objects.filter(user__in=users).count() == refused
    # Every take and every release is in the audit trail, with the user who did it.
    names = {u.username for u in users}
    entries = [e for lease in SeatLease.objects.filter(user__in=users) for e in history(lease)]
    assert len([e for e in entries if e.label == "insert" and e.actor in names]) == taken
    assert len([e for e in entries if e.label == "update" and e.actor in names]) == taken


def test_logout_admin_release_and_idle_sweep_racing_free_the_seat_exactly_once(
    licensed_server, admin_user, settings
):
    settings.PASSWORD_HASHERS = FAST_HASHER
    server, organization = setup_server(licensed_server, ["agent:concurrent=3"])
    member(organization, "bob")
    client = Client()
    login(client, "bob")
    lease = SeatLease.objects.active().get()
    SeatLease.objects.filter(pk=lease.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    paths = [
        lambda: len(lease_release(session_key=lease.session_key, acting_user=lease.user)),
        lambda: len(
            lease_release(leases=[lease], reason=ReleaseReason.ADMIN, acting_user=admin_user)
        ),
        lambda: len(lease_release_idle()),
    ]
    results = race(3, lambda i: paths[i]())
    assert sorted(results) == [0, 0, 1]
    assert pool_in_use(server, "agent", "concurrent") == 0
    assert SeatLease.objects.active().count() == 0
    time.sleep(0)


@pytest.mark.django_db(transaction=True)
def test_a_login_whose_connection_dies_after_the_take_gives_its_seat_back(
    licensed_server, settings, monkeypatch
):
    """The database connection is killed between the seat's take and the session's creation: the
    login fails, and the seat, which never got its session, goes back within a minute."""
    import psycopg
    from django.contrib.auth import views as auth_views

    settings.PASSWORD_HASHERS = FAST_HASHER
    server, organization = setup_server(licensed_server, ["agent:concurrent=1"])
    member(organization, "bob")
    real_login = auth_views.auth_login

    def login_on_a_dead_connection(request, user, *args, **kwargs):
        db = connection.settings_dict
        pid = connection.connection.info.backend_pid
        with psycopg.connect(
            dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432
        ) as killer:
            killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        return real_login(request, user, *args, **kwargs)

    monkeypatch.setattr(auth_views, "auth_login", login_on_a_dead_connection)
    with pytest.raises(Exception):  # noqa: B017  the request fails: its database is gone
        login(Client(), "bob")
    connection.close()
    assert pool_in_use(server, "agent", "concurrent") == 1  # taken, never given its session

    lease_release_idle()  # the every-minute sweep, within the minute: the login may yet finish
    assert pool_in_use(server, "agent", "concurrent") == 1
    released = lease_release_idle(now=timezone.now() + timedelta(minutes=1, seconds=1))
    assert [(s.user_id, s.release_reason) for s in released] == [
        (SeatLease.objects.get().user_id, ReleaseReason.LOGIN_FAILED)
    ]
    assert pool_in_use(server, "agent", "concurrent") == 0
    monkeypatch.undo()
    assert login(Client(), "bob").status_code == 302  # the seat is free again


def test_a_login_refused_after_waiting_for_a_racer_names_the_count_the_racer_left(
    licensed_server,
):
    """The take statement waits for a racer's take of the last seat and then finds the pool full;
    the count it read beside it predates the racer. The refusal says 2 of 2, not 1 of 2."""
    server, organization = setup_server(licensed_server, ["agent:concurrent=2"])
    lease_acquire(user=member(organization, "a1"), session_key="a1")
    racer, late = member(organization, "a2"), member(organization, "a3")
    refusal = after_racer(
        lambda: lease_acquire(user=racer, session_key="a2"),
        lambda: lease_acquire(user=late, session_key="a3"),
    )
    assert isinstance(refusal, LicenseLimitReached), refusal
    assert refusal.message == (
        "No Agent access (IWP_Agent) Concurrent seat is free on server CIC-SEATS: 2 of 2 in use. "
        "Try again when someone logs out."
    )
    assert (refusal.in_use, refusal.capacity) == (2, 2)
    assert SeatDenial.objects.get().message == refusal.message
    assert pool_in_use(server, "agent", "concurrent") == 2


def test_an_assignment_refused_after_waiting_for_a_racer_names_the_count_the_racer_left(
    licensed_server,
):
    """The same for Assignable seats: the assignment waits for a racer's assignment of the last
    seat, finds the pool full, and says 2 of 2 (the count the racer committed), not 1 of 2."""
    server, organization = setup_server(licensed_server, ["agent:assignable=2"])
    seat_assign(user=member(organization, "a1", method="assigned"))
    racer = member(organization, "a2", method="assigned")
    late = member(organization, "a3", method="assigned")
    refusal = after_racer(lambda: seat_assign(user=racer), lambda: seat_assign(user=late))
    assert isinstance(refusal, LicenseLimitReached), refusal
    assert "2 of 2 in use" in str(refusal), str(refusal)
    assert (refusal.in_use, refusal.capacity) == (2, 2)
    assert set(SeatAssignment.objects.active().values_list("user__username", flat=True)) == {
        "a1",
        "a2",
    }
    assert pool_in_use(server, "agent", "assignable") == 2


def test_two_logins_at_one_free_station_at_once_the_second_is_told_who_took_it(licensed_server):
    """Both find Desk free; the first's occupancy is not committed when the second inserts its
    own, so the second waits on the unique constraint and then fails it. It is refused naming
    alice, who took the station that moment, and alice keeps it."""
    from seats.services.stations import station_leave

    _, organization = setup_server(licensed_server, ["agent:assignable=3"])
    desk = StationFactory(organization=organization, name="Desk")
    alice = member(organization, "alice", method="assigned")
    dave = member(organization, "dave", method="assigned")
    # Before: carol was at Desk and left; bob is at Other. Neither is who took Desk.
    station_occupy(
        station=desk, user=member(organization, "carol", method="assigned"), session_key="c"
    )
    station_leave(session_key="c", reason=ReleaseReason.LOGOUT)
    other = StationFactory(organization=organization, name="Other")
    station_occupy(
        station=other, user=member(organization, "bob", method="assigned"), session_key="b"
    )
    alices_login = timezone.now() - timedelta(minutes=1)  # before bob's and carol's: read last
    refusal = after_racer(
        lambda: station_occupy(station=desk, user=alice, session_key="a", now=alices_login),
        lambda: station_occupy(station=desk, user=dave, session_key="d"),
    )
    assert isinstance(refusal, StationInUse), refusal
    assert refusal.message.startswith(
        "Station Desk is in use: alice has been logged in there since "
    ), refusal.message
    assert refusal.server_id == "CIC-SEATS"
    assert list(
        StationOccupancy.objects.filter(station=desk, ended_at__isnull=True).values_list(
            "user__username", "session_key"
        )
    ) == [("alice", "a")]


@pytest.mark.parametrize("first, second", [(3, 1), (1, 3)])
def test_two_processes_writing_the_days_first_peak_at_once_keep_the_higher(
    licensed_server, first, second
):
    """Neither finds the day's row, both insert it: the second waits on the first's, fails the
    unique constraint, and raises the row the first committed to its own count if higher."""
    from seats.models import DailySeatUsage

    server, organization = setup_server(licensed_server, ["agent:concurrent=5"])
    day = timezone.localdate()

    def peak(n):
        def write():
            peak_written_by_another_process(organization, n, day)

        return write

    assert after_racer(peak(first), peak(second)) is None
    assert dict(DailySeatUsage.objects.filter(day=day).values_list("organization_id", "peak")) == {
        None: 3,
        organization.pk: 3,
    }


def test_an_organizations_cap_holds_when_two_administrators_assign_its_last_seat_at_once(
    licensed_server,
):
    """Northwind may hold 1 of the shared pool's 5 seats. The second assignment waits for the
    first's lock on the pool before it checks the cap, so it sees the first's seat: refused."""
    from seats.services.shares import pool_share_set

    server, north = setup_server(licensed_server, ["agent:assignable=5"])
    pool_share_set(
        organization=north,
        license_type="agent",
        method="assignable",
        reserve=0,
        cap=1,
        acting_user=None,
    )
    first = member(north, "a1", method="assigned")
    second = member(north, "a2", method="assigned")
    refusal = after_racer(lambda: seat_assign(user=first), lambda: seat_assign(user=second))
    assert isinstance(refusal, LicenseLimitReached), refusal
    assert refusal.code == "cap_reached"
    assert refusal.message.startswith(
        "Northwind is at its cap of 1 Agent access (IWP_Agent) Assignable seats on server "
        "CIC-SEATS: 1 of 1 in use"
    ), refusal.message
    assert list(SeatAssignment.objects.active().values_list("user__username", flat=True)) == ["a1"]
    assert pool_in_use(server, "agent", "assignable") == 1


@pytest.mark.parametrize("by_api", [False, True], ids=["login", "seat API"])
def test_a_station_taken_between_the_check_and_the_take_gives_the_seat_back(
    licensed_server, by_api
):
    """carl's check finds Desk free; alice's login holds it uncommitted when carl takes his seat
    and then the station: he waits for her, is refused naming her, and gives his seat back."""
    from seats.services.login import client_seats_take, login_seats_take

    server, organization = setup_server(licensed_server, ["agent:concurrent=2"])
    desk = StationFactory(organization=organization, name="Desk")
    alice, carl = member(organization, "alice"), member(organization, "carl")

    def carl_logs_in():
        if by_api:
            return client_seats_take(user=carl, server_id=server.pk, client_id="pc", station=desk)
        return login_seats_take(user=carl, station=desk)

    refusal = after_racer(lambda: station_occupy(station=desk, user=alice), carl_logs_in)
    assert isinstance(refusal, StationInUse), refusal
    assert refusal.message.startswith("Station Desk is in use: alice has been logged in there")
    assert not SeatLease.objects.active().filter(user=carl).exists()
    assert SeatLease.objects.get(user=carl).released_by == carl  # given back by his own login
    assert pool_in_use(server, "agent", "concurrent") == 0


def test_a_login_that_finds_the_users_other_login_took_the_seat_that_moment_takes_it_over(
    licensed_server,
):
    """Bob's second login waits for his first login's take, then its own take collides with the
    seat the first just committed: it takes the seat over as any newer login does."""
    server, organization = setup_server(licensed_server, ["agent:concurrent=3"])
    bob = member(organization, "bob")
    second = after_racer(
        lambda: lease_acquire(user=bob, session_key="first"),
        lambda: lease_acquire(user=bob, session_key="second"),
    )
    assert [lease.session_key for lease in second] == ["second"], second
    assert SeatLease.objects.active().get(user=bob).session_key == "second"
    assert SeatLease.objects.get(session_key="first").release_reason == ReleaseReason.SUPERSEDED
    assert pool_in_use(server, "agent", "concurrent") == 1


def test_two_logins_of_a_user_on_two_servers_take_turns_and_the_second_takes_the_seats_over(
    licensed_server, monkeypatch
):
    """A login on several servers locks the user's row: a second login of the same user waits for
    the first to commit its seats, then takes them over (without the lock it would try to take
    seats the user already holds, and fail)."""
    from seats.services.leases import acquire

    one, north = setup_server(licensed_server, ["agent:concurrent=2"], server_id="CIC-ONE")
    two, south = setup_server(licensed_server, ["agent:concurrent=2"], server_id="CIC-TWO")
    bob = member(north, "bob")
    bob.memberships.create(organization=south, role="agent")
    first_took, go_on = threading.Event(), threading.Event()
    seat_on_server = acquire._seat_on_server

    def first_pauses_before_commit(**kwargs):
        taken = seat_on_server(**kwargs)
        if kwargs["holder"].session_key == "first" and kwargs["requirement"].server_id == two.pk:
            first_took.set()
            go_on.wait(20)
        return taken

    monkeypatch.setattr(acquire, "_seat_on_server", first_pauses_before_commit)
    first = Outcome(lambda: lease_acquire(user=bob, session_key="first"))
    first.start()
    assert first_took.wait(20)
    second = Outcome(lambda: lease_acquire(user=bob, session_key="second"))
    second.start()
    waiting_on_a_lock(second)
    go_on.set()
    first.join(20)
    second.join(20)
    assert [lease.session_key for lease in first.result] == ["first", "first"], first.result
    assert [lease.session_key for lease in second.result] == ["second", "second"], second.result
    assert set(
        SeatLease.objects.filter(session_key="first").values_list("release_reason", flat=True)
    ) == {ReleaseReason.SUPERSEDED}
    assert pool_in_use(one, "agent", "concurrent") == 1 == pool_in_use(two, "agent", "concurrent")


def test_two_administrators_setting_reserves_at_once_cannot_together_over_reserve_a_pool(
    licensed_server,
):
    """Northwind's reserve of 4 is being saved when Southwind's of 3 is set on the same 6 seats:
    the second waits for the first (the pool row's lock) and is refused, not saved beside it."""
    from seats.models import PoolShare
    from seats.services.shares import pool_share_set
    from tests.factories import OrganizationFactory

    server, north = setup_server(licensed_server, ["agent:concurrent=6"])
    south = OrganizationFactory(server=server, name="Southwind")

    def reserve(org, seats):
        return lambda: pool_share_set(
            organization=org,
            license_type="agent",
            method="concurrent",
            reserve=seats,
            acting_user=None,
        )

    refused = after_racer(reserve(north, 4), reserve(south, 3))
    assert isinstance(refused, ValueError), refused
    assert "would add up to 7, more than its 6 seats (other organizations reserve 4)" in str(
        refused
    )
    assert list(PoolShare.objects.values_list("organization__name", "reserve")) == [
        ("Northwind", 4)
    ]
