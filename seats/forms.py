"""The login form: username, password and, for Assigned users, the station they log in at."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .services.leases import station_for_login


class SeatLoginForm(AuthenticationForm):
    station = forms.CharField(
        label=_("Station (optional)"),
        required=False,
        max_length=100,
        help_text=_("Assigned users: the station you are at, if it holds your seat."),
    )

    def clean(self):
        cleaned = super().clean()
        name = (cleaned.get("station") or "").strip()
        self.station_obj = None
        if name and self.user_cache is not None:
            self.station_obj = station_for_login(user=self.user_cache, name=name)
            if self.station_obj is None:
                raise forms.ValidationError(
                    _("There is no station named “%(name)s” in your organizations."),
                    params={"name": name},
                    code="unknown_station",
                )
        return cleaned
