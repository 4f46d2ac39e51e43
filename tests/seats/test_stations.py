"""One person at a time at a station, whoever holds the station's seat."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from organizations.models import Station
from seats.models import SeatLease, StationOccupancy
from seats.services.assignments import seat_assign
from tests.concurrency import race

from .seat_helpers import login, member, pool_in_use, setup_server

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def floor(licensed_server, people):
    server, organization = setup_server(licensed_server, ["agent:assignable=5"])
    desk = Station.objects.create(organization=organization, name="CI-Floor-A")
    seat_assign(station=desk)
    return desk, [member(organization, name, method="assigned") for name in people]


@pytest.mark.django_db
def test_a_second_person_at_a_station_is_refused_with_who_is_there_and_since_when(
    licensed_server,
):
    desk, _ = floor(licensed_server, ["alice", "dave"])
    alice = Client()
    assert login(alice, "alice", station="CI-Floor-A").status_code == 302
    since = timezone.localtime(StationOccupancy.objects.get().since)

    dave = Client()
    refused = login(dave, "dave", station="ci-floor-a")
    assert refused.status_code == 200
    assert (
        f"Station CI-Floor-A is in use: alice has been logged in there since {since:%H:%M}"
        in refused.content.decode()
    )
    assert "_auth_user_id" not in dave.session  # no session for dave

    assert alice.post("/accounts/logout/").status_code == 302
    assert login(dave, "dave", station="CI-Floor-A").status_code == 302
    assert StationOccupancy.objects.get(ended_at__isnull=True).user.username == "dave"


@pytest.mark.django_db
def test_the_same_user_logging_in_again_at_the_station_signs_their_older_session_out(
    licensed_server,
):
    floor(licensed_server, ["alice"])
    first, second = Client(), Client()
    assert login(first, "alice", station="CI-Floor-A").status_code == 302
    assert login(second, "alice", station="CI-Floor-A").status_code == 302
    assert first.get("/portal/").status_code == 302  # signed out: back to the login page
    assert second.get("/portal/").status_code == 200
    assert StationOccupancy.objects.filter(ended_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_a_station_left_idle_is_given_up_to_the_next_person(licensed_server, settings):
    floor(licensed_server, ["alice", "dave"])
    alice = Client()
    assert login(alice, "alice", station="CI-Floor-A").status_code == 302
    StationOccupancy.objects.update(
        last_seen_at=timezone.now() - timedelta(minutes=settings.IWP_CONCURRENT_IDLE_MINUTES + 1)
    )
    assert login(Client(), "dave", station="CI-Floor-A").status_code == 302
    assert alice.get("/portal/").status_code == 302  # the idle session is signed out


@pytest.mark.django_db(transaction=True)
def test_eight_people_logging_in_at_one_station_at_once_one_gets_in(licensed_server, settings):
    settings.PASSWORD_HASHERS = FAST_HASHER
    people = [f"agent{i}" for i in range(8)]
    floor(licensed_server, people)
    responses = race(8, lambda i: login(Client(), people[i], station="CI-Floor-A"))

    codes = [r.status_code for r in responses]
    assert codes.count(302) == 1 and codes.count(200) == 7, codes
    [holder] = StationOccupancy.objects.filter(ended_at__isnull=True)
    for response in responses:
        if response.status_code == 200:
            assert f"{holder.user.username} has been logged in there" in response.content.decode()


@pytest.mark.django_db
def test_a_login_refused_at_a_busy_station_leaves_the_users_other_session_as_it_was(
    licensed_server,
):
    """carl is logged in on his PC. His login at Desk, where alice is, is refused before it takes
    anything: his PC keeps its session and its seat (a login that went through would have taken
    the seat over and signed the PC out)."""
    server, organization = setup_server(
        licensed_server, ["agent:assignable=5", "agent:concurrent=2"]
    )
    desk = Station.objects.create(organization=organization, name="CI-Floor-A")
    seat_assign(station=desk)
    member(organization, "alice", method="assigned")
    member(organization, "carl")
    assert login(Client(), "alice", station="CI-Floor-A").status_code == 302
    pc = Client()
    assert login(pc, "carl").status_code == 302
    held = SeatLease.objects.active().get(user__username="carl")

    refused = login(Client(), "carl", station="CI-Floor-A")

    assert refused.status_code == 200
    assert (
        "Station CI-Floor-A is in use: alice has been logged in there" in refused.content.decode()
    )
    assert SeatLease.objects.get(user__username="carl") == held  # the only one, still held
    assert SeatLease.objects.active().filter(pk=held.pk).exists()
    assert pc.get("/portal/me/").status_code == 200
    assert pool_in_use(server, "agent", "concurrent") == 1
