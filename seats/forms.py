"""The login form: username, password and, for Assigned users, the station they log in at."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from organizations.models import User

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


class PasswordSetOrResetForm(PasswordResetForm):
    """ "Forgot your password?", and also "my account has none yet": users created without a
    password (the admin, the CSV import) choose theirs through the same e-mailed link. Django's
    own form skips such users silently."""

    def get_users(self, email):
        return User.objects.filter(email__iexact=email, is_active=True).exclude(email="")
