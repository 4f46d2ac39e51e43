"""A new station's name (station_create): required, one per organization whatever the case, with
one sentence for a name taken however it was found; and who made it, in the audit trail."""

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from organizations.models import Station
from seats.services.stations import station_create
from tests.factories import UserFactory
from tests.history import history

from .seat_helpers import setup_server

TAKEN = "Northwind has a station named “Desk 1” already: choose another name."


@pytest.fixture
def organization(licensed_server):
    return setup_server(licensed_server, ["agent:assignable=1"])[1]


def refused(organization, name) -> dict:
    with pytest.raises(ValidationError) as refusal:
        station_create(organization=organization, name=name, acting_user=None)
    return refusal.value.message_dict


@pytest.mark.django_db
def test_a_station_needs_a_name(organization):
    assert refused(organization, "") == {"name": ["This field cannot be blank."]}
    assert refused(organization, "   ") == {"name": ["This field cannot be blank."]}
    assert not Station.objects.exists()


@pytest.mark.django_db
def test_a_name_taken_exactly_is_refused_with_the_same_sentence_as_in_another_case(organization):
    station_create(organization=organization, name="Desk 1", acting_user=None)
    assert refused(organization, "Desk 1") == {"name": [TAKEN]}
    assert Station.objects.count() == 1


@pytest.mark.django_db
def test_the_audit_trail_names_who_made_the_station(organization):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    desk = station_create(organization=organization, name="Desk 1", acting_user=root)
    assert [(e.label, e.actor) for e in history(desk)] == [("insert", "root")]


def _wait_for_a_blocked_insert(timeout=30.0):
    with connection.cursor() as cursor:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("station_create never waited on the racer's row")


@pytest.mark.django_db(transaction=True)
def test_a_racer_writing_the_same_name_without_the_lock_gets_the_same_refusal(organization):
    """A station renamed meanwhile (a rename takes no lock of the organization's row, as a new
    station's key does): the check misses it, the unique constraint does not, and the refusal is
    the same sentence."""
    renamed = threading.Event()
    desk = Station.objects.create(organization=organization, name="Desk 0")

    def racer():
        try:
            with transaction.atomic():
                Station.objects.filter(pk=desk.pk).update(name="Desk 1")
                renamed.set()
                _wait_for_a_blocked_insert()  # station_create has checked and is inserting
        finally:
            connection.close()

    thread = threading.Thread(target=racer)
    thread.start()
    assert renamed.wait(30)
    try:
        assert refused(organization, "Desk 1") == {"name": [TAKEN]}
    finally:
        thread.join(30)
    assert list(Station.objects.values_list("name", flat=True)) == ["Desk 1"]
