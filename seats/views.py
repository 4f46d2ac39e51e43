"""Login and logout: where a Concurrent seat is taken or refused, and given back."""

from django.contrib import messages
from django.contrib.auth import views as auth_views

from licenses.exceptions import LicenseLimitReached

from .forms import SeatLoginForm
from .models import ReleaseReason
from .services.leases import NoSeatAssigned, lease_release
from .services.login import login_seats_abandon, login_seats_attach, login_seats_take
from .services.stations import StationInUse, station_leave

# The session's leases, read by the seat middleware, and the station an Assigned user logged in at,
# read by the portal's feature gate (which counts that station's seat).
LEASES_SESSION_KEY = "iwp_lease_ids"
STATION_SESSION_KEY = "iwp_station_id"


class SeatLoginView(auth_views.LoginView):
    """Log in only with a seat: a Concurrent user takes one, an Assigned user must hold one
    (or their station)."""

    form_class = SeatLoginForm
    template_name = "registration/login.html"

    def form_valid(self, form):
        user = form.get_user()
        try:
            seats = login_seats_take(user=user, station=form.station_obj)
        except (LicenseLimitReached, NoSeatAssigned, StationInUse) as exc:
            form.add_error(None, exc.message)  # refused: no session is created
            return self.form_invalid(form)
        try:
            response = super().form_valid(form)  # auth.login(): the session now exists
        except Exception:
            login_seats_abandon(seats=seats, user=user)
            raise
        login_seats_attach(seats=seats, session_key=self.request.session.session_key)
        if seats.leases:
            self.request.session[LEASES_SESSION_KEY] = [lease.pk for lease in seats.leases]
        if seats.occupancy is not None:
            self.request.session[STATION_SESSION_KEY] = form.station_obj.pk
        return response


class SeatLogoutView(auth_views.LogoutView):
    """Log out and give the session's Concurrent seat back, at once."""

    def post(self, request, *args, **kwargs):
        released = []
        session = request.session
        if request.user.is_authenticated and session.session_key:
            # What the session holds is in it since its login: nothing held, nothing to write.
            if session.get(LEASES_SESSION_KEY):
                released = lease_release(
                    session_key=session.session_key, acting_user=request.user, end_sessions=False
                )
            if session.get(STATION_SESSION_KEY) is not None:
                station_leave(session_key=session.session_key, reason=ReleaseReason.LOGOUT)
        response = super().post(request, *args, **kwargs)
        if released:
            messages.info(request, "You are logged out; your seat is free for someone else.")
        return response
