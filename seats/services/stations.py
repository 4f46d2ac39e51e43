"""Stations: a new one in an organization (``station_create``, the admin's and the organization
administrator's), and one person at a time at a station: whoever holds the station's seat, a login
at a station takes the station for its session, and the next person is refused until that session
ends."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from licenses.audit import acting_as
from licenses.exceptions import LicenseMissing
from organizations.models import Organization, Station, User

from ..models import ReleaseReason, StationOccupancy
from .leases.release import idle_cutoff, sessions_end


def station_name_refusal(*, organization: Organization, name: str) -> str | None:
    """Why ``organization`` cannot have a new station named ``name`` (already stripped): it has
    one of that name, in any case (the login finds a station by its name whatever the case, so two
    would be ambiguous). None when it can."""
    if Station.objects.filter(organization=organization, name__iexact=name).exists():
        return _name_taken(organization, name)
    return None


def _name_taken(organization: Organization, name: str) -> str:
    return f"{organization.name} has a station named “{name}” already: choose another name."


def station_create(*, organization: Organization, name: str, acting_user: User | None) -> Station:
    """A new station of ``organization`` named ``name`` (spaces around it dropped). Raises
    ValidationError on ``name``: empty, too long, or taken (``station_name_refusal``)."""
    station = Station(organization=organization, name=(name or "").strip())
    station.full_clean(exclude=["organization"])  # the name per organization: checked below
    with transaction.atomic(), acting_as(acting_user):
        # The organization's row lock: two creations of one name take turns, and the second sees
        # the first whatever the case of its letters.
        Organization.objects.select_for_update().get(pk=organization.pk)
        refusal = station_name_refusal(organization=organization, name=station.name)
        try:
            if refusal is None:
                with transaction.atomic():
                    station.save()
        except IntegrityError:  # the constraint, should the check have missed a racer
            refusal = _name_taken(organization, station.name)
        if refusal is not None:
            raise ValidationError({"name": refusal})
    return station


class StationInUse(LicenseMissing):
    """Someone else is logged in at the station: nothing was changed."""


def station_check(*, station: Station, user: User) -> None:
    """Refuse (StationInUse, as ``station_occupy`` would) when someone else is logged in at
    ``station``: a login asks before it takes any seat, so a refused login changes nothing (a
    Concurrent user's seat taken over from their other session, for one). No lock:
    ``station_occupy`` decides, should another login take the station in between."""
    current = _held(station).first()
    if current is not None and _someone_else_there(current, user, timezone.now()):
        raise _in_use(station, current)


def station_occupy(
    *, station: Station, user: User, session_key: str = "", now: datetime | None = None
) -> StationOccupancy:
    """Take ``station`` for ``user``'s login, or refuse, naming who is logged in there and since
    when. The same user logging in there again supersedes their older session (signed out), and
    a session idle past IWP_CONCURRENT_IDLE_MINUTES gives the station up. The partial unique
    constraint decides between two logins at one station at the same moment."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            current = _held(station).select_for_update().first()
            if current is not None:
                if _someone_else_there(current, user, now):
                    raise _in_use(station, current)
                same_user = current.user_id == user.pk
                _end(
                    [current],
                    reason=ReleaseReason.SUPERSEDED if same_user else ReleaseReason.IDLE,
                    now=now,
                )
            return StationOccupancy.objects.create(
                station=station, user=user, session_key=session_key, since=now, last_seen_at=now
            )
    except IntegrityError:  # another login at this station took it at this moment
        current = _held(station).first()
        if current is None:
            raise
        raise _in_use(station, current) from None


def _held(station: Station):
    """The station's open occupancy (at most one: the partial unique constraint), with its user
    for the refusal."""
    return StationOccupancy.objects.select_related("user").filter(
        station=station, ended_at__isnull=True
    )


def _someone_else_there(current: StationOccupancy, user: User, now: datetime) -> bool:
    """Another user's session at the station, not idle past the limit."""
    return current.user_id != user.pk and current.last_seen_at >= idle_cutoff(now)


def _in_use(station: Station, current: StationOccupancy) -> StationInUse:
    since = timezone.localtime(current.since)
    return StationInUse(
        f"Station {station.name} is in use: {current.user.get_username()} has been logged in "
        f"there since {since:%H:%M} ({since:%Y-%m-%d}). One person at a time at a station: ask "
        "them to log out, or log in at another station.",
        server_id=station.organization.server.server_id,
        license_type="",
    )


def _end(occupancies, *, reason: str, now: datetime) -> None:
    # Ending a session frees its station; an occupancy without a session yet is ended here.
    keyless = [o.pk for o in occupancies if not o.session_key]
    if keyless:
        StationOccupancy.objects.filter(pk__in=keyless).update(ended_at=now, end_reason=reason)
    sessions_end({o.session_key for o in occupancies if o.session_key}, reason=reason, now=now)


def station_attach_session(*, occupancy: StationOccupancy, session_key: str) -> None:
    """Name the session that holds the station (known only once the login has created it)."""
    StationOccupancy.objects.filter(pk=occupancy.pk, ended_at__isnull=True).update(
        session_key=session_key
    )


def station_leave(
    *, session_key: str = "", occupancy: StationOccupancy | None = None, reason: str
) -> int:
    """The session (or the given occupancy) leaves its station; returns how many it left."""
    held = StationOccupancy.objects.filter(ended_at__isnull=True)
    held = (
        held.filter(pk=occupancy.pk)
        if occupancy is not None
        else held.filter(session_key=session_key)
    )
    if occupancy is None and not session_key:
        return 0
    return held.update(ended_at=timezone.now(), end_reason=reason)


def station_touch(*, session_key: str, now: datetime | None = None) -> int:
    """Mark the session's station as in use now; returns 1 while the session still holds it."""
    if not session_key:
        return 0
    return StationOccupancy.objects.filter(session_key=session_key, ended_at__isnull=True).update(
        last_seen_at=now or timezone.now()
    )
