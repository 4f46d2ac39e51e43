"""``station_occupy`` at given moments: the refusal names who is there since when and the
server, the same user's older login there is ended as of the new one, the idle limit is a strict
bound, and a login in progress elsewhere is not touched."""

from datetime import timedelta

import pytest
from django.utils import timezone

from seats.models import ReleaseReason, StationOccupancy
from seats.services.stations import StationInUse, station_attach_session, station_occupy
from tests.factories import StationFactory

from .seat_helpers import member, setup_server

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(licensed_server):
    _, organization = setup_server(licensed_server, ["agent:assignable=3"])
    desk, other = (StationFactory(organization=organization, name=n) for n in ("Desk", "Other"))
    alice, dave = (member(organization, n, method="assigned") for n in ("alice", "dave"))
    return desk, other, alice, dave


def test_the_refusal_names_who_is_there_since_their_login_and_the_server(floor):
    desk, _, alice, dave = floor
    since = timezone.now() - timedelta(days=1, hours=3)
    station_occupy(station=desk, user=alice, session_key="a", now=since)
    StationOccupancy.objects.update(last_seen_at=timezone.now())

    with pytest.raises(StationInUse) as refused:
        station_occupy(station=desk, user=dave, session_key="d")

    local = timezone.localtime(since)
    assert refused.value.message.startswith(
        f"Station Desk is in use: alice has been logged in there since {local:%H:%M} "
        f"({local:%Y-%m-%d})."
    )
    assert (refused.value.server_id, refused.value.license_type) == ("CIC-SEATS", "")


def test_the_same_user_again_ends_their_login_in_progress_as_of_the_new_one_only(floor):
    """Logins whose session does not exist yet: alice's again at Desk ends her first as
    superseded at that moment; dave's at Other is not touched."""
    desk, other, alice, dave = floor
    start = timezone.now() - timedelta(minutes=3)
    first = station_occupy(station=desk, user=alice, now=start)
    daves = station_occupy(station=other, user=dave, now=start)
    assert (first.session_key, daves.session_key) == ("", "")
    again = start + timedelta(minutes=1)

    second = station_occupy(station=desk, user=alice, now=again)

    first.refresh_from_db()
    assert (first.ended_at, first.end_reason) == (again, ReleaseReason.SUPERSEDED)
    assert set(StationOccupancy.objects.filter(ended_at__isnull=True)) == {second, daves}


def test_a_station_seen_exactly_at_the_idle_limit_is_still_in_use(floor, settings):
    desk, _, alice, dave = floor
    seen = timezone.now() - timedelta(hours=1)
    station_occupy(station=desk, user=alice, session_key="a", now=seen)
    limit = seen + timedelta(minutes=settings.IWP_CONCURRENT_IDLE_MINUTES)

    with pytest.raises(StationInUse):
        station_occupy(station=desk, user=dave, session_key="d", now=limit)

    taken = station_occupy(
        station=desk, user=dave, session_key="d", now=limit + timedelta(microseconds=1)
    )
    assert StationOccupancy.objects.get(ended_at__isnull=True) == taken


def test_a_login_names_its_session_on_its_own_open_occupancy_only(floor):
    """Alice's first login at Desk, superseded before its session came, keeps no key; her second
    gets its session; dave's login at Other, still in progress, is not named."""
    desk, other, alice, dave = floor
    first = station_occupy(station=desk, user=alice)
    second = station_occupy(station=desk, user=alice)
    daves = station_occupy(station=other, user=dave)

    station_attach_session(occupancy=first, session_key="late")
    station_attach_session(occupancy=second, session_key="s2")

    keys = dict(StationOccupancy.objects.values_list("pk", "session_key"))
    assert keys == {first.pk: "", second.pk: "s2", daves.pk: ""}
