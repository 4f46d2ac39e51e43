"""Login and logout: where a Concurrent seat is taken or refused, and given back."""

import logging

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db import DatabaseError

from licenses.exceptions import LicenseLimitReached

from .forms import SeatLoginForm
from .models import ReleaseReason
from .services.leases import (
    NoSeatAssigned,
    assigned_seat_check,
    lease_acquire,
    lease_attach_session,
    lease_release,
)
from .services.stations import (
    StationInUse,
    station_attach_session,
    station_leave,
    station_occupy,
)

# The session's leases, read by the seat middleware, and the station an Assigned user logged in at,
# read by the portal's feature gate (which counts that station's seat).
LEASES_SESSION_KEY = "iwp_lease_ids"
logger = logging.getLogger(__name__)
STATION_SESSION_KEY = "iwp_station_id"


class SeatLoginView(auth_views.LoginView):
    """Log in only with a seat: a Concurrent user takes one, an Assigned user must hold one
    (or their station)."""

    form_class = SeatLoginForm
    template_name = "registration/login.html"

    def form_valid(self, form):
        user, station = form.get_user(), form.station_obj
        leases, occupancy = [], None
        try:
            assigned_seat_check(user=user, station=station)
            leases = lease_acquire(user=user)
            if station is not None:
                occupancy = station_occupy(station=station, user=user)
        except (LicenseLimitReached, NoSeatAssigned, StationInUse) as exc:
            # Refused: no session is created (a refused seat is recorded by lease_acquire).
            lease_release(leases=leases, acting_user=user, end_sessions=False)
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        try:
            response = super().form_valid(form)  # auth.login(): the session now exists
        except Exception:
            try:
                lease_release(
                    leases=leases,
                    reason=ReleaseReason.LOGIN_FAILED,
                    acting_user=user,
                    end_sessions=False,
                )
                if occupancy is not None:
                    station_leave(occupancy=occupancy, reason=ReleaseReason.LOGIN_FAILED)
            except DatabaseError:
                # The connection is gone: the sweep gives back a seat that never got its
                # session within a minute (lease_release_idle).
                logger.exception("Login of %s failed; its seat waits for the sweep", user)
            raise
        session_key = self.request.session.session_key
        if leases:
            lease_attach_session(leases=leases, session_key=session_key)
            self.request.session[LEASES_SESSION_KEY] = [lease.pk for lease in leases]
        if occupancy is not None:
            station_attach_session(occupancy=occupancy, session_key=session_key)
            self.request.session[STATION_SESSION_KEY] = station.pk
        return response


class SeatLogoutView(auth_views.LogoutView):
    """Log out and give the session's Concurrent seat back, at once."""

    def post(self, request, *args, **kwargs):
        released = []
        if request.user.is_authenticated and request.session.session_key:
            released = lease_release(
                session_key=request.session.session_key,
                acting_user=request.user,
                end_sessions=False,
            )
            station_leave(session_key=request.session.session_key, reason=ReleaseReason.LOGOUT)
        response = super().post(request, *args, **kwargs)
        if released:
            messages.info(request, "You are logged out; your seat is free for someone else.")
        return response
