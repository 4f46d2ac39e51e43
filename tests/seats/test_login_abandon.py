"""A login that failed after its seats were taken gives them back; when the database cannot be
reached then, the log says whose seat now waits for the sweep (seats/services/login.py)."""

import logging

import pytest
from django.db import DataError, connection, transaction

from seats.models import ReleaseReason, SeatLease
from seats.services.login import login_seats_abandon, login_seats_take
from tests.logs import records_of

from .seat_helpers import member, pool_in_use, setup_server

pytestmark = pytest.mark.django_db


def test_a_failed_logins_seat_is_given_back_as_login_failed(licensed_server):
    server, north = setup_server(licensed_server, ["agent:concurrent=1"])
    bob = member(north, "bob")
    seats = login_seats_take(user=bob, station=None)
    login_seats_abandon(seats=seats, user=bob)
    lease = SeatLease.objects.get()
    assert (lease.release_reason, lease.released_by) == (ReleaseReason.LOGIN_FAILED, bob)
    assert pool_in_use(server, "agent", "concurrent") == 0


def test_with_the_database_gone_the_log_says_whose_seat_waits_for_the_sweep(licensed_server):
    server, north = setup_server(licensed_server, ["agent:concurrent=1"])
    bob = member(north, "bob")
    seats = login_seats_take(user=bob, station=None)
    with transaction.atomic():
        with connection.cursor() as cursor:  # the transaction fails: every statement is refused
            with pytest.raises(DataError):
                cursor.execute("SELECT 1 / 0")
        with records_of("seats.services.login") as records:
            login_seats_abandon(seats=seats, user=bob)  # does not raise
        transaction.set_rollback(True)
    [record] = records
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "Login of bob failed; its seat waits for the sweep"
    assert record.exc_info is not None  # with the database's error
    assert SeatLease.objects.active().get() == seats.leases[0]  # still held: the sweep's now
