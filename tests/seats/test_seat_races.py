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
from seats.models import ReleaseReason, SeatAssignment, SeatDenial, SeatLease
from seats.services.assignments import seat_assign
from seats.services.leases import lease_acquire, lease_release, lease_release_idle
from tests.concurrency import race
from tests.history import history

from .seat_helpers import login, member, pool_in_use, setup_server

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
