"""Forms of the portal: input validation only; the services decide."""

from django import forms
from django.core.exceptions import ValidationError

from licenses.models import ACCESS_TYPES
from organizations.models import Membership, Station, User

from .models import ScheduledReport
from .services.members import MANAGED_ROLES


class ServiceErrorsMixin:
    def add_service_errors(self, exc: ValidationError) -> None:
        """A service's ValidationError on the form: per field where it names one."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, exc)


class ScheduledReportForm(ServiceErrorsMixin, forms.ModelForm):
    class Meta:
        model = ScheduledReport
        fields = ["name", "frequency", "recipients", "is_active"]
        widgets = {
            "recipients": forms.Textarea(
                attrs={"rows": 3, "placeholder": "ann@example.com, bob@example.com"}
            )
        }

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {"name": d["name"], "frequency": d["frequency"], "recipients": d["recipients"]}

    def validate_unique(self):
        # The service (and the database constraint) decide uniqueness; the organization
        # is not a form field.
        pass


class MemberInviteForm(ServiceErrorsMixin, forms.Form):
    """A new member of the organization, invited to choose a password (services/members.py)."""

    username = forms.CharField(
        max_length=150,
        help_text="What they sign in with: letters, digits and @ . + - _ only.",
    )
    email = forms.EmailField(
        label="E-mail", help_text="The invitation to choose a password is sent here."
    )
    first_name = forms.CharField(label="First name", max_length=150, required=False)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    role = forms.ChoiceField(
        choices=[(r.value, r.label) for r in MANAGED_ROLES],
        initial=Membership.Role.AGENT,
        help_text="A supervisor needs a Supervisor access seat, an agent an Agent access seat.",
    )
    license_method = forms.ChoiceField(
        label="Method",
        choices=User.LicenseMethod.choices,
        initial=User.LicenseMethod.ASSIGNED,
        help_text=User._meta.get_field("license_method").help_text,
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=[(r.value, r.label) for r in MANAGED_ROLES])


class StationForm(ServiceErrorsMixin, forms.Form):
    """A new station of the organization: its name, as the admin's station form asks."""

    name = forms.CharField(
        label="Name",
        max_length=Station._meta.get_field("name").max_length,
        help_text="What people type in the Station field when they sign in there, e.g. Desk 12. "
        "Unique in the organization, whatever the case of its letters.",
    )


class MethodForm(forms.Form):
    method = forms.ChoiceField(label="Method", choices=User.LicenseMethod.choices)


class StationSeatForm(forms.Form):
    license_type = forms.ChoiceField(choices=[(t.value, t.label) for t in ACCESS_TYPES])


class ProfileForm(forms.Form):
    threshold_alert_mail = forms.BooleanField(
        label="E-mail me when my organization's seats reach an alert threshold",
        required=False,
    )
